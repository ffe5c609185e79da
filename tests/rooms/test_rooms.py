"""Mother-and-baby rooms: facts with history, nearby search with filters and "open now", the map
viewport, GeoJSON export, and bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text

from backend.core.authz import Role
from backend.core.clock import local_now
from backend.rooms.models import Room, RoomRevision
from backend.rooms.schemas import RoomMarker, RoomOut
from tests.strict import strict

ALL_WEEK = [{"days": [1, 2, 3, 4, 5, 6, 7], "opens": "00:00", "closes": "24:00"}]


def facts(**kw):
    base = {
        "name": "测试母婴室",
        "venue": "大庆站",
        "venue_type": "transport_hub",
        "address": "大庆市萨尔图区站前路",
        "location_hint": "二楼候车厅东侧",
        "lat": 46.63,
        "lng": 125.11,
        "opening_hours": ALL_WEEK,
        "amenities": ["changing_table", "nursing_chair"],
        "area_m2": 12,
    }
    base.update(kw)
    return base


@pytest.fixture
async def admin(factory):
    return (await factory.signed_in(Role.CITY_ADMIN))[1]


async def add(client, admin, **kw) -> RoomOut:
    r = await client.post("/api/rooms", headers=admin, json=facts(**kw))
    assert r.status_code == 201, r.text
    return strict(r.content, RoomOut)


async def test_a_room_is_added_found_nearby_and_changed_with_history(client, db, admin, factory):
    near = await add(client, admin, name="近的", lat=46.6301, lng=125.1101)
    far = await add(client, admin, name="远的", lat=46.65, lng=125.15, amenities=["changing_table"])
    r = await client.get("/api/rooms/nearby", params={"lat": 46.63, "lng": 125.11, "radius_m": 10000})
    found = strict(r.content, list[RoomOut])
    assert [x.id for x in found[:2]] == [near.id, far.id]
    assert found[0].distance_m < found[1].distance_m and found[0].open_now
    # Amenities: all of those asked.
    r = await client.get(
        "/api/rooms/nearby",
        params=[
            ("lat", 46.63),
            ("lng", 125.11),
            ("radius_m", 10000),
            ("amenity", "changing_table"),
            ("amenity", "nursing_chair"),
        ],
    )
    assert [x["id"] for x in r.json()] == [str(near.id)]
    # Radius is exact: the far one (about 3.5 km) is outside 1 km.
    r = await client.get("/api/rooms/nearby", params={"lat": 46.63, "lng": 125.11, "radius_m": 1000})
    assert [x["id"] for x in r.json()] == [str(near.id)]

    # A manager (named by the city admin) changes the facts: a new version, kept in the history.
    manager, manager_headers = await factory.signed_in(Role.PARENT)
    assert (await client.put(f"/api/rooms/{near.id}/managers/{manager.id}", headers=admin)).status_code == 204
    r = await client.put(f"/api/rooms/{near.id}", headers=manager_headers, json=facts(name="近的（已搬到三楼）"))
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    versions = (await db.execute(select(RoomRevision.version).where(RoomRevision.room_id == near.id))).scalars().all()
    assert sorted(versions) == [1, 2]
    # Someone who does not manage it cannot.
    _other, other_headers = await factory.signed_in(Role.PARENT)
    assert (await client.put(f"/api/rooms/{near.id}", headers=other_headers, json=facts())).status_code == 404
    assert (await client.post("/api/rooms", headers=other_headers, json=facts())).status_code == 403


async def test_open_now_follows_daqing_time_and_todays_exception(client, admin):
    today = local_now().date()
    closed_today = await add(
        client, admin, name="今天闭馆", exceptions=[{"date": today.isoformat(), "closed": True, "note": "设备检修"}]
    )
    now = local_now()
    # A room open only in an hour that has just passed (in Daqing time), every day.
    start = (now - dt.timedelta(hours=2)).strftime("%H:%M")
    end = (now - dt.timedelta(hours=1)).strftime("%H:%M")
    just_closed = None
    if start < end:  # (near midnight the window would wrap around; then only the other rooms are checked)
        just_closed = await add(
            client, admin, name="刚关门", opening_hours=[{"days": [1, 2, 3, 4, 5, 6, 7], "opens": start, "closes": end}]
        )
    open_all_day = await add(client, admin, name="全天开放")
    r = await client.get("/api/rooms/nearby", params={"lat": 46.63, "lng": 125.11, "open_now": "true"})
    ids = {x["id"] for x in r.json()}
    assert str(open_all_day.id) in ids and str(closed_today.id) not in ids
    assert just_closed is None or str(just_closed.id) not in ids
    assert all(x["open_now"] for x in r.json())
    detail = (await client.get(f"/api/rooms/{closed_today.id}")).json()
    assert detail["open_now"] is False and detail["exceptions"][0]["closed"] is True


async def test_the_viewport_returns_light_markers_within_the_box(client, admin):
    inside = await add(client, admin, lat=46.60, lng=125.10)
    await add(client, admin, lat=45.50, lng=125.10)
    r = await client.get("/api/rooms/viewport", params={"south": 46.5, "west": 125.0, "north": 46.7, "east": 125.2})
    markers = strict(r.content, list[RoomMarker])
    assert inside.id in {m.id for m in markers} and all(46.5 <= m.lat <= 46.7 for m in markers)


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"south": 46.7, "west": 125.0, "north": 46.5, "east": 125.2}, 422),  # inverted
        ({"south": 46.5, "west": 125.2, "north": 46.7, "east": 125.0}, 422),  # inverted
        ({"south": 44.0, "west": 123.0, "north": 48.0, "east": 127.0}, 422),  # too large
        ({"south": 46.5, "west": 125.0, "north": 95, "east": 125.2}, 400),  # not a latitude
        ({"south": 46.5, "west": 125.0, "north": 46.7, "east": 125.2, "limit": 100000}, 400),
    ],
)
async def test_bad_viewports_are_refused(client, params, status):
    r = await client.get("/api/rooms/viewport", params=params)
    assert r.status_code == status, r.text


BAD_FACTS = [
    {"amenities": ["hot_tub"]},
    {"venue_type": "spaceport"},
    {"opening_hours": [{"days": [1], "opens": "18:00", "closes": "09:00"}]},
    {"opening_hours": [{"days": [8], "opens": "09:00", "closes": "18:00"}]},
    {"opening_hours": [{"days": [1], "opens": "9am", "closes": "18:00"}]},
    {"exceptions": [{"date": "2026-12-25", "closed": True, "opens": "09:00", "closes": "10:00"}]},
    {"exceptions": [{"date": "2026-12-25", "closed": False}]},
    {"exceptions": [{"date": "2026-12-25", "closed": True}, {"date": "2026-12-25", "closed": True}]},
    {"lat": 91},
    {"lat": 0, "lng": 0},  # outside Daqing
    {"name": "<b>x</b>"},
    {"area_m2": 0},
]


@pytest.mark.parametrize("bad", BAD_FACTS, ids=range(len(BAD_FACTS)))
async def test_bad_room_facts_get_a_clear_4xx_and_write_nothing(client, db, admin, bad):
    before = await db.scalar(select(func.count()).select_from(Room))
    r = await client.post("/api/rooms", headers=admin, json=facts(**bad))
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["detail_zh"]
    assert await db.scalar(select(func.count()).select_from(Room)) == before


async def test_geojson_exports_are_cacheable(client, admin):
    room = await add(client, admin)
    r = await client.get("/api/map/rooms.geojson")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    collection = r.json()
    feature = next(f for f in collection["features"] if f["id"] == str(room.id))
    assert feature["geometry"] == {"type": "Point", "coordinates": [125.11, 46.63]}  # [lng, lat] (RFC 7946)
    tag = r.headers["etag"]
    again = await client.get("/api/map/rooms.geojson", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    await add(client, admin, name="另一间")
    changed = await client.get("/api/map/rooms.geojson", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    inst = await client.get("/api/map/institutions.geojson")
    assert inst.status_code == 200 and inst.json()["type"] == "FeatureCollection"


async def test_nearby_reads_the_gist_index(db):
    await db.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(
        r[0]
        for r in (
            await db.execute(
                text(
                    "EXPLAIN SELECT id FROM rooms WHERE earth_box(ll_to_earth(46.6, 125.1), 3000) @> ll_to_earth(lat, lng)"
                    " ORDER BY ll_to_earth(lat, lng) <-> ll_to_earth(46.6, 125.1) LIMIT 20"
                )
            )
        ).all()
    )
    assert "ix_rooms_earth" in plan, plan


async def test_managers_show_photos_that_anyone_can_see(client, admin, factory):
    import io

    from PIL import Image

    room = await add(client, admin)
    manager, manager_headers = await factory.signed_in(Role.PARENT)
    assert (await client.put(f"/api/rooms/{room.id}/managers/{manager.id}", headers=admin)).status_code == 204

    async def upload(headers):
        out = io.BytesIO()
        Image.new("RGB", (32, 24), (200, 180, 160)).save(out, "PNG")
        r = await client.post(
            "/api/uploads?purpose=room_photo",
            headers=headers,
            files={"file": ("room.png", out.getvalue(), "image/png")},
        )
        assert r.status_code == 201, r.text
        return r.json()["id"]

    mine = await upload(manager_headers)
    r = await client.put(f"/api/rooms/{room.id}/photos", headers=manager_headers, json={"upload_ids": [mine]})
    assert r.status_code == 200, r.text
    (photo,) = strict(r.content, RoomOut).photos
    fetched = await client.get(photo.url)  # no sign-in needed: the room is public
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/png"
    # Someone else's upload cannot be attached; a stranger cannot set photos.
    _stranger, stranger_headers = await factory.signed_in(Role.PARENT)
    theirs = await upload(stranger_headers)
    r = await client.put(f"/api/rooms/{room.id}/photos", headers=manager_headers, json={"upload_ids": [theirs]})
    assert r.status_code == 422, r.text
    r = await client.put(f"/api/rooms/{room.id}/photos", headers=stranger_headers, json={"upload_ids": [theirs]})
    assert r.status_code == 404
    assert (await client.get(f"/api/rooms/{room.id}/photos/{theirs}")).status_code == 404
