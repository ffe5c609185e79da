"""The institution registry: public search and details; staff edit their own institution."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, MediaType, Response, delete, get, patch, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.spec import Tag
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from backend.core.authz import requires
from backend.core.deps import CallerDep, Db
from backend.core.domains import Domain
from backend.core.errors import error_responses
from backend.core.storage import Storage
from backend.files.routes import attachment_response
from backend.institutions import cover, queries, service
from backend.institutions import permissions as P
from backend.institutions.rules import ServiceMode
from backend.institutions.schemas import (
    ClassIn,
    ClassOut,
    ClassPatch,
    CoverIn,
    GradeName,
    InstitutionDetail,
    InstitutionIn,
    InstitutionPage,
    InstitutionPatch,
    ModeIn,
    ModeName,
    ModeOut,
    NearbyPage,
)

MinGrade = Annotated[
    GradeName | None,
    QueryParameter(description="Only institutions whose latest published quality grade is this or better (A best)"),
]


def _json(body: bytes, status_code: int = 200) -> Response[Any]:
    """Pass JSON that PostgreSQL built straight through (see queries.py)."""
    return Response(body, media_type=MediaType.JSON, status_code=status_code)


Limit = Annotated[int, QueryParameter(ge=1, le=50, description="Page size")]
Cursor = Annotated[
    str | None,
    QueryParameter(
        min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$", description="next_cursor of the previous page"
    ),
]
Query = Annotated[str | None, QueryParameter(min_length=1, max_length=50, description="Text in the name or address")]


class InstitutionController(Controller):
    path = "/api/institutions"
    tags = ["institutions · 托育机构"]

    @get("/", opt=requires(P.LIST), responses=error_responses(400, 422), summary="List institutions / 机构列表")
    async def list_institutions(
        self,
        db: Db,
        unit: Annotated[int | None, QueryParameter(ge=100000, le=999999, description="Unit code, e.g. 230602")] = None,
        mode: FromQuery[ModeName | None] = None,
        inclusive: FromQuery[bool] = False,
        q: Query = None,
        limit: Limit = 20,
        cursor: Cursor = None,
        min_grade: MinGrade = None,
    ) -> Response[InstitutionPage]:
        """Alphabetical, with classes, vacancies, modes and prices."""
        return _json(
            await queries.list_institutions(
                db, unit_code=unit, mode=mode, inclusive=inclusive, q=q, limit=limit, cursor=cursor, min_grade=min_grade
            )
        )

    @get(
        "/nearby",
        opt=requires(P.NEARBY),
        responses=error_responses(400, 422),
        summary="Childcare near a point / 附近的托育机构",
    )
    async def nearby(
        self,
        db: Db,
        lat: Annotated[float, QueryParameter(ge=-90, le=90, description="WGS-84 latitude")],
        lng: Annotated[float, QueryParameter(ge=-180, le=180, description="WGS-84 longitude")],
        radius_m: Annotated[float, QueryParameter(gt=0, le=200_000, description="Search radius in metres")] = 5000,
        mode: FromQuery[ModeName | None] = None,
        age_months: Annotated[
            int | None, QueryParameter(ge=0, le=35, description="Child's age in whole months: only classes that fit")
        ] = None,
        vacancy: Annotated[bool, QueryParameter(description="Only places with a free place")] = False,
        inclusive: Annotated[bool, QueryParameter(description="Only 普惠 (inclusive, price-capped) places")] = False,
        q: Query = None,
        limit: Limit = 20,
        cursor: Cursor = None,
        min_grade: MinGrade = None,
        filed: Annotated[bool, QueryParameter(description="Only institutions whose filing (备案) is approved")] = False,
        max_price: Annotated[
            int | None, QueryParameter(ge=1, le=queries.MAX_PRICE_LIMIT, description=queries.MAX_PRICE_DOC)
        ] = None,
    ) -> Response[NearbyPage]:
        """Nearest first, with `distance_m` (great-circle metres). With `age_months`, each institution shows only
        the classes that fit that age, and institutions without one are left out."""
        return _json(
            await queries.nearby(
                db,
                queries.NearbyQuery(
                    lat=round(lat, 7),
                    lng=round(lng, 7),
                    radius_m=radius_m,
                    mode=mode,
                    age_months=age_months,
                    vacancy=vacancy,
                    inclusive=inclusive,
                    q=q,
                    limit=limit,
                    cursor=cursor,
                    min_grade=min_grade,
                    filed=filed,
                    max_price=max_price,
                ),
            )
        )

    @get(
        "/{institution_id:uuid}",
        opt=requires(P.READ),
        responses=error_responses(404),
        summary="Institution details / 机构详情",
    )
    async def detail(self, db: Db, state: State, institution_id: FromPath[uuid.UUID]) -> Response[InstitutionDetail]:
        return _json(await queries.institution_detail(db, state.settings, institution_id))

    @post(
        "/",
        opt=requires(P.CREATE),
        responses=error_responses(401, 403, 409, 422),
        summary="Register an institution / 登记机构",
    )
    async def create(self, db: Db, state: State, data: JSONBody[InstitutionIn]) -> Response[InstitutionDetail]:
        institution_id = await service.create_institution(db, data)
        await db.commit()
        return _json(await queries.institution_detail(db, state.settings, institution_id), status_code=201)

    @patch(
        "/{institution_id:uuid}",
        opt=requires(P.UPDATE),
        responses=error_responses(401, 403, 404, 422),
        summary="Edit an institution / 修改机构信息",
    )
    async def update(
        self,
        db: Db,
        state: State,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        data: JSONBody[InstitutionPatch],
    ) -> Response[InstitutionDetail]:
        await service.update_institution(db, caller.principal, institution_id, data)
        await db.commit()
        return _json(await queries.institution_detail(db, state.settings, institution_id))

    @put(
        "/{institution_id:uuid}/cover",
        opt=requires(P.SET_COVER),
        responses=error_responses(401, 403, 404, 409, 422),
        summary="Set the cover photo / 设置机构封面照片",
    )
    async def set_cover(
        self,
        db: Db,
        state: State,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        data: JSONBody[CoverIn],
    ) -> Response[InstitutionDetail]:
        """The institution's staff, admins and city admins: upload the photo with
        `POST /api/uploads?purpose=institution_cover` (cleaned: no EXIF, at most 2560×2560), then name it
        here; `null` removes the cover. The previous photo is deleted within a day."""
        await cover.set_cover(db, caller.principal, institution_id, data.upload_id)
        await db.commit()
        return _json(await queries.institution_detail(db, state.settings, institution_id))

    @get(
        "/{institution_id:uuid}/cover/{upload_id:uuid}",
        opt=requires(P.READ),
        responses=error_responses(404, 503),
        summary="An institution's cover photo / 机构封面照片",
        media_type="application/octet-stream",
    )
    async def cover_photo(
        self,
        db: Db,
        storage: NamedDependency[Storage],
        institution_id: FromPath[uuid.UUID],
        upload_id: FromPath[uuid.UUID],
    ) -> Response[bytes]:
        """The photo's address changes with the photo, so browsers may keep it for a day."""
        data, content_type = await cover.read_cover(db, storage, institution_id, upload_id)
        return attachment_response(data, content_type, max_age=86400)

    @post(
        "/{institution_id:uuid}/classes",
        opt=requires(P.MANAGE_CLASSES),
        responses=error_responses(401, 403, 404, 409, 422),
        summary="Add a class / 新增班级",
    )
    async def add_class(
        self,
        db: Db,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        data: JSONBody[ClassIn],
    ) -> ClassOut:
        out = await service.add_class(db, caller.principal, institution_id, data)
        await db.commit()
        return out

    @patch(
        "/{institution_id:uuid}/classes/{class_id:uuid}",
        opt=requires(P.MANAGE_CLASSES),
        responses=error_responses(401, 403, 404, 409, 422),
        summary="Change a class / 修改班级",
    )
    async def update_class(
        self,
        db: Db,
        state: State,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        class_id: FromPath[uuid.UUID],
        data: JSONBody[ClassPatch],
    ) -> ClassOut:
        out = await service.update_class(db, state.settings, caller.principal, institution_id, class_id, data)
        await db.commit()
        return out

    @delete(
        "/{institution_id:uuid}/classes/{class_id:uuid}",
        opt=requires(P.MANAGE_CLASSES),
        responses=error_responses(401, 403, 404, 409),
        summary="Remove an empty class / 删除班级",
    )
    async def remove_class(
        self,
        db: Db,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        class_id: FromPath[uuid.UUID],
    ) -> None:
        await service.remove_class(db, caller.principal, institution_id, class_id)
        await db.commit()

    @put(
        "/{institution_id:uuid}/modes/{mode:str}",
        opt=requires(P.MANAGE_MODES),
        responses=error_responses(401, 403, 404, 422),
        summary="Offer a mode at a price / 设置服务方式与价格",
    )
    async def set_mode(
        self,
        db: Db,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        mode: FromPath[ModeName],
        data: JSONBody[ModeIn],
    ) -> ModeOut:
        out = await service.set_mode(db, caller.principal, institution_id, ServiceMode(mode), data)
        await db.commit()
        return out

    @delete(
        "/{institution_id:uuid}/modes/{mode:str}",
        opt=requires(P.MANAGE_MODES),
        responses=error_responses(401, 403, 404),
        summary="Stop offering a mode / 停止某服务方式",
    )
    async def remove_mode(
        self,
        db: Db,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        mode: FromPath[ModeName],
    ) -> None:
        await service.remove_mode(db, caller.principal, institution_id, ServiceMode(mode))
        await db.commit()


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [InstitutionController],
    tags=[Tag(name="institutions · 托育机构", description="Registry and nearby search")],
)
