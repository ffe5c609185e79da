"""Statistics (统计监测): exact figures for a small world in two units, month boundaries in local time,
the targets, who may see what, bad input, and the CSV export matching the JSON."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text, update

from backend.bookings.models import Slot
from backend.complaints.models import Complaint
from backend.core.authz import Role
from backend.core.clock import CHINA
from backend.institutions.models import CareClass, Institution
from backend.statistics import service
from backend.statistics.export import MONTH_METRICS
from backend.statistics.schemas import MonthFigures, Overview
from tests.strict import strict

URL = "/api/statistics/overview"
CSV_URL = "/api/statistics/export.csv"
A, B = 230621, 230622  # 肇州县 (population set to 10,000 here), 肇源县 (20,000)
RANGE = {"from": "2025-01", "to": "2025-03"}
UTC = dt.UTC


def local(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, s, tzinfo=CHINA)


@dataclass
class World:
    admin: dict[str, str]
    a1: Institution
    a2: Institution
    a3: Institution
    b1: Institution


async def _born(db: Any, inst: Institution, at: dt.datetime) -> None:
    """Backdate an institution and its classes to ``at``."""
    await db.execute(update(Institution).where(Institution.id == inst.id).values(created_at=at))
    await db.execute(update(CareClass).where(CareClass.institution_id == inst.id).values(created_at=at))


def _complaint(unit: int | None, category: str, created: dt.datetime, **kw: Any) -> Complaint:
    return Complaint(
        id=uuid.uuid4(),
        tracking_digest=uuid.uuid4().bytes * 2,
        category=category,
        urgent=category == "child_safety",
        target_type="place",
        description="统计测试",
        address="大庆市测试路",
        unit_code=unit,
        department_codes=["health"],
        created_at=created,
        ack_due_at=created + dt.timedelta(days=1),
        resolve_due_at=created + dt.timedelta(days=21),
        **kw,
    )


def _resolved(unit: int | None, category: str, created: dt.datetime, hours: float) -> Complaint:
    return _complaint(unit, category, created, status="resolved", closed_at=created + dt.timedelta(hours=hours))


@pytest.fixture
async def world(db: Any, factory: Any) -> World:
    await db.execute(text("UPDATE units SET population = 10000 WHERE code = :c"), {"c": A})
    await db.execute(text("UPDATE units SET population = 20000 WHERE code = :c"), {"c": B})
    # A: a1 inclusive demonstration centre (since Dec 2024), 25 places, filed.
    a1 = await factory.institution(
        unit_code=A,
        is_inclusive=True,
        is_demonstration=True,
        classes=[("infant", 10, 4, 6), ("toddler", 15, 3, 5)],
    )
    await _born(db, a1, local(2024, 12, 15))
    # a2: appears at local midnight of 1 February (still 31 January in UTC), 20 places, not filed.
    a2 = await factory.institution(unit_code=A, filing_status="unfiled", classes=[("older_toddler", 20, 3, 10)])
    await _born(db, a2, local(2025, 2, 1))
    # a3: a home-based point from 10 March, 5 places, filed.
    a3 = await factory.institution(unit_code=A, is_home_based=True, classes=[("toddler", 5, 2, 1)])
    await _born(db, a3, local(2025, 3, 10))
    # B: a kindergarten nursery class since 2024, 20 places (full), filed, no demonstration centre.
    b1 = await factory.institution(unit_code=B, is_kindergarten_class=True, classes=[("older_toddler", 20, 3, 20)])
    await _born(db, b1, local(2024, 6, 1))
    await db.execute(
        text("UPDATE institutions SET filed_at = :at WHERE id = :id"), {"at": local(2024, 12, 20), "id": a1.id}
    )
    await db.execute(
        text("UPDATE institutions SET filed_at = :at WHERE id = :id"), {"at": local(2025, 3, 12), "id": a3.id}
    )
    await db.execute(
        text("UPDATE institutions SET filed_at = :at WHERE id = :id"), {"at": local(2024, 7, 1), "id": b1.id}
    )
    # Hourly slots at a1: 31 January (4 places, 3 taken) and 1 February (2 places, none taken).
    db.add_all(
        [
            Slot(
                id=uuid.uuid4(),
                institution_id=a1.id,
                day=dt.date(2025, 1, 31),
                band="toddler",
                start_min=540,
                end_min=600,
                capacity=4,
                booked=3,
            ),
            Slot(
                id=uuid.uuid4(),
                institution_id=a1.id,
                day=dt.date(2025, 2, 1),
                band="toddler",
                start_min=540,
                end_min=600,
                capacity=2,
                booked=0,
            ),
        ]
    )
    db.add_all(
        [
            # the last second of January, local time; resolved 10 h later (in February)
            _resolved(A, "food_safety", local(2025, 1, 31, 23, 59, 59), 10),
            # the first second of February, local time (still January in UTC); resolved after 30 h
            _resolved(A, "fire_safety", local(2025, 2, 1), 30),
            _resolved(A, "food_safety", local(2025, 2, 10), 50),
            _complaint(A, "other", local(2025, 2, 11), status="rejected", closed_at=local(2025, 2, 12)),
            _resolved(B, "child_safety", local(2025, 2, 5), 2),
            _resolved(None, "other", local(2025, 2, 6), 200),  # no unit: city-wide only
            _resolved(B, "staff_conduct", local(2025, 1, 20), 300),  # filed in January, resolved in February
            _complaint(A, "fees", local(2025, 3, 3)),  # still open
        ]
    )
    await db.commit()
    _, admin = await factory.signed_in(Role.CITY_ADMIN)
    return World(admin=admin, a1=a1, a2=a2, a3=a3, b1=b1)


def _month(area: Any, month: str) -> MonthFigures:
    return next(m for m in area.months if m.month == month)


def _unit(o: Overview, code: int) -> Any:
    return next(u for u in o.units if u.unit_code == code)


async def _get(client: Any, headers: dict[str, str], **params: Any) -> Overview:
    r = await client.get(URL, params=params, headers=headers)
    assert r.status_code == 200, r.text
    return strict(r.content, Overview)


async def test_figures_per_unit_and_month(client: Any, world: World) -> None:
    o = await _get(client, world.admin, **RANGE)
    assert o.months == ["2025-01", "2025-02", "2025-03"] and o.timezone == "Asia/Shanghai"
    assert o.targets.places_per_1000 == 4.5 and o.targets.demonstration_per_unit == 1
    assert [u.unit_code for u in o.units] == [
        230602,
        230604,
        230603,
        230605,
        230606,
        230671,
        230621,
        230622,
        230623,
        230624,
    ]
    a, b = _unit(o, A), _unit(o, B)

    jan, feb, mar = (_month(a, m) for m in o.months)
    # stocks as of each month's end: a2 appears at local midnight on 1 February, not in January
    assert (jan.institutions, feb.institutions, mar.institutions) == (1, 2, 3)
    assert (jan.places, feb.places, mar.places) == (25, 45, 50)
    assert jan.places_by_class_type.infant == 10 and jan.places_by_class_type.toddler == 15
    assert (feb.places_by_class_type.older_toddler, mar.places_by_class_type.toddler) == (20, 20)
    assert mar.home_based == 1 and feb.home_based == 0
    # places per 1,000 against 4.5 (met at exactly 4.5)
    assert (jan.places_per_1000, jan.places_target_met) == (2.5, False)
    assert (feb.places_per_1000, feb.places_target_met) == (4.5, True)
    assert (mar.places_per_1000, mar.places_target_met) == (5.0, True)
    assert jan.population == 10000
    # 普惠: a1's 25 places
    assert (jan.inclusive_places, jan.inclusive_share_pct) == (25, 100.0)
    assert (feb.inclusive_places, feb.inclusive_share_pct) == (25, 55.6)
    assert (jan.inclusive_institutions, jan.demonstration, jan.demonstration_met) == (1, 1, True)
    assert jan.units_meeting_demonstration is None
    # filing: a1 filed; a2 not; a3 filed in March
    assert (jan.filed, jan.filing_rate_pct) == (1, 100.0)
    assert (feb.filed, feb.filing_rate_pct) == (1, 50.0)
    assert (mar.filed, mar.filing_rate_pct) == (2, 66.7)
    # hourly slots by local day
    assert (jan.slot_capacity, jan.slot_booked, jan.slot_use_pct) == (4, 3, 75.0)
    assert (feb.slot_capacity, feb.slot_booked, feb.slot_use_pct) == (2, 0, 0.0)
    assert (mar.slot_capacity, mar.slot_use_pct) == (0, None)
    # complaints by local month of filing; resolution by local month of closing
    assert jan.complaints == 1 and jan.complaints_by_category["food_safety"] == 1
    assert set(jan.complaints_by_category) == set(service.CATEGORIES)
    assert feb.complaints == 3
    assert (feb.complaints_by_category["fire_safety"], feb.complaints_by_category["food_safety"]) == (1, 1)
    assert feb.complaints_by_category["other"] == 1
    assert mar.complaints == 1 and mar.complaints_by_category["fees"] == 1
    assert (jan.complaints_resolved, jan.median_resolution_hours) == (0, None)
    assert (feb.complaints_resolved, feb.median_resolution_hours) == (3, 30.0)  # 10, 30, 50 h; rejected ones not
    # current occupancy: 6 + 5 + 10 + 1 of 50
    assert (a.occupancy.places, a.occupancy.places_taken, a.occupancy.occupancy_pct) == (50, 22, 44.0)

    bjan, bfeb = _month(b, "2025-01"), _month(b, "2025-02")
    assert (bjan.institutions, bjan.kindergarten_class, bjan.places, bjan.places_per_1000) == (1, 1, 20, 1.0)
    assert bjan.places_target_met is False
    assert (bjan.demonstration, bjan.demonstration_met) == (0, False)
    assert (bjan.filed, bjan.filing_rate_pct) == (1, 100.0)
    assert bjan.complaints_by_category["staff_conduct"] == 1
    assert (bfeb.complaints_resolved, bfeb.median_resolution_hours) == (2, 151.0)  # 2 and 300 h
    assert (b.occupancy.places_taken, b.occupancy.occupancy_pct) == (20, 100.0)


async def test_city_wide(client: Any, world: World, db: Any) -> None:
    o = await _get(client, world.admin, **RANGE)
    assert o.city is not None and o.city.unit_code is None
    population = (await db.execute(text("SELECT sum(population) FROM units"))).scalar()
    assert o.city.population == population
    for month in o.months:
        c = _month(o.city, month)
        units = [_month(u, month) for u in o.units]
        # stocks are sums over the units
        for field in ("institutions", "places", "inclusive_places", "filed", "slot_capacity", "slot_booked"):
            assert getattr(c, field) == sum(getattr(u, field) for u in units), (month, field)
        assert c.units_meeting_demonstration == sum(1 for u in units if u.demonstration_met)
        assert c.demonstration_met == (c.units_meeting_demonstration == 10)
        assert c.places_per_1000 == round(1000 * c.places / population, 2)
    feb = _month(o.city, "2025-02")
    # the complaint without a unit counts city-wide only; the median is over the whole city, not summed
    assert feb.complaints == 5 and feb.complaints_by_category["other"] == 2
    assert (feb.complaints_resolved, feb.median_resolution_hours) == (6, 40.0)  # 2, 10, 30, 50, 200, 300 h
    assert _month(o.city, "2025-01").complaints == 2


async def test_one_unit_and_default_range(client: Any, world: World) -> None:
    o = await _get(client, world.admin, unit=A, **RANGE)
    assert [u.unit_code for u in o.units] == [A] and o.city is None
    today = dt.datetime.now(CHINA).date().replace(day=1)
    o = await _get(client, world.admin)
    assert len(o.months) == 12 and o.to_month == f"{today.year:04d}-{today.month:02d}"
    assert o.from_month == service.month_label(service.add_months(today, -11))
    o = await _get(client, world.admin, **{"from": "2023-01"})
    assert (o.from_month, o.to_month) == ("2023-01", "2023-12")
    o = await _get(client, world.admin, **{"from": "2023-01", "to": "2025-12"})
    assert len(o.months) == 36


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"from": "2025-13"}, "validation_error"),
        ({"from": "2025-1"}, "validation_error"),
        ({"to": "25-01"}, "validation_error"),
        ({"from": "2025-03", "to": "2025-01"}, "bad_month_range"),
        ({"from": "2022-01", "to": "2025-01"}, "month_range_too_long"),
        ({"unit": "abc"}, "validation_error"),
    ],
)
async def test_bad_input(client: Any, factory: Any, params: dict[str, str], code: str) -> None:
    _, admin = await factory.signed_in(Role.CITY_ADMIN)
    for url in (URL, CSV_URL):
        r = await client.get(url, params=params, headers=admin)
        assert r.status_code == (400 if code == "validation_error" else 422), r.text
        body = r.json()
        assert body["detail_zh"]
        if code != "validation_error":
            assert body["code"] == code


async def test_who_may_see(client: Any, factory: Any, world: World) -> None:
    assert (await client.get(URL)).status_code == 401
    for role, kw in (
        (Role.PARENT, {}),
        (Role.INSTITUTION_ADMIN, {"institution_id": world.a1.id}),
        (Role.INSTITUTION_STAFF, {"institution_id": world.a1.id}),
    ):
        _, headers = await factory.signed_in(role, **kw)
        for url in (URL, CSV_URL):
            r = await client.get(url, params=RANGE, headers=headers)
            assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = await client.get(URL, params={"unit": "999999"}, headers=world.admin)
    assert (r.status_code, r.json()["code"]) == (404, "unknown_unit")
    # a unit officer sees their unit only, never the city-wide totals
    _, zhaozhou = await factory.signed_in(Role.OFFICER, department="health", unit=A)
    o = await _get(client, zhaozhou, **RANGE)
    assert [u.unit_code for u in o.units] == [A] and o.city is None
    assert _month(o.units[0], "2025-02").places == 45
    assert (await client.get(URL, params={"unit": B}, headers=zhaozhou)).status_code == 404
    assert (await client.get(CSV_URL, params={"unit": B}, headers=zhaozhou)).status_code == 404
    assert (await _get(client, zhaozhou, unit=A, **RANGE)).units[0].unit_code == A
    # a city-wide officer sees everything
    _, health = await factory.signed_in(Role.OFFICER, department="health")
    o = await _get(client, health, **RANGE)
    assert len(o.units) == 10 and o.city is not None


async def test_csv_matches_json(client: Any, world: World) -> None:
    o = await _get(client, world.admin, **RANGE)
    r = await client.get(CSV_URL, params=RANGE, headers=world.admin)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == 'attachment; filename="daqing-statistics-2025-01-2025-03.csv"'
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert list(rows[0]) == ["month", "unit_code", "unit", "metric", "metric_zh", "value", "target", "met"]
    areas = [*o.units, o.city]
    assert len(rows) == len(areas) * (3 + len(o.months) * len(MONTH_METRICS))
    table = {(row["month"], row["unit_code"], row["metric"]): row for row in rows}
    for area in areas:
        assert area is not None
        code = "" if area.unit_code is None else str(area.unit_code)
        assert table[("current", code, "occupancy_places_taken")]["value"] == str(area.occupancy.places_taken)
        for m in area.months:
            for metric, _ in MONTH_METRICS:
                if metric.startswith("complaints_") and metric != "complaints_resolved":
                    want: Any = m.complaints_by_category[metric.removeprefix("complaints_")]
                elif metric.startswith("places_") and metric != "places_per_1000":
                    want = getattr(m.places_by_class_type, metric.removeprefix("places_"))
                else:
                    want = getattr(m, metric)
                assert table[(m.month, code, metric)]["value"] == ("" if want is None else str(want)), metric
    row = table[("2025-02", str(A), "places_per_1000")]
    assert (row["unit"], row["value"], row["target"], row["met"]) == ("肇州县", "4.5", "4.5", "true")
    assert row["metric_zh"] == "每千人口托位数"
    row = table[("2025-01", str(B), "demonstration")]
    assert (row["value"], row["target"], row["met"]) == ("0", "1", "false")
    # one unit
    r = await client.get(CSV_URL, params={**RANGE, "unit": A}, headers=world.admin)
    assert 'filename="daqing-statistics-2025-01-2025-03-230621.csv"' in r.headers["content-disposition"]
    assert {row["unit_code"] for row in csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")))} == {str(A)}


def test_month_range_rules() -> None:
    today = dt.date(2026, 12, 2)
    assert service.month_range(None, None, today) == (dt.date(2026, 1, 1), dt.date(2026, 12, 1))
    assert service.month_range(None, "2025-06", today) == (dt.date(2024, 7, 1), dt.date(2025, 6, 1))
    assert service.month_range("2026-10", None, today) == (dt.date(2026, 10, 1), dt.date(2026, 12, 1))
    assert service.month_range("2024-01", "2026-12", today) == (dt.date(2024, 1, 1), dt.date(2026, 12, 1))
    with pytest.raises(service.RuleViolation):
        service.month_range("2024-01", "2027-01", today)


async def test_families_reached_by_parenting_guidance(client: Any, db: Any, factory: Any, world: World) -> None:
    p1, p2, p3, p4 = [await factory.account(Role.PARENT) for _ in range(4)]

    async def event(unit: int, starts: dt.datetime, attended: list[Any], others: dict[Any, str]) -> None:
        eid = uuid.uuid4()
        await db.execute(
            text(
                "INSERT INTO guidance_events (id, host_name, unit_code, kind, title, description, address, lat, lng, "
                "starts_at, ends_at, capacity, registered) VALUES (:id, '县妇幼保健院', :unit, 'parent_class', "
                "'科学育儿讲座', '统计测试', '测试路1号', 45.7, 125.27, :s, :e, 30, :n)"
            ),
            {
                "id": eid,
                "unit": unit,
                "s": starts,
                "e": starts + dt.timedelta(hours=2),
                "n": len(attended) + len(others),
            },
        )
        for acc in attended:
            await db.execute(
                text(
                    "INSERT INTO guidance_registrations (id, event_id, account_id, status, attended_at) "
                    "VALUES (:id, :e, :a, 'attended', :at)"
                ),
                {"id": uuid.uuid4(), "e": eid, "a": acc.id, "at": starts},
            )
        for acc, status in others.items():
            await db.execute(
                text(
                    "INSERT INTO guidance_registrations (id, event_id, account_id, status, cancelled_at) "
                    "VALUES (:id, :e, :a, :s, :c)"
                ),
                {
                    "id": uuid.uuid4(),
                    "e": eid,
                    "a": acc.id,
                    "s": status,
                    "c": starts if status == "cancelled" else None,
                },
            )

    # A, February (local): p1 and p2 at one class, p1 again at another, p3 registered but absent
    await event(A, local(2025, 2, 1), [p1, p2], {p3: "no_show"})
    await event(A, local(2025, 2, 20, 9), [p1], {p4: "cancelled"})
    # 23:30 on 31 January local is January, although it is the same UTC day as 1 February 00:00 local
    await event(A, local(2025, 1, 31, 23, 30), [p3], {})
    # B, February: p1 again (a second unit) and p4
    await event(B, local(2025, 2, 14), [p1, p4], {p2: "registered"})
    await db.commit()

    o = await _get(client, world.admin, **RANGE)
    a, b = _unit(o, A), _unit(o, B)
    assert [m.families_reached for m in a.months] == [1, 2, 0]
    assert [m.families_reached for m in b.months] == [0, 2, 0]
    assert o.city is not None
    # city-wide, a family counts once even if reached in two units
    assert [m.families_reached for m in o.city.months] == [1, 3, 0]


async def test_filing_counts_from_the_filing_date(client: Any, db: Any, world: World) -> None:
    # a2 is filed at 00:00 on 1 March local time (still February in UTC): it counts from March
    await db.execute(
        text("UPDATE institutions SET filing_status = 'filed', filed_at = :at WHERE id = :id"),
        {"at": local(2025, 3, 1), "id": world.a2.id},
    )
    await db.commit()
    o = await _get(client, world.admin, **RANGE)
    a = _unit(o, A)
    assert [m.filed for m in a.months] == [1, 1, 3]
    assert [m.filing_rate_pct for m in a.months] == [100.0, 50.0, 100.0]


async def test_blacklisted_institutions_are_not_part_of_the_supply(client: Any, db: Any, world: World) -> None:
    """Found as an attacker: a blacklisted institution still counted in places and in the filing rate's
    denominator. An entry in force today leaves it out of every stock and of occupancy; a revoked or
    expired one does not."""
    creator = (await db.execute(text("SELECT id FROM accounts LIMIT 1"))).scalar_one()
    insert = text(
        """
        INSERT INTO blacklist_entries (id, kind, institution_id, reason, department_code, decision_no, decided_on,
                                       effective_from, effective_until, created_by, created_at)
        VALUES (:id, 'institution', :inst, '统计测试', 'health', '卫健罚〔2025〕1号', :from_, :from_, :until, :by, now())
        """
    )
    today = dt.datetime.now(CHINA).date()
    # expired yesterday: a3 still counts
    await db.execute(
        insert,
        {
            "id": uuid.uuid4(),
            "inst": world.a3.id,
            "from_": today - dt.timedelta(days=30),
            "until": today - dt.timedelta(days=1),
            "by": creator,
        },
    )
    await db.commit()
    a = _unit(await _get(client, world.admin, **RANGE), A)
    assert [m.institutions for m in a.months] == [1, 2, 3] and a.months[-1].filed == 2
    # in force: a1 (filed, 25 places, inclusive, demonstration) leaves every stock
    await db.execute(insert, {"id": uuid.uuid4(), "inst": world.a1.id, "from_": today, "until": None, "by": creator})
    await db.commit()
    o = await _get(client, world.admin, **RANGE)
    a = _unit(o, A)
    jan, feb, mar = a.months
    assert (jan.institutions, feb.institutions, mar.institutions) == (0, 1, 2)
    assert (jan.places, feb.places, mar.places) == (0, 20, 25)
    assert (jan.inclusive_places, jan.demonstration, mar.filed) == (0, 0, 1)
    assert (mar.filed, mar.filing_rate_pct) == (1, 50.0)
    assert a.occupancy.places == 25  # a2 and a3's classes
