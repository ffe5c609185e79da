"""Geocoding of imported rows that give an address but no coordinates.

One small interface (``Geocoder.locate``: an address → a WGS-84 point or None) with two providers:

* **AMap** (高德 Web服务 API, 地理编码): ``GET {base}/v3/geocode/geo?key=…&address=…&city=大庆``;
  answers ``{"status": "1", "geocodes": [{"location": "lng,lat", "level": …}]}`` in GCJ-02, which
  is converted to WGS-84. With a secret (数字签名), the request carries
  ``sig = md5("k1=v1&k2=v2…" sorted by key + secret)``.
* **Tianditu** (天地图 地理编码): ``GET {base}/geocoder?ds={"keyWord": …}&tk=…``; answers
  ``{"status": "0", "location": {"lon": …, "lat": …, "score": …}}`` in CGCS2000 (WGS-84 within
  centimetres).

``from_settings`` returns a geocoder only when a key is configured (AMAP_KEY, else TIANDITU_KEY):
without one, nothing is geocoded and such rows are errors naming the missing service. An answer
outside Daqing is not used (the row is an error).
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any, Protocol

import aiohttp

from backend.core.config import Settings
from backend.imports.crs import gcj02_to_wgs84, in_daqing
from backend.imports.pipeline import Row

log = logging.getLogger("backend.imports.geocode")
CITY = "大庆"
MAX_PER_FILE = 2000


class Provider(Protocol):
    name: str

    async def locate(self, session: aiohttp.ClientSession, address: str) -> tuple[float, float] | None: ...


class AMap:
    name = "amap"

    def __init__(self, key: str, secret: str = "", base_url: str = "https://restapi.amap.com") -> None:
        self.key, self.secret, self.base_url = key, secret, base_url.rstrip("/")

    def params(self, address: str) -> dict[str, str]:
        params = {"key": self.key, "address": address, "city": CITY, "output": "JSON"}
        if self.secret:
            params["sig"] = amap_sig(params, self.secret)
        return params

    async def locate(self, session: aiohttp.ClientSession, address: str) -> tuple[float, float] | None:
        async with session.get(f"{self.base_url}/v3/geocode/geo", params=self.params(address)) as resp:
            body = await resp.json(content_type=None)
        if str(body.get("status")) != "1":
            raise GeocodeError(f"amap: {body.get('info')} ({body.get('infocode')})")
        for item in body.get("geocodes") or []:
            lng_text, _, lat_text = str(item.get("location", "")).partition(",")
            try:
                return gcj02_to_wgs84(float(lng_text), float(lat_text))
            except ValueError:
                continue
        return None


def amap_sig(params: dict[str, str], secret: str) -> str:
    """AMap's digital signature: the parameters sorted by name, joined as k=v with &, then the secret, MD5."""
    joined = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "sig")
    return hashlib.md5((joined + secret).encode("utf-8")).hexdigest()  # noqa: S324 - AMap's scheme


class Tianditu:
    name = "tianditu"

    def __init__(self, key: str, base_url: str = "https://api.tianditu.gov.cn") -> None:
        self.key, self.base_url = key, base_url.rstrip("/")

    async def locate(self, session: aiohttp.ClientSession, address: str) -> tuple[float, float] | None:
        ds = json.dumps({"keyWord": address if address.startswith(CITY) else f"{CITY}市{address}"}, ensure_ascii=False)
        async with session.get(f"{self.base_url}/geocoder", params={"ds": ds, "tk": self.key}) as resp:
            body = await resp.json(content_type=None)
        if str(body.get("status")) != "0":
            raise GeocodeError(f"tianditu: {body.get('msg')}")
        location = body.get("location") or {}
        try:
            return float(location["lon"]), float(location["lat"])
        except (KeyError, TypeError, ValueError):
            return None


class GeocodeError(Exception):
    pass


class Geocoder:
    """Geocodes the rows of one file (one HTTP session, at most MAX_PER_FILE lookups)."""

    def __init__(self, provider: Provider, timeout_s: float = 10.0) -> None:
        self.provider = provider
        self.timeout_s = timeout_s
        self.used = 0
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Geocoder:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout_s))
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self._session is not None:
            await self._session.close()

    async def locate_row(self, row: Row, address: str) -> tuple[float, float] | None:
        if self.used >= MAX_PER_FILE:
            row.error("geocode_limit", f"每个文件最多按地址解析{MAX_PER_FILE}行，请补充经纬度", "经度")
            return None
        self.used += 1
        assert self._session is not None, "use the geocoder as an async context manager"
        try:
            point = await self.provider.locate(self._session, address)
        except (aiohttp.ClientError, TimeoutError, GeocodeError, ValueError) as exc:
            log.warning("geocoding failed for row %d: %s", row.number, exc)
            row.error("geocode_failed", "地址解析服务暂不可用，请稍后重试或补充经纬度", "经度")
            return None
        if point is None:
            row.error("geocode_not_found", "按地址未能解析出坐标，请补充经纬度", "地址")
            return None
        if not in_daqing(*point):
            row.error("outside_daqing", "按地址解析的坐标不在大庆市范围内，请补充经纬度", "地址")
            return None
        row.warn("geocoded", f"坐标由地址解析得到（{self.provider.name}），请核对", "经度")
        return round(point[0], 7), round(point[1], 7)


def from_settings(settings: Settings) -> Geocoder | None:
    if settings.amap_key:
        return Geocoder(AMap(settings.amap_key, settings.amap_secret, settings.amap_base_url))
    if settings.tianditu_key:
        return Geocoder(Tianditu(settings.tianditu_key, settings.tianditu_base_url))
    return None
