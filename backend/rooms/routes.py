"""Mother-and-baby rooms on the map: nearby search, the viewport, details, GeoJSON; rooms' facts for
city admins and the rooms' managers."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, MediaType, Response, get, post, put
from litestar.di import NamedDependency
from litestar.openapi.spec import Tag
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from backend.core.authz import requires
from backend.core.deps import CallerDep, Db
from backend.core.domains import Domain
from backend.core.errors import NotFound, error_responses
from backend.core.storage import Storage
from backend.files import service as files
from backend.files.routes import attachment_response
from backend.institutions.models import Institution
from backend.rooms import permissions as P
from backend.rooms import queries, service
from backend.rooms.input_routes import input_controllers
from backend.rooms.models import Room, RoomManager
from backend.rooms.schemas import Amenity, PhotosIn, RoomFacts, RoomMarker, RoomOut, VenueType, VerifyIn

TAGS = ["rooms · 母婴室"]
GEOJSON = "application/geo+json"


class RoomController(Controller):
    path = "/api/rooms"
    tags = TAGS

    @get(
        "/nearby",
        opt=requires(P.FIND),
        responses=error_responses(400),
        summary="Nearby rooms / 附近的母婴室",
    )
    async def nearby(
        self,
        db: Db,
        lat: Annotated[float, QueryParameter(ge=-90, le=90, description="WGS-84 latitude")],
        lng: Annotated[float, QueryParameter(ge=-180, le=180, description="WGS-84 longitude")],
        radius_m: Annotated[int, QueryParameter(ge=100, le=50_000, description="Search radius in metres")] = 3000,
        amenity: Annotated[
            list[Amenity] | None, QueryParameter(description="Only rooms with all of these (repeatable)")
        ] = None,
        open_now: Annotated[bool, QueryParameter(description="Only rooms open now (Daqing time)")] = False,
        venue_type: Annotated[VenueType | None, QueryParameter(description="Only this kind of venue")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> Response[list[RoomOut]]:
        """Nearest first, each with `distance_m`, whether it is open now, and its average rating."""
        body = await queries.nearby(
            db,
            lat=round(lat, 7),  # subnormal values make ll_to_earth underflow
            lng=round(lng, 7),
            radius_m=radius_m,
            amenities=list(amenity or []),
            open_now=open_now,
            venue_type=venue_type,
            limit=limit,
        )
        return Response(body, media_type=MediaType.JSON)

    @get(
        "/viewport",
        opt=requires(P.FIND),
        responses=error_responses(400, 422),
        summary="Rooms in a map view / 地图范围内的母婴室",
    )
    async def viewport(
        self,
        db: Db,
        south: Annotated[float, QueryParameter(ge=-90, le=90)],
        west: Annotated[float, QueryParameter(ge=-180, le=180)],
        north: Annotated[float, QueryParameter(ge=-90, le=90)],
        east: Annotated[float, QueryParameter(ge=-180, le=180)],
        limit: Annotated[int, QueryParameter(ge=1, le=500, description="At most this many markers")] = 200,
    ) -> Response[list[RoomMarker]]:
        """Lightweight markers (id, name, position, venue type, open now) for a bounding box of at
        most 2° × 2°."""
        service.check_viewport(south, west, north, east)
        body = await queries.viewport(db, south=south, west=west, north=north, east=east, limit=limit)
        return Response(body, media_type=MediaType.JSON)

    @get("/{room_id:uuid}", opt=requires(P.FIND), responses=error_responses(404), summary="A room / 母婴室详情")
    async def detail(self, db: Db, room_id: FromPath[uuid.UUID]) -> RoomOut:
        return await service.detail(db, room_id)

    @post(
        "/",
        opt=requires(P.CREATE),
        responses=error_responses(400, 401, 403, 422),
        summary="Add a room / 新增母婴室",
    )
    async def create(self, db: Db, caller: CallerDep, data: JSONBody[RoomFacts]) -> RoomOut:
        room = await service.create_room(db, data, created_by=caller.account_id)
        await db.commit()
        return await service.detail(db, room.id)

    @put(
        "/{room_id:uuid}",
        opt=requires(P.EDIT),
        responses=error_responses(400, 401, 403, 404, 422),
        summary="Change a room's facts / 修改母婴室信息",
    )
    async def edit(self, db: Db, caller: CallerDep, room_id: FromPath[uuid.UUID], data: JSONBody[RoomFacts]) -> RoomOut:
        """The room's managers and city admins; every change is a new version in the history."""
        room = await service.load(db, room_id, P.EDIT.where(caller.principal), lock=True)
        await service.apply_facts(db, room, data, changed_by=caller.account_id, suggestion_id=None)
        await db.commit()
        return await service.detail(db, room_id)

    @post(
        "/{room_id:uuid}/verify",
        opt=requires(P.VERIFY),
        status_code=200,
        responses=error_responses(401, 403, 404),
        summary="Mark verified / 标记已核实",
    )
    async def verify(
        self, db: Db, caller: CallerDep, room_id: FromPath[uuid.UUID], data: JSONBody[VerifyIn]
    ) -> RoomOut:
        from backend.core.clock import local_today

        room = await service.load(db, room_id, P.VERIFY.where(caller.principal), lock=True)
        room.verified, room.verified_on = True, data.verified_on or local_today()
        await db.commit()
        return await service.detail(db, room_id)

    @put(
        "/{room_id:uuid}/photos",
        opt=requires(P.EDIT),
        responses=error_responses(400, 401, 403, 404, 422),
        summary="Set a room's photos / 设置母婴室照片",
    )
    async def set_photos(
        self, db: Db, caller: CallerDep, room_id: FromPath[uuid.UUID], data: JSONBody[PhotosIn]
    ) -> RoomOut:
        """Its managers and city admins: upload each with `POST /api/uploads?purpose=room_photo`, then
        list them here in order (the list replaces the previous one)."""
        room = await service.load(db, room_id, P.EDIT.where(caller.principal), lock=True)
        await service.set_photos(db, room, list(data.upload_ids), owner_id=caller.account_id)
        await db.commit()
        return await service.detail(db, room_id)

    @get(
        "/{room_id:uuid}/photos/{upload_id:uuid}",
        opt=requires(P.FIND),
        responses=error_responses(404),
        summary="A room's photo / 母婴室照片",
        media_type="application/octet-stream",
    )
    async def photo(
        self, db: Db, storage: NamedDependency[Storage], room_id: FromPath[uuid.UUID], upload_id: FromPath[uuid.UUID]
    ) -> Response[bytes]:
        return attachment_response(
            *await files.read_attachment(
                db, storage, subject_type=service.PHOTO_SUBJECT, subject_id=room_id, upload_id=upload_id
            )
        )

    @put(
        "/{room_id:uuid}/managers/{account_id:uuid}",
        opt=requires(P.MANAGERS),
        status_code=204,
        responses=error_responses(401, 403, 404),
        summary="Name a manager / 指定管理人员",
    )
    async def add_manager(self, db: Db, room_id: FromPath[uuid.UUID], account_id: FromPath[uuid.UUID]) -> None:
        """An account of the room's managing body (e.g. the station's staff) keeps the room's facts."""
        from sqlalchemy.dialects.postgresql import insert

        from backend.accounts.models import Account

        await service.load(db, room_id)
        if await db.get(Account, account_id) is None:
            raise NotFound("account")
        await db.execute(insert(RoomManager).values(room_id=room_id, account_id=account_id).on_conflict_do_nothing())
        await db.commit()


class MapExportController(Controller):
    path = "/api/map"
    tags = TAGS

    async def _layer(self, db: Any, model: Any, build: Any, if_none_match: str | None) -> Response[Any]:
        tag = await service.version_tag(db, model)
        headers = {"ETag": tag, "Cache-Control": "public, max-age=300"}
        if if_none_match == tag:
            return Response(b"", status_code=304, headers=headers)
        return Response(await build(db), media_type=GEOJSON, headers=headers)

    @get(
        "/rooms.geojson",
        opt=requires(P.EXPORT),
        summary="All rooms as GeoJSON / 母婴室 GeoJSON",
        media_type=GEOJSON,
    )
    async def rooms(
        self,
        db: Db,
        if_none_match: Annotated[str | None, HeaderParameter(name="If-None-Match", required=False)] = None,
    ) -> Response[dict[str, Any]]:
        """WGS-84 points (RFC 7946) for other map apps; `ETag` and `If-None-Match` make it cheap to poll."""
        return await self._layer(db, Room, service.rooms_geojson, if_none_match)

    @get(
        "/institutions.geojson",
        opt=requires(P.EXPORT),
        summary="All institutions as GeoJSON / 托育机构 GeoJSON",
        media_type=GEOJSON,
    )
    async def institutions(
        self,
        db: Db,
        if_none_match: Annotated[str | None, HeaderParameter(name="If-None-Match", required=False)] = None,
    ) -> Response[dict[str, Any]]:
        return await self._layer(db, Institution, service.institutions_geojson, if_none_match)


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [RoomController, MapExportController, *input_controllers()],
    tags=[Tag(name=TAGS[0], description="Mother-and-baby rooms: nearby, map viewport, GeoJSON")],
)
