"""Coordinate systems of imported files, and conversion to WGS-84 (what the database stores).

* WGS-84: GPS, Tianditu (CGCS2000 is within centimetres of it), Open311.
* GCJ-02 (国测局坐标, "Mars coordinates"): AMap (高德), Tencent. A published, deterministic offset of
  WGS-84; the forward formula is the widely published one (also what ``gcoord`` in the PWA uses).
  There is no closed-form inverse: ``gcj02_to_wgs84`` iterates the forward formula until the point
  maps back onto the given one within a millimetre.
* BD-09: Baidu. A further published offset of GCJ-02 (closed form; the inverse refined by iteration).

No maintained Python package does this (the PyPI ones are unmaintained single-file copies of the
same formulas), so the formulas live here, tested against published reference points.

``in_daqing`` is the area check of an import: a bounding box of the ten units with a margin of
about 20 km; a converted point outside it is a row error.
"""

from __future__ import annotations

import math
from enum import StrEnum


class Crs(StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


CRS_LABELS_ZH = {Crs.WGS84: "WGS-84（GPS、天地图）", Crs.GCJ02: "GCJ-02（高德、腾讯）", Crs.BD09: "BD-09（百度）"}

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by the GCJ-02 formula
_EE = 0.00669342162296594323  # its eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0


def _out_of_china(lng: float, lat: float) -> bool:
    return not (73.66 < lng < 135.05 and 3.86 < lat < 53.55)


def _d_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _d_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lng: float, lat: float) -> tuple[float, float]:
    if _out_of_china(lng, lat):
        return lng, lat
    dlat = _d_lat(lng - 105.0, lat - 35.0)
    dlng = _d_lng(lng - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return lng + dlng, lat + dlat


def gcj02_to_wgs84(lng: float, lat: float) -> tuple[float, float]:
    """The WGS-84 point whose GCJ-02 image is (lng, lat), to within 1e-9 degrees (fixed-point iteration)."""
    if _out_of_china(lng, lat):
        return lng, lat
    w_lng, w_lat = lng, lat
    for _ in range(30):
        g_lng, g_lat = wgs84_to_gcj02(w_lng, w_lat)
        d_lng, d_lat = g_lng - lng, g_lat - lat
        if abs(d_lng) < 1e-9 and abs(d_lat) < 1e-9:
            break
        w_lng, w_lat = w_lng - d_lng, w_lat - d_lat
    return w_lng, w_lat


def gcj02_to_bd09(lng: float, lat: float) -> tuple[float, float]:
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def bd09_to_gcj02(lng: float, lat: float) -> tuple[float, float]:
    """The published closed-form inverse (good to about 10 cm), refined by iterating the forward
    formula so that export → import round trips to within 1e-9 degrees."""
    x, y = lng - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    g_lng, g_lat = z * math.cos(theta), z * math.sin(theta)
    for _ in range(10):
        b_lng, b_lat = gcj02_to_bd09(g_lng, g_lat)
        d_lng, d_lat = b_lng - lng, b_lat - lat
        if abs(d_lng) < 1e-10 and abs(d_lat) < 1e-10:
            break
        g_lng, g_lat = g_lng - d_lng, g_lat - d_lat
    return g_lng, g_lat


def to_wgs84(crs: Crs, lng: float, lat: float) -> tuple[float, float]:
    if crs is Crs.GCJ02:
        return gcj02_to_wgs84(lng, lat)
    if crs is Crs.BD09:
        return gcj02_to_wgs84(*bd09_to_gcj02(lng, lat))
    return lng, lat


def from_wgs84(crs: Crs, lng: float, lat: float) -> tuple[float, float]:
    """For exports in the coordinate system a department asks for."""
    if crs is Crs.GCJ02:
        return wgs84_to_gcj02(lng, lat)
    if crs is Crs.BD09:
        return gcj02_to_bd09(*wgs84_to_gcj02(lng, lat))
    return lng, lat


# The ten units span about 45.4-47.5 N and 123.8-125.8 E (Zhaoyuan in the south, Lindian in the
# north, Durbat in the west); the box adds about 20 km on every side.
DAQING_BOX = (45.15, 47.80, 123.45, 126.10)  # south, north, west, east (WGS-84 degrees)


def in_daqing(lng: float, lat: float) -> bool:
    south, north, west, east = DAQING_BOX
    return south <= lat <= north and west <= lng <= east
