"""Statistics (统计监测): the figures the city plan's targets are tracked with, per unit and
city-wide, by month, computed in a handful of grouped SQL statements (never one query per unit or
month).

Months are calendar months in Daqing's local time (Asia/Shanghai, UTC+8 all year). Stocks are as of
the month's end, built as running sums over the month in which each row appeared:

* institutions and their flags count from ``institutions.created_at``; the flags (普惠, 示范, home-based,
  kindergarten class) are today's values — they are not historized;
* places (托位) are the classes existing at the month's end (created by then, in an institution created
  by then) with their *current* capacity — class capacities are not historized either;
* filed (备案) institutions count from ``institutions.filed_at`` (set when an institution becomes filed,
  cleared when it stops being filed: so these are the institutions filed *now*, from their filing date);
  without that column, an institution created by the month's end and filed now counts (noted in ``notes``).

Flows belong to the month they happen in: hourly/temporary slots by their (local) day, complaints by
``created_at`` (filed) and ``closed_at`` (resolved), parenting guidance by the event's ``starts_at``.
Occupancy of full- and half-day places is the current state of the classes.

Institutions blacklisted today (an entry in force) are left out of every stock — institutions, flags,
places, filed — and of occupancy: a barred institution is not part of the supply, nor of the
filing rate's denominator. Like the flags this is today's state (not historized). Flows that
happened (slots, complaints, guidance) keep counting.

Figures that are not additive (median resolution time, distinct families reached) are computed
city-wide with GROUPING SETS, not summed over units.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.childhealth.rates import TARGET_PCT, Rates, rates
from backend.complaints.routing import CATEGORIES
from backend.core.authz import Principal
from backend.core.clock import CHINA, local_today, utcnow
from backend.core.errors import BadRequest, NotFound, RuleViolation
from backend.government.models import Unit
from backend.statistics import permissions as P
from backend.statistics.schemas import (
    AreaFigures,
    MonthFigures,
    Occupancy,
    Overview,
    PlacesByClassType,
    Targets,
)

PLACES_PER_1000_TARGET = 4.5
DEMONSTRATION_PER_UNIT = 1
DEFAULT_MONTHS = 12
MAX_MONTHS = 36
TZ = "Asia/Shanghai"
MONTH_PATTERN = r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$"
_MONTH_RE = re.compile(MONTH_PATTERN)
CLASS_TYPES = ("infant", "toddler", "older_toddler", "mixed")

NOTE_HISTORY = (
    "Places (托位) as of a month's end count the classes existing then with their current capacity; "
    "institution flags (普惠, 示范, kind) are current values: neither is historized. "
    "月末托位数按当时已设立班级的现有班额计算，机构属性（普惠、示范等）为当前值。"
)
NOTE_OCCUPANCY = "Occupancy is the current state of full- and half-day classes. 全日托、半日托入托率为当前数据。"


# ---------------------------------------------------------------------------------------------- months


def parse_month(value: str, field: str) -> dt.date:
    if not _MONTH_RE.match(value):
        raise BadRequest(
            f"{field} must be a month as YYYY-MM",
            detail_zh="月份格式应为 YYYY-MM",
            code="bad_month",
            extra={"field": field},
        )
    return dt.date(int(value[:4]), int(value[5:7]), 1)


def add_months(month: dt.date, n: int) -> dt.date:
    y, m = divmod(month.year * 12 + month.month - 1 + n, 12)
    return dt.date(y, m + 1, 1)


def months_between(first: dt.date, last: dt.date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month + 1


def month_range(from_month: str | None, to_month: str | None, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The first and last month (first days): default the last 12 months up to the current one."""
    current = (today or local_today()).replace(day=1)
    first = parse_month(from_month, "from") if from_month else None
    if to_month:
        last = parse_month(to_month, "to")
    elif first is not None:
        last = max(first, min(add_months(first, DEFAULT_MONTHS - 1), current))
    else:
        last = current
    if first is None:
        first = add_months(last, -(DEFAULT_MONTHS - 1))
    if first > last:
        raise RuleViolation("from must not be after to", detail_zh="起始月份不能晚于结束月份", code="bad_month_range")
    if months_between(first, last) > MAX_MONTHS:
        raise RuleViolation(
            f"At most {MAX_MONTHS} months at a time",
            detail_zh=f"一次最多查询 {MAX_MONTHS} 个月",
            code="month_range_too_long",
            extra={"max_months": MAX_MONTHS},
        )
    return first, last


def month_label(month: dt.date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def local_start(month: dt.date) -> dt.datetime:
    return dt.datetime(month.year, month.month, 1, tzinfo=CHINA)


# ---------------------------------------------------------------------------------------------- SQL

# A timestamptz's local month (first day).
_LOCAL_MONTH = "date_trunc('month', {col} AT TIME ZONE '" + TZ + "')::date"


# Institutions blacklisted now (an entry in force today, Daqing time) are not part of the supply: their
# places, flags and filing are left out of every stock and of occupancy (like the flags, this is
# today's state, not historized). ``backend.blacklist.models.in_force`` says the same in SQLAlchemy.
NOT_BLACKLISTED = f"""NOT EXISTS (
    SELECT 1 FROM blacklist_entries bl
    WHERE bl.institution_id = i.id AND bl.revoked_at IS NULL
      AND bl.effective_from <= (now() AT TIME ZONE '{TZ}')::date
      AND (bl.effective_until IS NULL OR bl.effective_until >= (now() AT TIME ZONE '{TZ}')::date))"""


def _stock_sql() -> str:
    """Running sums per unit × month of everything that counts from the moment it appeared."""
    places = ", ".join(f"CASE WHEN c.class_type = '{t}' THEN c.capacity ELSE 0 END AS p_{t}" for t in CLASS_TYPES)
    zeros_places = ", ".join(f"0 AS p_{t}" for t in CLASS_TYPES)
    zeros_places_nameless = ", ".join("0" for _ in CLASS_TYPES)
    filed = (
        "SELECT i.unit_code, i.filed_at, 0, 0, 0, 0, 0, 0, " + zeros_places_nameless + ", 0, 1 "
        "FROM institutions i WHERE i.filed_at IS NOT NULL AND i.unit_code = ANY(:units) AND " + NOT_BLACKLISTED
    )
    sums = ", ".join(
        f"sum(coalesce(b.{c}, 0)) OVER w AS {c}"
        for c in (
            "institutions",
            "home_based",
            "kindergarten_class",
            "inclusive",
            "demonstration",
            "places",
            *(f"p_{t}" for t in CLASS_TYPES),
            "inclusive_places",
            "filed",
        )
    )
    cols = ", ".join(
        f"sum({c}) AS {c}"
        for c in (
            "institutions",
            "home_based",
            "kindergarten_class",
            "inclusive",
            "demonstration",
            "places",
            *(f"p_{t}" for t in CLASS_TYPES),
            "inclusive_places",
            "filed",
        )
    )
    return f"""
WITH deltas AS (
    SELECT i.unit_code AS unit, i.created_at AS at, 1 AS institutions,
           i.is_home_based::int AS home_based, i.is_kindergarten_class::int AS kindergarten_class,
           i.is_inclusive::int AS inclusive, i.is_demonstration::int AS demonstration,
           0 AS places, {zeros_places}, 0 AS inclusive_places, 0 AS filed
    FROM institutions i WHERE i.unit_code = ANY(:units) AND {NOT_BLACKLISTED}
    UNION ALL
    SELECT i.unit_code, greatest(c.created_at, i.created_at), 0, 0, 0, 0, 0,
           c.capacity, {places}, CASE WHEN i.is_inclusive THEN c.capacity ELSE 0 END, 0
    FROM classes c JOIN institutions i ON i.id = c.institution_id
    WHERE i.unit_code = ANY(:units) AND {NOT_BLACKLISTED}
    UNION ALL
    {filed}
),
bucketed AS (
    SELECT unit, greatest({_LOCAL_MONTH.format(col="at")}, CAST(:first AS date)) AS month, {cols}
    FROM deltas WHERE at < :ends GROUP BY 1, 2
)
SELECT u.code AS unit, m.month::date AS month, {sums}
FROM units u
CROSS JOIN generate_series(CAST(:first AS date), CAST(:last AS date), interval '1 month') AS m(month)
LEFT JOIN bucketed b ON b.unit = u.code AND b.month = m.month::date
WHERE u.code = ANY(:units)
WINDOW w AS (PARTITION BY u.code ORDER BY m.month)
"""


_OCCUPANCY_SQL = (
    """
SELECT i.unit_code AS unit, sum(c.capacity) AS places,
       sum(c.offline_count + c.offered_count + c.enrolled_count) AS taken
FROM classes c JOIN institutions i ON i.id = c.institution_id
WHERE i.unit_code = ANY(:units) AND """
    + NOT_BLACKLISTED
    + """
GROUP BY 1
"""
)

_SLOTS_SQL = """
SELECT i.unit_code AS unit, date_trunc('month', s.day)::date AS month,
       sum(s.capacity) AS capacity, sum(s.booked) AS booked
FROM slots s JOIN institutions i ON i.id = s.institution_id
WHERE s.day >= :first AND s.day < :after AND i.unit_code = ANY(:units)
GROUP BY 1, 2
"""

# GROUPING(unit) = 1 marks the city-wide rows (all complaints, also those without a unit, when the
# caller sees the whole city).
_COMPLAINTS_SQL = f"""
SELECT unit, GROUPING(unit) AS city, month, category, count(*) AS n
FROM (
    SELECT unit_code AS unit, {_LOCAL_MONTH.format(col="created_at")} AS month, category
    FROM complaints
    WHERE created_at >= :starts AND created_at < :ends AND (:all_units OR unit_code = ANY(:units))
) c
GROUP BY GROUPING SETS ((unit, month, category), (month, category))
"""

_RESOLVED_SQL = f"""
SELECT unit, GROUPING(unit) AS city, month, count(*) AS n,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) AS median_h
FROM (
    SELECT unit_code AS unit, {_LOCAL_MONTH.format(col="closed_at")} AS month,
           extract(epoch FROM closed_at - created_at) / 3600 AS hours
    FROM complaints
    WHERE status = 'resolved' AND closed_at >= :starts AND closed_at < :ends
      AND (:all_units OR unit_code = ANY(:units))
) c
GROUP BY GROUPING SETS ((unit, month), (month))
"""

_GUIDANCE_SQL = f"""
SELECT unit, GROUPING(unit) AS city, month, count(DISTINCT account_id) AS n
FROM (
    SELECT e.unit_code AS unit, {_LOCAL_MONTH.format(col="e.starts_at")} AS month, r.account_id
    FROM guidance_registrations r JOIN guidance_events e ON e.id = r.event_id
    WHERE r.status = 'attended' AND e.starts_at >= :starts AND e.starts_at < :ends
      AND (:all_units OR e.unit_code = ANY(:units))
) g
GROUP BY GROUPING SETS ((unit, month), (month))
"""


# ---------------------------------------------------------------------------------------------- assembling


@dataclass(frozen=True, slots=True)
class Query:
    first: dt.date
    last: dt.date
    unit: int | None


def _pct(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _per_1000(places: int, population: int) -> float:
    return round(1000.0 * places / population, 2) if population else 0.0


async def _rows(db: AsyncSession, sql: str, **params: Any) -> list[Any]:
    return list((await db.execute(text(sql), params)).mappings().all())


@dataclass(frozen=True, slots=True)
class _Scope:
    """Which units an overview covers: every unit (for city sums), those shown, and whether the city is."""

    all_units: list[Unit]
    visible: list[Unit]
    with_city: bool

    @property
    def codes(self) -> list[int]:
        return [u.code for u in self.visible]


@dataclass(frozen=True, slots=True)
class _Data:
    """The period's figures as the queries return them, keyed by (unit code, or None for the city; month)."""

    stock: dict[tuple[int, dt.date], Any]
    occupancy: dict[int, Any]
    slots: dict[tuple[int, dt.date], Any]
    complaints: dict[tuple[int | None, dt.date], dict[str, int]]
    resolved: dict[tuple[int | None, dt.date], Any]
    guidance: dict[tuple[int | None, dt.date], int] | None  # None: guidance figures are not available
    health: dict[tuple[int, dt.date], Rates]  # the two 95 % rates' counts per unit (backend/childhealth/rates.py)


_CITY = None  # the key of city-wide figures
_ZERO_STOCK = {
    "institutions": 0,
    "home_based": 0,
    "kindergarten_class": 0,
    "inclusive": 0,
    "demonstration": 0,
    "places": 0,
    **{f"p_{t}": 0 for t in CLASS_TYPES},
    "inclusive_places": 0,
    "filed": 0,
}


async def overview(
    db: AsyncSession, p: Principal, *, from_month: str | None, to_month: str | None, unit: int | None
) -> Overview:
    first, last = month_range(from_month, to_month)
    scope = await _scope(db, p, unit)
    months = [add_months(first, k) for k in range(months_between(first, last))]
    data = await _load(db, scope, months)
    return Overview(
        from_month=month_label(first),
        to_month=month_label(last),
        months=[month_label(m) for m in months],
        timezone=TZ,
        generated_at=utcnow(),
        targets=Targets(places_per_1000=PLACES_PER_1000_TARGET, demonstration_per_unit=DEMONSTRATION_PER_UNIT),
        units=[_unit_figures(data, scope, u, months) for u in scope.visible],
        city=_city_figures(data, scope, months) if scope.with_city else None,
        notes=[NOTE_HISTORY, NOTE_OCCUPANCY],
    )


async def _scope(db: AsyncSession, p: Principal, unit: int | None) -> _Scope:
    """The units the caller may see (404 for a unit outside them), narrowed to ``unit`` when given."""
    all_units = list((await db.execute(select(Unit).order_by(Unit.sort_order, Unit.code))).scalars())
    by_code = {u.code: u for u in all_units}
    visible = [
        u for u in all_units if u.code in set((await db.execute(select(Unit.code).where(P.VIEW.where(p)))).scalars())
    ]
    if unit is not None:
        if unit not in by_code:
            raise NotFound("unit", code="unknown_unit", detail_zh="未知的行政区划代码", extra={"unit": unit})
        if unit not in {u.code for u in visible}:
            raise NotFound("unit")
        visible = [by_code[unit]]
    return _Scope(all_units, visible, with_city=unit is None and P.sees_city(p))


async def _load(db: AsyncSession, scope: _Scope, months: list[dt.date]) -> _Data:
    """Run the period's queries (stock, occupancy, slots, complaints, resolutions, guidance, health rates)
    over ``months`` (the period's months in order)."""
    codes = scope.codes
    first, last = months[0], months[-1]
    after = add_months(last, 1)
    starts, ends = local_start(first), local_start(after)
    stock = await _rows(db, _stock_sql(), units=codes, first=first, last=last, ends=ends)
    occupancy = {r["unit"]: r for r in await _rows(db, _OCCUPANCY_SQL, units=codes)}
    slots = await _rows(db, _SLOTS_SQL, units=codes, first=first, after=after)
    flow = {"starts": starts, "ends": ends, "all_units": scope.with_city, "units": codes}
    complaints = await _rows(db, _COMPLAINTS_SQL, **flow)
    resolved = await _rows(db, _RESOLVED_SQL, **flow)
    guidance = await _rows(db, _GUIDANCE_SQL, **flow)
    health = await rates(db, codes, months)

    def key(r: Any) -> tuple[int | None, dt.date]:
        return (_CITY if r["city"] else r["unit"], r["month"])

    by_category: dict[tuple[int | None, dt.date], dict[str, int]] = {}
    for r in complaints:
        by_category.setdefault(key(r), {})[r["category"]] = r["n"]
    return _Data(
        stock={(r["unit"], r["month"]): r for r in stock},
        occupancy=occupancy,
        slots={(r["unit"], r["month"]): r for r in slots},
        complaints=by_category,
        resolved={key(r): r for r in resolved},
        guidance=None if guidance is None else {key(r): r["n"] for r in guidance},
        health=health,
    )


def _month_figures(
    data: _Data,
    scope: _Scope,
    key: int | None,
    month: dt.date,
    s: dict[str, Any],
    population: int,
    units_meeting: int | None,
) -> MonthFigures:
    """One unit's (or, ``key`` None, the city's) figures of one month; ``s`` is its stock row."""
    slot_cap, slot_booked = _slot_use(data, scope, key, month)
    hr = _health_counts(data, scope, key, month)
    health_pct, guidance_pct = _pct(hr.managed, hr.children), _pct(hr.reached, hr.families)
    by_cat = {code: data.complaints.get((key, month), {}).get(code, 0) for code in CATEGORIES}
    res = data.resolved.get((key, month))
    places = int(s["places"])
    demonstration = int(s["demonstration"])
    return MonthFigures(
        month=month_label(month),
        institutions=int(s["institutions"]),
        home_based=int(s["home_based"]),
        kindergarten_class=int(s["kindergarten_class"]),
        inclusive_institutions=int(s["inclusive"]),
        demonstration=demonstration,
        demonstration_met=(
            demonstration >= DEMONSTRATION_PER_UNIT if units_meeting is None else units_meeting == len(scope.all_units)
        ),
        units_meeting_demonstration=units_meeting,
        places=places,
        places_by_class_type=PlacesByClassType(**{t: int(s[f"p_{t}"]) for t in CLASS_TYPES}),
        inclusive_places=int(s["inclusive_places"]),
        inclusive_share_pct=_pct(int(s["inclusive_places"]), places),
        population=population,
        places_per_1000=_per_1000(places, population),
        places_target_met=1000.0 * places / population >= PLACES_PER_1000_TARGET if population else False,
        filed=int(s["filed"]),
        filing_rate_pct=_pct(int(s["filed"]), int(s["institutions"])),
        slot_capacity=slot_cap,
        slot_booked=slot_booked,
        slot_use_pct=_pct(slot_booked, slot_cap),
        complaints=sum(by_cat.values()),
        complaints_by_category=by_cat,
        complaints_resolved=int(res["n"]) if res else 0,
        median_resolution_hours=round(float(res["median_h"]), 1) if res and res["median_h"] is not None else None,
        families_reached=None if data.guidance is None else int(data.guidance.get((key, month), 0)),
        children_under3_in_care=hr.children,
        health_managed=hr.managed,
        health_management_rate_pct=health_pct,
        health_management_target_met=health_pct is not None and health_pct >= TARGET_PCT,
        guidance_families=hr.families,
        guidance_families_reached=hr.reached,
        guidance_rate_pct=guidance_pct,
        guidance_target_met=guidance_pct is not None and guidance_pct >= TARGET_PCT,
    )


def _health_counts(data: _Data, scope: _Scope, key: int | None, month: dt.date) -> Rates:
    """The unit's counts behind the health-management and guidance rates, or the sum over the units shown."""
    if key is not None:
        return data.health.get((key, month), Rates())
    total = Rates()
    for code in scope.codes:
        total.add(data.health.get((code, month), Rates()))
    return total


def _slot_use(data: _Data, scope: _Scope, key: int | None, month: dt.date) -> tuple[int, int]:
    """(capacity, booked) of the month's hourly-care slots: the unit's, or the sum over the units shown."""
    if key is None:
        rows = [data.slots[(c, month)] for c in scope.codes if (c, month) in data.slots]
    else:
        rows = [data.slots[(key, month)]] if (key, month) in data.slots else []
    return sum(int(r["capacity"]) for r in rows), sum(int(r["booked"]) for r in rows)


def _occupancy(places: int, taken: int) -> Occupancy:
    return Occupancy(places=places, places_taken=taken, occupancy_pct=_pct(taken, places))


def _unit_figures(data: _Data, scope: _Scope, u: Unit, months: list[dt.date]) -> AreaFigures:
    occ = data.occupancy.get(u.code)
    return AreaFigures(
        unit_code=u.code,
        name_zh=u.name_zh,
        name_en=u.name_en,
        population=u.population,
        occupancy=_occupancy(int(occ["places"]) if occ else 0, int(occ["taken"]) if occ else 0),
        months=[
            _month_figures(data, scope, u.code, m, data.stock.get((u.code, m), _ZERO_STOCK), u.population, None)
            for m in months
        ],
    )


def _city_figures(data: _Data, scope: _Scope, months: list[dt.date]) -> AreaFigures:
    """The city: the units' stock summed per month, and how many units meet the demonstration target."""
    population = sum(u.population for u in scope.all_units)
    city_months = []
    for m in months:
        rows = [data.stock.get((c, m), _ZERO_STOCK) for c in scope.codes]
        summed = {k: sum(int(r[k]) for r in rows) for k in _ZERO_STOCK}
        meeting = sum(1 for r in rows if int(r["demonstration"]) >= DEMONSTRATION_PER_UNIT)
        city_months.append(_month_figures(data, scope, _CITY, m, summed, population, meeting))
    return AreaFigures(
        unit_code=None,
        name_zh="大庆市",
        name_en="Daqing",
        population=population,
        occupancy=_occupancy(
            sum(int(r["places"]) for r in data.occupancy.values()),
            sum(int(r["taken"]) for r in data.occupancy.values()),
        ),
        months=city_months,
    )
