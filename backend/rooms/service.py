"""Mother-and-baby rooms: facts (with revisions), nearby search, the map viewport, GeoJSON export.

Nearby search is the institutions' mechanism: ``earth_box`` bounds the GiST index walk
(``ix_rooms_earth``), ``ORDER BY <->`` reads it nearest first, the exact radius is applied to the
limited rows. "Open now" is the SQL function ``room_open_at`` (migration 0008), evaluated in Daqing's
time (UTC+8) with the day's exception, if any, replacing the weekly hours.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.errors import NotFound, RuleViolation
from backend.files import service as files
from backend.government.units import nearest_unit
from backend.institutions.models import Institution
from backend.rooms.models import VENUE_TYPES, Room, RoomRating, RoomRevision
from backend.rooms.schemas import HoursException, RoomFacts, RoomOut, RoomPhoto, WeeklyHours

PHOTO_PURPOSE = "room_photo"
PHOTO_SUBJECT = "room"
MAX_VIEWPORT_DEGREES = 2.0  # about 220 km north-south: more than all of Daqing's urban area
FACT_FIELDS = tuple(RoomFacts.__struct_fields__)


def _open_now() -> Any:
    return func.room_open_at(Room.opening_hours, Room.exceptions, func.now())


def check_hours(facts: Any) -> None:
    """Weekly hours close after they open; an exception is either closed or has both times."""
    for h in getattr(facts, "opening_hours", None) or []:
        if h.closes <= h.opens:
            raise RuleViolation(
                "Closing time must be after opening time", detail_zh="关闭时间须晚于开放时间", code="bad_hours"
            )
    seen: set[dt.date] = set()
    for e in getattr(facts, "exceptions", None) or []:
        has_hours = e.opens is not None and e.closes is not None
        if e.closed == has_hours or (e.opens is None) != (e.closes is None):
            raise RuleViolation(
                "An exception is either closed all day or gives both times",
                detail_zh="特殊日期须为全天关闭，或同时填写开放和关闭时间",
                code="bad_exception",
            )
        if has_hours and e.closes <= e.opens:  # type: ignore[operator]
            raise RuleViolation(
                "Closing time must be after opening time", detail_zh="关闭时间须晚于开放时间", code="bad_hours"
            )
        if e.date in seen:
            raise RuleViolation("One exception per date", detail_zh="同一日期只能有一条特殊安排", code="bad_exception")
        seen.add(e.date)


def _values(facts: RoomFacts) -> dict[str, Any]:
    values = {f: getattr(facts, f) for f in FACT_FIELDS}
    values["opening_hours"] = msgspec.to_builtins(facts.opening_hours)
    values["exceptions"] = msgspec.to_builtins(facts.exceptions)
    values["amenities"] = sorted(set(facts.amenities))
    return values


def _facts_json(room: Room) -> dict[str, Any]:
    return {f: msgspec.to_builtins(getattr(room, f)) for f in FACT_FIELDS}


async def create_room(
    db: AsyncSession, facts: RoomFacts, *, created_by: uuid.UUID | None, suggestion_id: uuid.UUID | None = None
) -> Room:
    check_hours(facts)
    room = Room(id=uuid.uuid4(), version=1, unit_code=await nearest_unit(db, facts.lat, facts.lng), **_values(facts))
    db.add(room)
    await db.flush()
    db.add(
        RoomRevision(
            room_id=room.id, version=1, facts=_facts_json(room), changed_by=created_by, suggestion_id=suggestion_id
        )
    )
    await db.flush()
    return room


async def apply_facts(
    db: AsyncSession, room: Room, facts: RoomFacts, *, changed_by: uuid.UUID | None, suggestion_id: uuid.UUID | None
) -> None:
    """Replace the room's facts with ``facts`` as a new version (the caller holds the row lock)."""
    check_hours(facts)
    for name, value in _values(facts).items():
        setattr(room, name, value)
    room.unit_code = await nearest_unit(db, facts.lat, facts.lng)
    room.version += 1
    await db.flush()
    db.add(
        RoomRevision(
            room_id=room.id,
            version=room.version,
            facts=_facts_json(room),
            changed_by=changed_by,
            suggestion_id=suggestion_id,
        )
    )
    await db.flush()


def facts_of(room: Room) -> RoomFacts:
    return msgspec.convert(_facts_json(room), RoomFacts)


async def load(db: AsyncSession, room_id: uuid.UUID, where: Any = None, *, lock: bool = False) -> Room:
    q = select(Room).where(Room.id == room_id)
    if where is not None:
        q = q.where(where)
    if lock:
        q = q.with_for_update()
    room = (await db.execute(q)).scalar_one_or_none()
    if room is None:
        raise NotFound("room")
    return room


# ---------------------------------------------------------------------------------------------- reading


def _ratings() -> Any:
    return (
        select(RoomRating.room_id, func.avg(RoomRating.stars).label("avg"), func.count().label("n"))
        .group_by(RoomRating.room_id)
        .subquery()
    )


def _out(room: Room, open_now: bool, avg: Any, n: Any, distance: float | None = None) -> RoomOut:
    return RoomOut(
        id=room.id,
        name=room.name,
        venue=room.venue,
        venue_type=room.venue_type,  # type: ignore[arg-type]
        venue_type_zh=VENUE_TYPES[room.venue_type],
        address=room.address,
        location_hint=room.location_hint,
        lat=room.lat,
        lng=room.lng,
        opening_hours=msgspec.convert(room.opening_hours, list[WeeklyHours]),
        exceptions=msgspec.convert(room.exceptions, list[HoursException]),
        open_now=bool(open_now),
        amenities=list(room.amenities),  # type: ignore[arg-type]
        area_m2=room.area_m2,
        independent=room.independent,
        managing_body=room.managing_body,
        contact_phone=room.contact_phone,
        verified=room.verified,
        verified_on=room.verified_on,
        rating=round(float(avg), 1) if avg is not None else None,
        ratings=int(n or 0),
        version=room.version,
        distance_m=round(distance, 1) if distance is not None else None,
    )


async def detail(db: AsyncSession, room_id: uuid.UUID) -> RoomOut:
    r = _ratings()
    row = (
        await db.execute(
            select(Room, _open_now().label("open_now"), r.c.avg, r.c.n)
            .outerjoin(r, r.c.room_id == Room.id)
            .where(Room.id == room_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("room")
    out = _out(row[0], row.open_now, row.avg, row.n)
    out.photos = [
        RoomPhoto(
            id=u.id,
            url=f"/api/rooms/{room_id}/photos/{u.id}",
            content_type=u.content_type,
            width=u.width,
            height=u.height,
        )
        for u in (await files.attachments(db, PHOTO_SUBJECT, [room_id]))[room_id]
    ]
    return out


async def set_photos(db: AsyncSession, room: Room, upload_ids: list[uuid.UUID], *, owner_id: uuid.UUID) -> None:
    """The room's photos become these uploads of the caller's, in order (the caller holds the lock)."""
    await files.attach(
        db,
        owner_id=owner_id,
        upload_ids=upload_ids,
        purpose=PHOTO_PURPOSE,
        subject_type=PHOTO_SUBJECT,
        subject_id=room.id,
    )
    await db.flush()


def check_viewport(south: float, west: float, north: float, east: float) -> None:
    if south >= north or west >= east:
        raise RuleViolation(
            "The box is inverted: south < north and west < east",
            detail_zh="范围无效：南边界须小于北边界，西边界须小于东边界",
            code="viewport_inverted",
        )
    if north - south > MAX_VIEWPORT_DEGREES or east - west > MAX_VIEWPORT_DEGREES:
        raise RuleViolation(
            f"The box may span at most {MAX_VIEWPORT_DEGREES} degrees each way",
            detail_zh="地图范围过大，请放大地图后再试",
            code="viewport_too_large",
        )


# ---------------------------------------------------------------------------------------------- GeoJSON


async def version_tag(db: AsyncSession, model: Any) -> str:
    """An ETag for a whole layer: changes whenever a row is added, changed or removed."""
    count, latest = (await db.execute(select(func.count(), func.max(model.updated_at)))).one()
    return '"' + hashlib.sha256(f"{model.__tablename__}:{count}:{latest}".encode()).hexdigest()[:32] + '"'


async def _feature_collection(db: AsyncSession, model: Any, kind: str, columns: tuple[str, ...]) -> bytes:
    """Every row of ``model`` as an RFC 7946 point (``[lng, lat]``) with ``columns`` as properties."""
    rows = await db.execute(
        select(model.id, model.lng, model.lat, *(getattr(model, c) for c in columns)).order_by(model.id)
    )
    features = [
        {
            "type": "Feature",
            "id": str(r.id),
            "geometry": {"type": "Point", "coordinates": [r.lng, r.lat]},
            "properties": {
                "kind": kind,
                **{c: getattr(r, c) for c in columns},
                "url": f"/{kind}s/{r.id}",
            },
        }
        for r in rows
    ]
    return msgspec.json.encode({"type": "FeatureCollection", "features": features})


async def rooms_geojson(db: AsyncSession) -> bytes:
    return await _feature_collection(
        db, Room, "room", ("name", "venue", "venue_type", "address", "amenities", "verified")
    )


async def institutions_geojson(db: AsyncSession) -> bytes:
    return await _feature_collection(db, Institution, "institution", ("name", "address", "unit_code"))
