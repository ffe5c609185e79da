"""Read side of the registry: public lists, details and the nearby search.

**Nearby search** uses PostgreSQL's cube/earthdistance: points are ``ll_to_earth(lat, lng)`` (3-D
points on a sphere of radius ``earth()`` = 6,378,168 m), indexed by GiST. ``<->`` between two such
points is their straight-line (chord) distance, which orders results exactly like the great-circle
distance, so ``ORDER BY ll_to_earth(lat, lng) <-> centre`` walks the index nearest-first (KNN) and
stops after ``limit`` rows. ``earth_box(centre, r) @> point`` bounds the walk to the radius through
the same index, and ``earth_distance(...) <= r`` makes the radius exact. ``distance_m`` is the
great-circle distance on that sphere, rounded to 0.1 m. (On a small table the planner may prefer a
bitmap scan of the same index and a sort of the few rows in the box; both are index-backed.)

**Responses are built by PostgreSQL.** These are the busiest endpoints, so each page is one
statement: the matching rows are chosen and limited first, then each is turned into its JSON object
(with its classes and modes) by ``json_build_object``, and Python only joins the objects into the
page. The shapes are the msgspec Structs in ``schemas.py`` (which the OpenAPI schema documents);
``tests/institutions`` decode every response strictly into them, so the SQL and the Structs cannot
drift apart. Statements are built once per combination of filters and reused with new parameters.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import msgspec
from sqlalchemy import (
    ARRAY,
    Boolean,
    Float,
    Integer,
    Numeric,
    Select,
    String,
    Text,
    and_,
    any_,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from backend.assessments.models import Assessment
from backend.blacklist.models import institution_blacklisted
from backend.core import fastread
from backend.core.authz import Action, Principal
from backend.core.config import Settings
from backend.core.db import autocommit_reads
from backend.core.errors import NotFound, RuleViolation
from backend.files.models import Upload
from backend.government.models import Unit
from backend.institutions.models import CareClass, Institution, InstitutionMode
from backend.institutions.rules import CLASS_RULES, MODE_NAMES_ZH, FilingStatus, PriceUnit, class_types_for_age

MAX_PRICE_DOC = (
    "Only institutions with a monthly fee of at most this many yuan: a mode priced per month (全日托 or 半日托 "
    "by the month) at or under it; with `mode`, that mode, priced per month. Hourly and per-day prices are not "
    "monthly fees and never match"
)
MAX_PRICE_LIMIT = 100_000  # yuan; the price_range check allows up to 10,000,000 fen


def _key(name: str) -> Any:
    return literal_column(f"'{name}'")


def _json_object(**pairs: Any) -> Any:
    args: list[Any] = []
    for name, value in pairs.items():
        args += [_key(name), value]
    return func.json_build_object(*args)


def _sql_literal(value: str | int) -> Any:
    """A constant written into the SQL text (not a bind parameter)."""
    if isinstance(value, int):
        return literal_column(str(int(value)), Integer)
    return literal_column("'" + value.replace("'", "''") + "'", String)


def _case(column: Any, mapping: dict[str, str | int]) -> Any:
    return case(*((column == _sql_literal(k), _sql_literal(v)) for k, v in mapping.items()))


def _by_class_type(column: Any, attr: str) -> Any:
    return _case(column, {str(t): getattr(r, attr) for t, r in CLASS_RULES.items()})


def _class_json(c: Any) -> Any:
    return _json_object(
        id=c.id,
        name=c.name,
        class_type=c.class_type,
        class_type_zh=_by_class_type(c.class_type, "name_zh"),
        age_min_months=_by_class_type(c.class_type, "age_min_months"),
        age_max_months=_by_class_type(c.class_type, "age_max_months"),
        capacity=c.capacity,
        carers=c.carers,
        enrolled=c.offline_count + c.enrolled_count,
        vacancies=c.capacity - c.offline_count - c.offered_count - c.enrolled_count,
        carer_ratio_ok=c.capacity <= c.carers * _by_class_type(c.class_type, "children_per_carer"),
    )


_EMPTY = literal_column("'[]'::json")


def _classes_lateral(institution_id: Any, age_filtered: bool) -> Any:
    c = CareClass
    cond = c.institution_id == institution_id
    if age_filtered:
        cond = and_(cond, c.class_type == any_(bindparam("class_types", type_=ARRAY(String))))
    return (
        select(
            func.coalesce(func.json_agg(aggregate_order_by(_class_json(c), c.class_type, c.name)), _EMPTY).label(
                "list"
            ),
            func.coalesce(
                func.sum(c.capacity - c.offline_count - c.offered_count - c.enrolled_count), _sql_literal(0)
            ).label("vacancies"),
        )
        .where(cond)
        .lateral("cls")
    )


def _modes_lateral(institution_id: Any) -> Any:
    m = InstitutionMode
    mode_json = _json_object(
        mode=m.mode,
        mode_zh=_case(m.mode, {str(k): v for k, v in MODE_NAMES_ZH.items()}),
        price_fen=m.price_fen,
        price_unit=m.price_unit,
    )
    return (
        select(func.coalesce(func.json_agg(aggregate_order_by(mode_json, m.mode)), _EMPTY).label("list"))
        .where(m.institution_id == institution_id)
        .lateral("modes")
    )


def _latest_published(institution_id: Any, *columns: Any) -> Select[Any]:
    """``columns`` of the institution's latest published assessment (ix_assessments_latest_published)."""
    a = Assessment
    return (
        select(*columns)
        .where(a.institution_id == institution_id, a.status == _sql_literal("published"))
        .order_by(a.assessed_on.desc(), a.published_at.desc(), a.id.desc())
        .limit(1)
    )


def _quality_lateral(institution_id: Any) -> Any:
    """The public quality result (``QualityOut``): latest published grade, total, date and summary."""
    a = Assessment
    quality = _json_object(
        assessment_id=a.id, grade=a.grade, total=a.total, assessed_on=a.assessed_on, summary=a.summary
    )
    return _latest_published(institution_id, quality.label("json")).lateral("quality")


COVER_SUBJECT = "institution_cover"  # the subject type (and upload purpose) of cover photos


def _cover(institution_id: Any) -> Any:
    """The cover photo (``CoverOut``) or null: the institution's attachment at position 0."""
    u = Upload
    url = func.concat(
        _sql_literal("/api/institutions/"), institution_id.cast(Text), _sql_literal("/cover/"), u.id.cast(Text)
    )
    return (
        select(_json_object(url=url, width=u.width, height=u.height))
        .where(
            u.subject_type == _sql_literal(COVER_SUBJECT),
            u.subject_id == institution_id,
            u.position == _sql_literal(0),
        )
        .scalar_subquery()
    )


_PAGE_COLUMNS = (
    Institution.id,
    Institution.name,
    Institution.unit_code,
    Institution.address,
    Institution.lat,
    Institution.lng,
    Institution.phone,
    Institution.legal_form,
    Institution.ownership,
    Institution.filing_status,
    Institution.is_inclusive,
    Institution.is_demonstration,
    Institution.is_employer_run,
    Institution.is_community_run,
    Institution.is_kindergarten_class,
    Institution.is_home_based,
    Institution.is_demo,
)


def _render(
    page: Any, *, age_filtered: bool, order_by: tuple[Any, ...], extra: dict[str, Any] | None = None
) -> Select[Any]:
    """Turn the chosen rows (subquery ``page``) into one JSON text per institution, in order."""
    classes = _classes_lateral(page.c.id, age_filtered)
    modes = _modes_lateral(page.c.id)
    quality = _quality_lateral(page.c.id)
    item = _json_object(
        id=page.c.id,
        name=page.c.name,
        unit_code=page.c.unit_code,
        unit_name_zh=Unit.name_zh,
        address=page.c.address,
        lat=page.c.lat,
        lng=page.c.lng,
        phone=page.c.phone,
        legal_form=page.c.legal_form,
        ownership=page.c.ownership,
        filing_status=page.c.filing_status,
        flags=_json_object(
            inclusive=page.c.is_inclusive,
            demonstration=page.c.is_demonstration,
            employer_run=page.c.is_employer_run,
            community_run=page.c.is_community_run,
            kindergarten_class=page.c.is_kindergarten_class,
            home_based=page.c.is_home_based,
        ),
        modes=modes.c.list,
        classes=classes.c.list,
        vacancies=classes.c.vacancies,
        is_demo=page.c.is_demo,
        quality=quality.c.json,
        cover=_cover(page.c.id),
        **(extra or {}),
    )
    return (
        select(item.cast(Text).label("item"), *(c.label(f"k{n}") for n, c in enumerate(order_by)))
        .select_from(page)
        .join(Unit, Unit.code == page.c.unit_code)
        .join(classes, true())
        .join(modes, true())
        .outerjoin(quality, true())
        .order_by(*order_by)
    )


# ---------------------------------------------------------------------------------------------- cursors


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(values)).decode().rstrip("=")


def decode_cursor(cursor: str, types: tuple[type, ...]) -> list[Any]:
    try:
        values = msgspec.json.decode(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError
        out: list[Any] = []
        for value, kind in zip(values, types, strict=True):
            if kind is uuid.UUID:
                out.append(uuid.UUID(value))
            elif kind is float:
                if not isinstance(value, (int, float)) or isinstance(value, bool):
                    raise ValueError
                out.append(float(value))
            elif isinstance(value, kind):
                out.append(value)
            else:
                raise ValueError
        return out
    except (ValueError, TypeError, AttributeError, msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise RuleViolation(
            "The cursor is not one this API handed out", detail_zh="分页参数无效", code="invalid_cursor"
        ) from exc


def _page_json(items: list[str], next_cursor: str | None) -> bytes:
    cursor = msgspec.json.encode(next_cursor)
    return b'{"items":[' + ",".join(items).encode() + b'],"next_cursor":' + cursor + b"}"


# ---------------------------------------------------------------------------------------------- filters


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _filters(
    *,
    age_filtered: bool,
    mode: bool,
    vacancy: bool,
    inclusive: bool,
    text_query: bool,
    grade: bool = False,
    filed: bool = False,
    price: bool = False,
) -> list[Any]:
    conds: list[Any] = [~institution_blacklisted(Institution.id)]  # the public search hides blacklisted ones
    if filed:
        conds.append(Institution.filing_status == FilingStatus.FILED.value)
    if mode or price:
        # One mode row that is the chosen mode (if any) and, with a price cap, priced per month within it
        # (see ``MAX_PRICE_DOC``): hourly and per-day prices are not monthly fees and never match.
        mode_cond = [InstitutionMode.institution_id == Institution.id]
        if mode:
            mode_cond.append(InstitutionMode.mode == bindparam("mode", type_=String))
        if price:
            mode_cond.append(InstitutionMode.price_unit == _sql_literal(PriceUnit.MONTH.value))
            mode_cond.append(InstitutionMode.price_fen <= bindparam("max_price_fen", type_=Integer))
        conds.append(exists().where(*mode_cond))
    if age_filtered or vacancy:
        class_cond = [CareClass.institution_id == Institution.id]
        if age_filtered:
            class_cond.append(CareClass.class_type == any_(bindparam("class_types", type_=ARRAY(String))))
        if vacancy:
            class_cond.append(
                CareClass.offline_count + CareClass.offered_count + CareClass.enrolled_count < CareClass.capacity
            )
        conds.append(exists().where(*class_cond))
    if inclusive:
        conds.append(Institution.is_inclusive.is_(True))
    if grade:
        # The latest published grade is this good or better ('A' < 'B' < …); none published: left out.
        latest = _latest_published(Institution.id, Assessment.grade).scalar_subquery()
        conds.append(latest <= bindparam("min_grade", type_=String))
    if text_query:
        pattern = bindparam("q", type_=String)
        conds.append(or_(Institution.name.ilike(pattern), Institution.address.ilike(pattern)))
    return conds


def _filter_params(
    *,
    types: list[str] | None,
    mode: str | None,
    q: str | None,
    min_grade: str | None = None,
    max_price: int | None = None,
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if max_price is not None:
        params["max_price_fen"] = max_price * 100  # yuan → fen, as prices are stored
    if min_grade is not None:
        params["min_grade"] = min_grade
    if types is not None:
        params["class_types"] = types
    if mode is not None:
        params["mode"] = mode
    if q:
        params["q"] = _like(q)
    return params


# ---------------------------------------------------------------------------------------------- nearby


@dataclass(frozen=True, slots=True)
class NearbyQuery:
    lat: float
    lng: float
    radius_m: float = 5000
    mode: str | None = None
    age_months: int | None = None
    vacancy: bool = False
    inclusive: bool = False
    q: str | None = None
    limit: int = 20
    cursor: str | None = None
    min_grade: str | None = None  # latest published quality grade at least this (A best)
    filed: bool = False  # only institutions whose filing (备案) is approved
    max_price: int | None = None  # yuan per month (MAX_PRICE_DOC)


@lru_cache(maxsize=128)
def _nearby_statement(
    age_filtered: bool,
    mode: bool,
    vacancy: bool,
    inclusive: bool,
    text_query: bool,
    after_cursor: bool,
    grade: bool = False,
    filed: bool = False,
    price: bool = False,
) -> Select[Any]:
    point = func.ll_to_earth(Institution.lat, Institution.lng)
    centre = func.ll_to_earth(bindparam("lat", type_=Float), bindparam("lng", type_=Float))
    radius = bindparam("radius", type_=Float)
    chord = point.op("<->", return_type=Float)(centre)
    distance = func.earth_distance(point, centre, type_=Float)
    chosen = select(*_PAGE_COLUMNS, distance.label("distance"), chord.label("chord")).where(
        func.earth_box(centre, radius).op("@>")(point),
        *_filters(
            age_filtered=age_filtered,
            mode=mode,
            vacancy=vacancy,
            inclusive=inclusive,
            text_query=text_query,
            grade=grade,
            filed=filed,
            price=price,
        ),
    )
    if after_cursor:
        chosen = chosen.where(
            tuple_(chord, Institution.id)
            > tuple_(bindparam("after_chord", type_=Float), bindparam("after_id", type_=Institution.id.type))
        )
    page = chosen.order_by(chord, Institution.id).limit(bindparam("limit", type_=Integer)).subquery("page")
    # The exact radius is checked after the limit: rows come nearest first, so any row of the box that
    # lies beyond the radius comes after every row within it, and dropping it cannot let a nearer one out.
    return _render(
        page,
        age_filtered=age_filtered,
        order_by=(page.c.chord, page.c.id),
        extra={"distance_m": func.round(page.c.distance.cast(Numeric), _sql_literal(1))},
    ).where(page.c.distance <= radius)


def nearby_statement(query: NearbyQuery) -> tuple[Select[Any], dict[str, Any]]:
    """The statement for ``query`` and its parameters (also used by the plan test and the benchmark)."""
    types = None if query.age_months is None else [str(t) for t in class_types_for_age(query.age_months)]
    stmt = _nearby_statement(
        types is not None,
        query.mode is not None,
        query.vacancy,
        query.inclusive,
        bool(query.q),
        query.cursor is not None,
        query.min_grade is not None,
        query.filed,
        query.max_price is not None,
    )
    params: dict[str, Any] = {
        "lat": query.lat,
        "lng": query.lng,
        "radius": float(query.radius_m),
        "limit": query.limit + 1,
        **_filter_params(types=types, mode=query.mode, q=query.q, min_grade=query.min_grade, max_price=query.max_price),
    }
    if query.cursor is not None:
        params["after_chord"], params["after_id"] = decode_cursor(query.cursor, (float, uuid.UUID))
    return stmt, params


async def nearby(db: AsyncSession, query: NearbyQuery) -> bytes:
    """A page of ``NearbyPage`` JSON."""
    stmt, params = nearby_statement(query)
    rows = await fastread.fetch(db, stmt, params)  # no ORM per call, no BEGIN/ROLLBACK (core/fastread.py)
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        next_cursor = encode_cursor([rows[-1]["k0"], str(rows[-1]["k1"])])
    return _page_json([r["item"] for r in rows], next_cursor)


# ---------------------------------------------------------------------------------------------- list, detail


@lru_cache(maxsize=64)
def _list_statement(
    unit: bool, mode: bool, inclusive: bool, text_query: bool, after_cursor: bool, grade: bool = False
) -> Select[Any]:
    chosen = select(*_PAGE_COLUMNS).where(
        *_filters(age_filtered=False, mode=mode, vacancy=False, inclusive=inclusive, text_query=text_query, grade=grade)
    )
    if unit:
        chosen = chosen.where(Institution.unit_code == bindparam("unit", type_=Integer))
    if after_cursor:
        chosen = chosen.where(
            tuple_(Institution.name, Institution.id)
            > tuple_(bindparam("after_name", type_=String), bindparam("after_id", type_=Institution.id.type))
        )
    page = chosen.order_by(Institution.name, Institution.id).limit(bindparam("limit", type_=Integer)).subquery("page")
    return _render(page, age_filtered=False, order_by=(page.c.name, page.c.id))


async def list_institutions(
    db: AsyncSession,
    *,
    unit_code: int | None,
    mode: str | None,
    inclusive: bool,
    q: str | None,
    limit: int,
    cursor: str | None,
    min_grade: str | None = None,
) -> bytes:
    """A page of ``InstitutionPage`` JSON, alphabetical."""
    stmt = _list_statement(
        unit_code is not None, mode is not None, inclusive, bool(q), cursor is not None, min_grade is not None
    )
    params: dict[str, Any] = {"limit": limit + 1, **_filter_params(types=None, mode=mode, q=q, min_grade=min_grade)}
    if unit_code is not None:
        params["unit"] = unit_code
    if cursor is not None:
        params["after_name"], params["after_id"] = decode_cursor(cursor, (str, uuid.UUID))
    await autocommit_reads(db)
    rows = (await db.execute(stmt, params)).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([rows[-1].k0, str(rows[-1].k1)])
    return _page_json([r.item for r in rows], next_cursor)


@lru_cache(maxsize=1)
def _detail_statement() -> Select[Any]:
    page = (
        select(
            *_PAGE_COLUMNS,
            Institution.registration_no,
            Institution.opening_hours,
            Institution.description,
            Institution.updated_at,
            Institution.filed_at,
        )
        .where(Institution.id == bindparam("id", type_=Institution.id.type))
        .subquery("page")
    )
    return _render(
        page,
        age_filtered=False,
        order_by=(page.c.id,),
        extra={
            "registration_no": page.c.registration_no,
            "opening_hours": page.c.opening_hours,
            "description": page.c.description,
            "updated_at": page.c.updated_at,
            "blacklisted": institution_blacklisted(page.c.id),
            # What institutions/gate.py decides, for the page's apply/book buttons.
            "takes_families": and_(
                ~institution_blacklisted(page.c.id),
                or_(page.c.filing_status == "filed", bindparam("unfiled_ok", type_=Boolean)),
            ),
            # 备案 approved on (local date; filing domain)
            "filed_at": func.to_char(func.timezone("Asia/Shanghai", page.c.filed_at), "YYYY-MM-DD"),
        },
    )


async def institution_detail(db: AsyncSession, settings: Settings, institution_id: uuid.UUID) -> bytes:
    """``InstitutionDetail`` JSON."""
    await autocommit_reads(db)
    params = {"id": institution_id, "unfiled_ok": settings.unfiled_can_take_bookings}
    row = (await db.execute(_detail_statement(), params)).first()
    if row is None:
        raise NotFound("institution")
    return row.item.encode()


async def load_institution(db: AsyncSession, p: Principal, institution_id: uuid.UUID, act: Action) -> Institution:
    """The institution, if ``act``'s scope lets ``p`` act on it; 404 otherwise (as if it did not exist)."""
    inst = (
        await db.execute(select(Institution).where(Institution.id == institution_id, act.where(p)))
    ).scalar_one_or_none()
    if inst is None:
        raise NotFound("institution")
    return inst
