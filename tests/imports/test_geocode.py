"""Geocoding rows with an address and no coordinates: AMap (signed with a secret) and Tianditu, each
against a local HTTP server that speaks the provider's documented API and checks the request."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from sqlalchemy import select

from backend.imports import service
from backend.imports.crs import Crs, gcj02_to_wgs84
from backend.imports.tables import FileFormat
from backend.institutions.models import Institution
from tests.conftest import make_settings
from tests.imports.helpers import inst_file, inst_row, uscc

AMAP_KEY, AMAP_SECRET, TDT_KEY = "amap-test-key", "amap-test-secret", "tdt-test-key"
POINT_GCJ = (125.1432, 46.5631)  # what the AMap server answers (GCJ-02), in 龙凤区
POINT_WGS = (125.1377, 46.5652)  # what the Tianditu server answers (CGCS2000 ~ WGS-84)


@dataclass
class Provider:
    base_url: str = ""
    requests: list[dict[str, str]] = field(default_factory=list)


def _amap(provider: Provider):
    async def geo(request: web.Request) -> web.Response:
        params = dict(request.query)
        provider.requests.append(dict(params))
        # AMap web service: key required; with a secret, sig = md5(sorted "k=v" joined by "&" + secret).
        if params.get("key") != AMAP_KEY:
            return web.json_response({"status": "0", "info": "INVALID_USER_KEY", "infocode": "10001"})
        sig = params.pop("sig", None)
        expected = hashlib.md5(
            ("&".join(f"{k}={params[k]}" for k in sorted(params)) + AMAP_SECRET).encode()
        ).hexdigest()
        if sig != expected:
            return web.json_response({"status": "0", "info": "INVALID_USER_SIGNATURE", "infocode": "10007"})
        if params.get("city") != "大庆" or not params.get("address"):
            return web.json_response({"status": "0", "info": "INVALID_PARAMS", "infocode": "20000"})
        if "查无此地" in params["address"]:
            return web.json_response({"status": "1", "info": "OK", "infocode": "10000", "count": "0", "geocodes": []})
        return web.json_response({
            "status": "1", "info": "OK", "infocode": "10000", "count": "1",
            "geocodes": [{"formatted_address": "黑龙江省大庆市" + params["address"], "province": "黑龙江省",
                          "city": "大庆市", "level": "门牌号", "location": f"{POINT_GCJ[0]},{POINT_GCJ[1]}"}],
        })  # fmt: skip

    return geo


def _tianditu(provider: Provider):
    async def geocoder(request: web.Request) -> web.Response:
        params = dict(request.query)
        provider.requests.append(params)
        if params.get("tk") != TDT_KEY:
            return web.json_response({"status": "1", "msg": "权限验证失败"}, status=403)
        keyword = json.loads(params["ds"])["keyWord"]
        return web.json_response({
            "msg": "ok", "status": "0", "searchVersion": "6.4.9V",
            "location": {"score": 100, "level": "门址", "lon": POINT_WGS[0], "lat": POINT_WGS[1], "keyWord": keyword},
        })  # fmt: skip

    return geocoder


@pytest.fixture
async def providers() -> AsyncIterator[tuple[Provider, Provider]]:
    amap, tdt = Provider(), Provider()
    app = web.Application()
    app.router.add_get("/amap/v3/geocode/geo", _amap(amap))
    app.router.add_get("/tdt/geocoder", _tianditu(tdt))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    amap.base_url, tdt.base_url = f"http://127.0.0.1:{port}/amap", f"http://127.0.0.1:{port}/tdt"
    try:
        yield amap, tdt
    finally:
        await runner.cleanup()


def no_coordinates(seed: int, **over: str) -> list[str]:
    return inst_row(seed, 经度="", 纬度="", 所属区县="龙凤区", 地址=over.pop("地址", f"龙凤区世纪大道{seed}号"), **over)


async def test_amap_geocodes_with_a_signature_and_apply_reuses_the_points(db, providers):
    amap, _ = providers
    settings = make_settings(amap_key=AMAP_KEY, amap_secret=AMAP_SECRET, amap_base_url=amap.base_url)
    content = inst_file([no_coordinates(401), no_coordinates(402, 地址="查无此地1号"), inst_row(403)], FileFormat.CSV)
    run = await service.dry_run(
        db, settings, kind="institutions", content=content, filename="f", crs=Crs.GCJ02, actor=None, via="cli"
    )
    codes = {(p["row"], p["code"]) for p in run.problems}
    assert (2, "geocoded") in codes and (3, "geocode_not_found") in codes
    assert len(amap.requests) == 2 and all("sig" in r for r in amap.requests)
    assert amap.requests[0]["address"] == "龙凤区世纪大道401号"
    assert run.error_count == 1
    ok = inst_file([no_coordinates(401), inst_row(403)], FileFormat.CSV)
    run = await service.dry_run(db, settings, kind="institutions", content=ok, filename="f", crs=Crs.GCJ02,
                                actor=None, via="cli")  # fmt: skip
    assert run.error_count == 0
    asked = len(amap.requests)
    await service.apply(db, settings, run.id, None)
    assert len(amap.requests) == asked  # the dry run's points, not a second lookup
    inst = (await db.execute(select(Institution).where(Institution.registration_no == uscc(401)))).scalar_one()
    assert (inst.lng, inst.lat) == pytest.approx(gcj02_to_wgs84(*POINT_GCJ), abs=1e-7)


async def test_a_wrong_amap_signature_is_a_row_error_not_a_crash(db, providers):
    amap, _ = providers
    settings = make_settings(amap_key=AMAP_KEY, amap_secret="wrong-secret", amap_base_url=amap.base_url)
    run = await service.dry_run(db, settings, kind="institutions", content=inst_file([no_coordinates(411)]),
                                filename="f", crs=Crs.WGS84, actor=None, via="cli")  # fmt: skip
    assert [p["code"] for p in run.problems if p["level"] == "error"] == ["geocode_failed"]


async def test_tianditu_geocodes_when_it_is_the_configured_key(db, providers):
    _, tdt = providers
    settings = make_settings(tianditu_key=TDT_KEY, tianditu_base_url=tdt.base_url)
    run = await service.dry_run(db, settings, kind="rooms", content=_room_without_point(), filename="f",
                                crs=Crs.GCJ02, actor=None, via="cli")  # fmt: skip
    assert run.error_count == 0, run.problems
    assert json.loads(tdt.requests[0]["ds"]) == {"keyWord": "大庆市让胡路区站前路1号"}
    await service.apply(db, settings, run.id, None)
    from backend.rooms.models import Room

    room = (await db.execute(select(Room).where(Room.source_id == "TDT-1"))).scalar_one()
    assert (room.lng, room.lat) == pytest.approx(POINT_WGS, abs=1e-7)  # no conversion: CGCS2000 is WGS-84


def _room_without_point() -> bytes:
    from backend.imports.tables import write_table

    return write_table(
        FileFormat.CSV, ["来源编号", "母婴室名称", "地址"], [["TDT-1", "站前母婴室", "让胡路区站前路1号"]]
    )
