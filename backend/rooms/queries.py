"""Read side of the rooms finder: the nearby search and the map markers, rendered by PostgreSQL.

Like the institutions search (``backend/institutions/queries.py``), these are the busiest public
reads, so each answer is one statement: the nearest rooms are chosen and limited first (a KNN walk
of ``ix_rooms_earth`` bounded by ``earth_box``), then each chosen row gets its rating (a lateral
aggregate over that room's ratings only, by the ``(room_id, account_id)`` index) and is turned into
its JSON object by ``json_build_object``; Python only joins the objects. The shapes are
``RoomOut`` and ``RoomMarker`` in ``schemas.py``; ``tests/rooms`` decode every answer strictly into
them, so the SQL and the Structs cannot drift apart. Statements are built once per filter combination.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import String

from backend.core.db import autocommit_reads
from backend.rooms.models import VENUE_TYPES


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


_VENUE_TYPE_ZH = (
    "CASE r.venue_type " + " ".join(f"WHEN {_quote(k)} THEN {_quote(v)}" for k, v in VENUE_TYPES.items()) + " END"
)
_OPEN_NOW = "room_open_at(r.opening_hours, r.exceptions, now())"

# The fields of RoomOut (photos: in the detail only, empty here).
_ROOM_JSON = f"""json_build_object(
    'id', r.id, 'name', r.name, 'venue', r.venue, 'venue_type', r.venue_type, 'venue_type_zh', {_VENUE_TYPE_ZH},
    'address', r.address, 'location_hint', r.location_hint, 'lat', r.lat, 'lng', r.lng,
    'opening_hours', r.opening_hours, 'exceptions', r.exceptions, 'open_now', {_OPEN_NOW},
    'amenities', to_json(r.amenities), 'area_m2', r.area_m2, 'independent', r.independent,
    'managing_body', r.managing_body, 'contact_phone', r.contact_phone, 'verified', r.verified,
    'verified_on', r.verified_on, 'rating', round(rt.avg, 1)::float8, 'ratings', rt.n, 'version', r.version,
    'distance_m', round(r.distance::numeric, 1)::float8, 'photos', '[]'::json
)"""


@lru_cache(maxsize=16)
def _nearby_statement(amenities: bool, venue_type: bool, open_now: bool) -> TextClause:
    filters = ""
    if amenities:
        # A filter on the nearest-first walk: there is deliberately no GIN index on amenities (with one,
        # prepared statements got a generic plan that read it whole and sorted; bench/rooms.py).
        filters += " AND rooms.amenities @> :amenities"
    if venue_type:
        filters += " AND rooms.venue_type = :venue_type"
    if open_now:
        filters += " AND room_open_at(rooms.opening_hours, rooms.exceptions, now())"
    sql = f"""
    SELECT {_ROOM_JSON}::text AS item
    FROM (
        SELECT rooms.*, earth_distance(ll_to_earth(rooms.lat, rooms.lng), ll_to_earth(:lat, :lng)) AS distance,
               ll_to_earth(rooms.lat, rooms.lng) <-> ll_to_earth(:lat, :lng) AS chord
        FROM rooms
        WHERE earth_box(ll_to_earth(:lat, :lng), :radius) @> ll_to_earth(rooms.lat, rooms.lng){filters}
        ORDER BY chord, rooms.id
        LIMIT :limit
    ) AS r
    LEFT JOIN LATERAL (
        SELECT avg(stars) AS avg, count(*) AS n FROM room_ratings WHERE room_ratings.room_id = r.id
    ) AS rt ON true
    WHERE r.distance <= :radius
    ORDER BY r.chord, r.id
    """
    stmt = text(sql)
    if amenities:
        stmt = stmt.bindparams(bindparam("amenities", type_=ARRAY(String)))
    return stmt


async def nearby(
    db: AsyncSession,
    *,
    lat: float,
    lng: float,
    radius_m: float,
    amenities: list[str],
    open_now: bool,
    venue_type: str | None,
    limit: int,
) -> bytes:
    """A JSON list of ``RoomOut``, nearest first, within ``radius_m`` (great-circle metres)."""
    params: dict[str, Any] = {"lat": lat, "lng": lng, "radius": float(radius_m), "limit": limit}
    if amenities:
        params["amenities"] = sorted(set(amenities))
    if venue_type:
        params["venue_type"] = venue_type
    await autocommit_reads(db)
    rows = (await db.execute(_nearby_statement(bool(amenities), bool(venue_type), open_now), params)).scalars()
    return _list_json(rows)


_VIEWPORT = text(
    f"""
    SELECT json_build_object('id', r.id, 'name', r.name, 'lat', r.lat, 'lng', r.lng, 'venue_type', r.venue_type,
                             'open_now', {_OPEN_NOW})::text AS item
    FROM rooms AS r
    WHERE r.lat BETWEEN :south AND :north AND r.lng BETWEEN :west AND :east
    ORDER BY r.id
    LIMIT :limit
    """
)


async def viewport(db: AsyncSession, *, south: float, west: float, north: float, east: float, limit: int) -> bytes:
    """A JSON list of ``RoomMarker`` in the box (checked by the caller: ``service.check_viewport``)."""
    params = {"south": south, "west": west, "north": north, "east": east, "limit": limit}
    await autocommit_reads(db)
    return _list_json((await db.execute(_VIEWPORT, params)).scalars())


def _list_json(items: Any) -> bytes:
    # The objects come as text (cast in SQL, so no driver decodes them): join them as they are.
    return b"[" + ",".join(items).encode() + b"]"
