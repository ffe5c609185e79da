"""The officers' desk: queue, detail, status changes, notes, time limits, duplicates, merging, who may
look, and two officers at once."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest
from litestar.datastructures import UploadFile
from PIL import Image
from sqlalchemy import func, select, text, update

from backend.accounts.models import Account
from backend.complaints import desk, service
from backend.complaints.models import Complaint, ComplaintUpdate
from backend.complaints.schemas import ComplaintForm, DeskComplaint, DeskItem, Filed, SimilarItem, StaffComplaint
from backend.core.authz import Grant, Principal, Role
from backend.core.clock import CHINA
from backend.core.outbox import Event
from backend.core.workdays import add_working_days
from tests.community import Person
from tests.imagedata import encode
from tests.strict import strict

DESK = "/api/complaints/desk"
SAERTU = (46.63, 125.11)  # unit 230602
ZHAOZHOU = (45.70, 125.27)  # unit 230621
_clients = itertools.count(1)


def png() -> bytes:
    return encode(Image.new("RGB", (16, 12), "red"), "PNG")


@dataclass
class World:
    app: Any
    db: Any
    settings: Any
    inst: Any
    other_inst: Any
    health: Person  # 市卫健委, city-wide
    health_zz: Person  # 肇州县卫健, unit 230621
    police: Person
    market: Person
    admin: Person
    parent: Person
    staff: Person
    other_staff: Person

    async def file(
        self, reporter: Person | None = None, *, photos: int = 0, at: tuple[float, float] | None = SAERTU, **fields: Any
    ) -> Filed:
        """File through the real service (commits its savepoint), as the reporter or anonymously."""
        values: dict[str, Any] = {"category": "health_hygiene", "description": "厕所长期不清洁，有异味", **fields}
        if at is not None and "lat" not in values:
            values["lat"], values["lng"] = at
        form = msgspec.convert(values, ComplaintForm)
        principal = Principal(reporter.id, uuid.uuid4(), (Grant(Role.PARENT),)) if reporter else None
        files = [UploadFile("image/png", f"photo{i}.png", png()) for i in range(photos)]
        return await service.file_complaint(
            self.db,
            self.settings,
            self.app.state.storage,
            principal,
            form,
            files,
            client=f"203.0.113.{next(_clients) % 250 + 1}",
        )

    async def at_institution(self, reporter: Person | None = None, **fields: Any) -> Filed:
        return await self.file(
            reporter, at=None, target_type="institution", institution_id=self.inst.id, category="child_safety", **fields
        )


@pytest.fixture
async def w(app, db, settings, factory) -> World:
    async def who(role: Role, **kw: Any) -> Person:
        return Person(*await factory.signed_in(role, **kw))

    inst = await factory.institution(lat=SAERTU[0], lng=SAERTU[1], unit_code=230602, name="萨尔图测试托育中心")
    other = await factory.institution(lat=46.65, lng=124.87, unit_code=230604)
    return World(
        app=app,
        db=db,
        settings=settings,
        inst=inst,
        other_inst=other,
        health=await who(Role.OFFICER, department="health"),
        health_zz=await who(Role.OFFICER, department="health", unit=230621),
        police=await who(Role.OFFICER, department="police"),
        market=await who(Role.OFFICER, department="market"),
        admin=await who(Role.CITY_ADMIN),
        parent=await who(Role.PARENT),
        staff=await who(Role.INSTITUTION_STAFF, institution_id=inst.id),
        other_staff=await who(Role.INSTITUTION_STAFF, institution_id=other.id),
    )


async def queue(client, who: Person, query: str = "", *, expect: int = 200) -> list[DeskItem]:
    r = await client.get(DESK + query, headers=who.headers)
    assert r.status_code == expect, r.text
    return strict(r.content, list[DeskItem]) if expect == 200 else r.json()


async def move(client, who: Person, complaint_id: uuid.UUID, status: str, note: str = "已处理", **extra: Any):
    return await client.post(
        f"{DESK}/{complaint_id}/transitions",
        headers=who.headers,
        json={"status": status, "public_note": note, **extra},
    )


async def counts(db, complaint_id: uuid.UUID) -> tuple[int, int]:
    """(history rows, events) of a complaint."""
    updates = await db.scalar(
        select(func.count()).select_from(ComplaintUpdate).where(ComplaintUpdate.complaint_id == complaint_id)
    )
    events = await db.scalar(select(func.count()).select_from(Event).where(Event.subject_id == complaint_id))
    return updates, events


async def backdate(db, complaint_id: uuid.UUID, **columns: dt.timedelta) -> None:
    """Move a complaint's times into the past, e.g. ``ack_due_at=timedelta(hours=1)`` → an hour ago."""
    now = dt.datetime.now(dt.UTC)
    await db.execute(
        update(Complaint).where(Complaint.id == complaint_id).values({k: now - v for k, v in columns.items()})
    )
    await db.commit()


# ---------------------------------------------------------------------------------------------- queue


async def test_each_department_sees_its_queue_urgent_and_overdue_first_then_oldest(client, w):
    hygiene_old = await w.file(w.parent, photos=2)
    abuse = await w.at_institution(w.parent)  # urgent: police + health + gov_230602
    food = await w.file(category="food_safety", place_name="某商场母婴室")  # market
    hygiene_late = await w.file(description="已经超时的投诉")
    zhaozhou = await w.file(at=ZHAOZHOU)
    await backdate(w.db, hygiene_old.id, created_at=dt.timedelta(days=3))
    await backdate(w.db, hygiene_late.id, created_at=dt.timedelta(days=2), ack_due_at=dt.timedelta(hours=1))

    health = await queue(client, w.health)
    assert [i.id for i in health] == [abuse.id, hygiene_late.id, hygiene_old.id, zhaozhou.id]
    first = health[0]
    assert first.reference == abuse.reference and first.urgent
    assert first.category == "child_safety" and first.category_zh == "虐童、人身安全"
    assert first.status == "received" and first.status_zh == "已受理登记"
    assert first.institution_id == w.inst.id and first.institution_name == "萨尔图测试托育中心"
    assert first.unit_code == 230602 and first.unit_zh == "萨尔图区"
    assert first.departments == ["gov_230602", "health", "police"]
    assert not first.ack_overdue and not first.resolve_overdue
    assert first.ack_due_at > first.created_at and first.resolve_due_at > first.ack_due_at
    late = health[1]
    assert late.ack_overdue and not late.resolve_overdue
    old = health[2]
    assert old.photos == 2 and old.place_name is None and old.institution_name is None

    assert [i.id for i in await queue(client, w.police)] == [abuse.id]
    assert [i.id for i in await queue(client, w.market)] == [food.id]
    assert {i.id for i in await queue(client, w.admin)} == {
        abuse.id,
        hygiene_late.id,
        hygiene_old.id,
        zhaozhou.id,
        food.id,
    }
    # A unit officer: complaints of the unit only.
    assert [i.id for i in await queue(client, w.health_zz)] == [zhaozhou.id]


async def test_queue_filters(client, w):
    a = await w.file()
    b = await w.file(category="other")
    c = await w.at_institution()
    zz = await w.file(at=ZHAOZHOU)
    assert (await move(client, w.health, a.id, "accepted")).status_code == 200
    assert (await move(client, w.health, b.id, "rejected", "不属于受理范围")).status_code == 200

    async def ids(query: str, who: Person = w.health) -> set[uuid.UUID]:
        return {i.id for i in await queue(client, who, query)}

    assert await ids("") == {a.id, c.id, zz.id}  # open ones by default
    assert await ids("?status=accepted") == {a.id}
    assert await ids("?status=accepted&status=rejected") == {a.id, b.id}
    assert await ids("?status=accepted,rejected,received") == {a.id, b.id, c.id, zz.id}
    assert await ids("?status=rejected&category=other") == {b.id}
    assert await ids("?category=child_safety") == {c.id}
    assert await ids("?unit=230621") == {zz.id}
    assert await ids("?urgent=true") == {c.id}
    assert await ids("?urgent=false") == {a.id, zz.id}
    assert await ids("?department=health") == {a.id, c.id, zz.id}
    assert await ids("?department=gov_230602", w.admin) == {a.id, c.id}
    assert await ids("?department=police", w.admin) == {c.id}
    assert len(await queue(client, w.health, "?limit=2")) == 2
    assert len(await queue(client, w.health, "?limit=2&offset=2")) == 1
    assert await ids("?limit=2&offset=2") | await ids("?limit=2") == {a.id, c.id, zz.id}

    for bad, code in {
        "?status=closed": "validation_error",
        "?status=accepted,,nope": "validation_error",
        "?status=accepted,": "validation_error",
        "?status=accepted&status=": "validation_error",
        "?category=noise": "validation_error",
        "?unit=12": "validation_error",
        "?urgent=maybe": "validation_error",
        "?limit=0": "validation_error",
        "?limit=101": "validation_error",
        "?offset=-1": "validation_error",
        "?department=Health!": "validation_error",
    }.items():
        body = await queue(client, w.health, bad, expect=400)
        assert body["code"] == code, (bad, body)
        assert body["detail_zh"]
    body = await queue(client, w.health, "?department=police", expect=403)
    assert body["code"] == "not_your_department"
    body = await queue(client, w.health_zz, "?department=market", expect=403)
    assert body["code"] == "not_your_department"


async def test_time_limits_flag_and_filter_overdue_complaints(client, w, db):
    fresh = await w.file()
    unacknowledged = await w.file()
    slow = await w.file()
    finished_late = await w.file()
    await backdate(db, unacknowledged.id, created_at=dt.timedelta(days=2), ack_due_at=dt.timedelta(minutes=1))
    for f in (slow, finished_late):
        assert (await move(client, w.health, f.id, "accepted")).status_code == 200
    assert (await move(client, w.health, finished_late.id, "resolved", "已整改")).status_code == 200
    # Accepted in time, but not resolved in time; and one resolved, whose limit has passed since.
    await backdate(
        db,
        slow.id,
        created_at=dt.timedelta(days=1),
        ack_due_at=dt.timedelta(days=20),
        resolve_due_at=dt.timedelta(seconds=5),
    )
    await backdate(db, finished_late.id, ack_due_at=dt.timedelta(days=20), resolve_due_at=dt.timedelta(days=1))

    every = "?status=" + ",".join(("received", "accepted", "investigating", "resolved"))
    items = {i.id: i for i in await queue(client, w.health, every)}
    assert (items[fresh.id].ack_overdue, items[fresh.id].resolve_overdue) == (False, False)
    assert (items[unacknowledged.id].ack_overdue, items[unacknowledged.id].resolve_overdue) == (True, False)
    assert (items[slow.id].ack_overdue, items[slow.id].resolve_overdue) == (False, True)
    assert (items[finished_late.id].ack_overdue, items[finished_late.id].resolve_overdue) == (False, False)
    # Overdue ones come first (none is urgent), oldest first among them.
    assert [i.id for i in await queue(client, w.health, every)][:2] == [unacknowledged.id, slow.id]
    assert [i.id for i in await queue(client, w.health, every + "&overdue=true")] == [unacknowledged.id, slow.id]
    assert len(await queue(client, w.health, every + "&overdue=false")) == 4

    # Past both limits and still received: both flags.
    await backdate(db, fresh.id, ack_due_at=dt.timedelta(days=30), resolve_due_at=dt.timedelta(days=1))
    detail = strict((await client.get(f"{DESK}/{fresh.id}", headers=w.health.headers)).content, DeskComplaint)
    assert detail.ack_overdue and detail.resolve_overdue


async def test_time_limits_are_set_in_working_days_at_filing(w, db, settings):
    filed = await w.file()
    c = await db.get(Complaint, filed.id)
    for due, days in ((c.ack_due_at, settings.complaint_ack_working_days), (c.resolve_due_at, 15)):
        assert abs(due - add_working_days(c.created_at, days).at) < dt.timedelta(minutes=1)
        local = due.astimezone(CHINA)
        assert local.isoweekday() <= 5  # a limit ends on a working day
        # Exactly ``days`` working days lie after the filing day, up to and including the due day.
        day, count = c.created_at.astimezone(CHINA).date(), 0
        while day < local.date():
            day += dt.timedelta(days=1)
            count += day.isoweekday() <= 5
        assert count == days


# ---------------------------------------------------------------------------------------------- detail


async def test_detail_has_everything_for_officers_and_photos_as_short_lived_urls(client, w):
    filed = await w.file(
        w.parent,
        photos=2,
        place_name="万达广场三楼母婴室",
        address="萨尔图区万达广场3F",
        contact_name="王女士",
        contact_phone="13800001234",
        description="尿布台的安全带坏了",
    )
    r = await client.post(
        f"{DESK}/{filed.id}/transitions",
        headers=w.health.headers,
        json={"status": "accepted", "public_note": "已受理，将派人核查", "internal_note": "联系商场物业"},
    )
    assert r.status_code == 200, r.text
    d = strict(r.content, DeskComplaint)
    assert d.description == "尿布台的安全带坏了"
    assert (d.lat, d.lng, d.address, d.place_name) == (*SAERTU, "萨尔图区万达广场3F", "万达广场三楼母婴室")
    assert (d.contact_name, d.contact_phone, d.anonymous, d.source) == ("王女士", "13800001234", False, "app")
    assert d.target_type == "place" and d.duplicate_of is None and d.duplicates == []
    assert d.acknowledged_at is not None and d.accepted_at is not None and d.closed_at is None
    assert [(u.status, u.previous_status, u.public_note, u.internal_note) for u in d.updates] == [
        ("received", None, None, None),
        ("accepted", "received", "已受理，将派人核查", "联系商场物业"),
    ]
    assert d.updates[0].officer_id is None and d.updates[0].officer_name is None
    assert d.updates[1].officer_id == w.health.id
    assert d.updates[1].officer_name == w.health.account.phone[:3] + "****" + w.health.account.phone[-4:]

    assert d.photos == 2 and len(d.photo_urls) == 2
    now = dt.datetime.now(dt.UTC)
    for photo in d.photo_urls:
        assert now < photo.expires_at <= now + dt.timedelta(seconds=301)
        assert (photo.content_type, photo.width, photo.height) == ("image/png", 16, 12)
        image = await client.get(photo.url)  # no sign-in: the URL is the capability
        assert image.status_code == 200 and image.headers["content-type"].startswith("image/png")

    anonymous = await w.file()
    d = strict((await client.get(f"{DESK}/{anonymous.id}", headers=w.admin.headers)).content, DeskComplaint)
    assert d.anonymous and d.contact_phone is None and d.photo_urls == [] and d.photos == 0


# ---------------------------------------------------------------------------------------------- transitions


async def test_transitions_follow_the_rules_and_set_their_times(client, w, db):
    filed = await w.at_institution(w.parent)
    assert await counts(db, filed.id) == (1, 1)

    r = await move(client, w.police, filed.id, "accepted", "已受理，警方已介入")
    assert r.status_code == 200, r.text
    d = strict(r.content, DeskComplaint)
    assert d.status == "accepted" and d.acknowledged_at == d.accepted_at and d.closed_at is None
    event = (await db.scalars(select(Event).where(Event.subject_id == filed.id).order_by(Event.id.desc()))).first()
    assert event.type == "complaint.accepted"
    assert event.account_ids == [w.parent.id]  # the reporter is told
    assert event.institution_id == w.inst.id  # accepted: the institution's staff hear of it now
    assert event.urgency == "high" and event.payload["previous_status"] == "received"
    assert "已受理" not in str(event.payload.get("note"))  # events carry ids and states, never notes

    r = await move(client, w.health, filed.id, "investigating", "正在调查")
    assert r.status_code == 200
    acknowledged = strict(r.content, DeskComplaint).acknowledged_at
    r = await move(client, w.health, filed.id, "resolved", "已查实并处理")
    d = strict(r.content, DeskComplaint)
    assert d.status == "resolved" and d.closed_at is not None and d.acknowledged_at == acknowledged
    assert [u.status for u in d.updates] == ["received", "accepted", "investigating", "resolved"]
    assert await counts(db, filed.id) == (4, 4)

    # Closed: no way on.
    for status in ("accepted", "investigating", "resolved", "rejected", "referred", "received"):
        r = await move(client, w.health, filed.id, status)
        assert r.status_code == 409, r.text
        body = r.json()
        assert body["code"] == "transition_not_allowed" and body["extra"]["status"] == "resolved"
        assert body["extra"]["allowed"] == [] and "已办结" in body["detail_zh"]
    assert await counts(db, filed.id) == (4, 4)

    # Rejected straight away: acknowledged and closed, never accepted; staff never hear of it.
    other = await w.at_institution()
    r = await move(client, w.health, other.id, "investigating")
    assert r.status_code == 409 and r.json()["extra"]["allowed"] == ["accepted", "rejected", "referred"]
    d = strict((await move(client, w.health, other.id, "rejected", "经核实不属实")).content, DeskComplaint)
    assert d.acknowledged_at is not None and d.closed_at is not None and d.accepted_at is None
    event = (await db.scalars(select(Event).where(Event.subject_id == other.id).order_by(Event.id.desc()))).first()
    assert event.type == "complaint.rejected" and event.institution_id is None and event.account_ids == []


async def test_a_change_based_on_a_stale_status_is_refused(client, w, db):
    """The desk sends the status it showed: a complaint that moved on meanwhile is not changed."""
    filed = await w.file()
    assert (await move(client, w.health, filed.id, "accepted", expected_status="received")).status_code == 200
    r = await move(client, w.health, filed.id, "rejected", "不予受理", expected_status="received")
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "status_changed" and body["extra"] == {"status": "accepted", "expected": "received"}
    assert "已受理" in body["detail_zh"]
    assert await counts(db, filed.id) == (2, 2)
    assert (
        await move(client, w.health, filed.id, "rejected", "不予受理", expected_status="accepted")
    ).status_code == 200


async def test_bad_transition_requests_are_refused_and_write_nothing(client, w, db):
    filed = await w.file()
    url = f"{DESK}/{filed.id}/transitions"
    for body, status, code in (
        ({"status": "duplicate", "public_note": "重复"}, 422, "use_merge"),
        ({"status": "accepted", "public_note": "   \n "}, 422, "public_note_required"),
        ({"status": "accepted"}, 400, "validation_error"),
        ({"status": "accepted", "public_note": ""}, 400, "validation_error"),
        ({"status": "accepted", "public_note": "x" * 2001}, 400, "validation_error"),
        ({"status": "accepted", "public_note": "<script>alert(1)</script>"}, 400, "validation_error"),
        ({"status": "closed", "public_note": "好"}, 400, "validation_error"),
        ({"status": "accepted", "public_note": "好", "officer_id": str(w.admin.id)}, 400, "validation_error"),
        ({"status": "accepted", "public_note": "好", "internal_note": 3}, 400, "validation_error"),
        ([], 400, "validation_error"),
    ):
        r = await client.post(url, headers=w.health.headers, json=body)
        assert r.status_code == status, (body, r.text)
        assert r.json()["code"] == code and r.json()["detail_zh"]
    r = await client.post(url, headers={**w.health.headers, "Content-Type": "application/json"}, content=b"{nope")
    assert r.status_code == 400
    r = await move(client, w.health, uuid.uuid4(), "accepted")
    assert r.status_code == 404
    r = await client.post(f"{DESK}/not-a-uuid/transitions", headers=w.health.headers, json={})
    assert r.status_code == 404
    assert await counts(db, filed.id) == (1, 1)
    assert (await db.get(Complaint, filed.id, populate_existing=True)).status == "received"


# ---------------------------------------------------------------------------------------------- notes


async def test_notes_without_a_status_change(client, w, db):
    filed = await w.file(w.parent)
    url = f"{DESK}/{filed.id}/notes"

    r = await client.post(url, headers=w.health.headers, json={"internal_note": "先电话核实"})
    assert r.status_code == 200, r.text
    assert await counts(db, filed.id) == (2, 1)  # no event for an internal note
    r = await client.post(url, headers=w.health.headers, json={"public_note": "我们已收到，正在核实"})
    d = strict(r.content, DeskComplaint)
    assert d.status == "received" and d.acknowledged_at is None  # a note is not an acknowledgement
    assert [(u.status, u.previous_status, u.public_note, u.internal_note) for u in d.updates[1:]] == [
        ("received", "received", None, "先电话核实"),
        ("received", "received", "我们已收到，正在核实", None),
    ]
    event = (await db.scalars(select(Event).where(Event.subject_id == filed.id).order_by(Event.id.desc()))).first()
    assert event.type == "complaint.note" and event.account_ids == [w.parent.id]
    assert event.institution_id is None and event.payload["status"] == "received"
    assert await counts(db, filed.id) == (3, 2)

    for body, status, code in (
        ({}, 422, "note_required"),
        ({"public_note": " ", "internal_note": "\n"}, 422, "note_required"),
        ({"public_note": "好", "status": "accepted"}, 400, "validation_error"),
        ({"internal_note": "<img src=x onerror=alert(1)>"}, 400, "validation_error"),
    ):
        r = await client.post(url, headers=w.health.headers, json=body)
        assert r.status_code == status, (body, r.text)
        assert r.json()["code"] == code
    assert await counts(db, filed.id) == (3, 2)

    # The reporter sees public notes only, never internal ones.
    r = await client.get(f"/api/complaints/mine/{filed.id}", headers=w.parent.headers)
    assert r.status_code == 200
    assert "我们已收到，正在核实" in r.text and "先电话核实" not in r.text and "internal" not in r.text


# ---------------------------------------------------------------------------------------------- duplicates


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0] + metres / 111_320, point[1]


async def test_similar_suggests_nearby_and_same_institution_complaints(client, w, db):
    this = await w.file()
    near = await w.file(at=north_of(SAERTU, 200))
    just_in = await w.file(at=north_of(SAERTU, 240))
    far = await w.file(at=north_of(SAERTU, 300))
    other_category = await w.file(at=north_of(SAERTU, 50), category="food_safety")
    old = await w.file(at=north_of(SAERTU, 100))
    await backdate(db, old.id, created_at=dt.timedelta(days=31))
    closed = await w.file(at=north_of(SAERTU, 150))
    assert (await move(client, w.health, closed.id, "resolved", "x")).status_code == 409  # not from received
    assert (await move(client, w.health, closed.id, "rejected", "不属实")).status_code == 200

    r = await client.get(f"{DESK}/{this.id}/similar", headers=w.health.headers)
    assert r.status_code == 200, r.text
    found = strict(r.content, list[SimilarItem])
    assert [s.id for s in found] == [closed.id, near.id, just_in.id]  # nearest first; closed ones too
    assert [round(s.distance_m) for s in found] == [150, 200, 240]
    assert not any(s.same_institution for s in found)
    assert far.id not in {s.id for s in found} and other_category.id not in {s.id for s in found}

    # The same institution, without a position; a nearby one becomes a duplicate and drops out.
    first = await w.at_institution()
    second = await w.at_institution(description="同一机构的另一投诉")
    nearby = await w.file(at=north_of(SAERTU, 10), category="child_safety")
    r = await client.get(f"{DESK}/{second.id}/similar", headers=w.police.headers)
    found = strict(r.content, list[SimilarItem])
    assert [(s.id, s.same_institution, s.distance_m) for s in found] == [(first.id, True, None)]
    # A complaint with a position also finds nearby ones of its category.
    located = await w.file(category="child_safety", at=north_of(SAERTU, 20))
    r = await client.get(f"{DESK}/{located.id}/similar", headers=w.police.headers)
    assert [s.id for s in strict(r.content, list[SimilarItem])] == [nearby.id]
    r = await client.post(
        f"{DESK}/{nearby.id}/merge", headers=w.police.headers, json={"into": str(located.id), "public_note": "重复"}
    )
    assert r.status_code == 200, r.text
    r = await client.get(f"{DESK}/{located.id}/similar", headers=w.police.headers)
    assert strict(r.content, list[SimilarItem]) == []

    # Visible to the caller only: the Zhaozhou officer sees nothing of Saertu.
    here = await w.file(at=ZHAOZHOU)
    there = await w.file(at=north_of(ZHAOZHOU, 100))
    r = await client.get(f"{DESK}/{here.id}/similar", headers=w.health_zz.headers)
    assert [s.id for s in strict(r.content, list[SimilarItem])] == [there.id]
    r = await client.get(f"{DESK}/{this.id}/similar", headers=w.health_zz.headers)
    assert r.status_code == 404


async def test_nearby_duplicates_are_found_through_the_gist_index(w, db):
    c = await db.get(Complaint, (await w.file()).id)
    point = "ll_to_earth(lat, lng)"
    centre = f"ll_to_earth({c.lat}, {c.lng})"
    await db.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(
        await db.scalars(
            text(
                f"EXPLAIN SELECT id FROM complaints WHERE lat IS NOT NULL AND earth_box({centre}, 250) @> {point}"
                f" AND earth_distance({centre}, {point}) <= 250"
            )
        )
    )
    assert "ix_complaints_earth" in plan, plan


async def test_merge_makes_a_duplicate_and_tells_the_reporter(client, w, db):
    original = await w.file()
    dup = await w.file(w.parent, at=north_of(SAERTU, 30))
    url = f"{DESK}/{dup.id}/merge"
    r = await client.post(
        url,
        headers=w.health.headers,
        json={"into": str(original.id), "public_note": "与DQ投诉重复，将合并处理", "internal_note": "同一地点"},
    )
    assert r.status_code == 200, r.text
    d = strict(r.content, DeskComplaint)
    assert d.status == "duplicate" and d.duplicate_of.id == original.id
    assert d.duplicate_of.reference == original.reference
    assert d.closed_at is not None and d.acknowledged_at is not None and d.accepted_at is None
    assert (d.updates[-1].status, d.updates[-1].public_note, d.updates[-1].internal_note) == (
        "duplicate",
        "与DQ投诉重复，将合并处理",
        "同一地点",
    )
    event = (await db.scalars(select(Event).where(Event.subject_id == dup.id).order_by(Event.id.desc()))).first()
    assert event.type == "complaint.duplicate" and event.account_ids == [w.parent.id]
    d = strict((await client.get(f"{DESK}/{original.id}", headers=w.health.headers)).content, DeskComplaint)
    assert d.status == "received" and [m.id for m in d.duplicates] == [dup.id]
    r = await client.get(f"/api/complaints/mine/{dup.id}", headers=w.parent.headers)
    assert r.json()["status"] == "duplicate" and "与DQ投诉重复" in r.text and "同一地点" not in r.text

    # The original merged in turn: its duplicates follow it, so there are no chains.
    newest = await w.file()
    r = await client.post(
        f"{DESK}/{original.id}/merge", headers=w.health.headers, json={"into": str(newest.id), "public_note": "合并"}
    )
    assert r.status_code == 200, r.text
    assert (await db.get(Complaint, dup.id, populate_existing=True)).duplicate_of == newest.id
    d = strict((await client.get(f"{DESK}/{newest.id}", headers=w.health.headers)).content, DeskComplaint)
    assert {m.id for m in d.duplicates} == {dup.id, original.id}


async def test_bad_merges_are_refused_and_write_nothing(client, w, db):
    a = await w.file()
    b = await w.file()
    market = await w.file(category="food_safety")
    resolved = await w.file()
    for status in ("accepted", "resolved"):
        assert (await move(client, w.health, resolved.id, status)).status_code == 200
    dup = await w.file()
    r = await client.post(
        f"{DESK}/{dup.id}/merge", headers=w.health.headers, json={"into": str(b.id), "public_note": "重复"}
    )
    assert r.status_code == 200
    before = [await counts(db, x.id) for x in (a, b, market, resolved, dup)]

    async def merge(source, into, who=w.health, **body):
        r = await client.post(
            f"{DESK}/{source}/merge", headers=who.headers, json={"into": str(into), "public_note": "重复", **body}
        )
        return r.status_code, r.json()

    assert (await merge(a.id, a.id))[1]["code"] == "merge_into_self"
    status, body = await merge(a.id, dup.id)
    assert (status, body["code"], body["extra"]["original"]) == (409, "merge_into_duplicate", str(b.id))
    status, body = await merge(a.id, market.id)  # the health officer cannot see it
    assert (status, body["code"]) == (404, "merge_target_not_found")
    assert (await merge(a.id, uuid.uuid4()))[0] == 404
    status, body = await merge(resolved.id, a.id)
    assert (status, body["code"]) == (409, "transition_not_allowed")
    status, body = await merge(dup.id, a.id)
    assert (status, body["code"]) == (409, "transition_not_allowed")
    assert (await merge(market.id, a.id))[0] == 404  # not routed to health
    assert (await merge(a.id, b.id, who=w.health_zz))[0] == 404
    assert (await merge(a.id, b.id, public_note=" "))[1]["code"] == "public_note_required"
    assert (await merge(a.id, "nope"))[1]["code"] == "validation_error"
    assert (await merge(a.id, b.id, status="duplicate"))[1]["code"] == "validation_error"
    r = await client.post(f"{DESK}/{a.id}/merge", headers=w.health.headers, json={"public_note": "重复"})
    assert r.status_code == 400
    assert [await counts(db, x.id) for x in (a, b, market, resolved, dup)] == before
    assert (await db.get(Complaint, a.id, populate_existing=True)).status == "received"


# ---------------------------------------------------------------------------------------------- who may look


async def test_only_the_departments_routed_to_may_work_a_complaint(client, w, factory):
    filed = await w.at_institution()  # police, health, gov_230602
    paths = [
        ("GET", f"{DESK}/{filed.id}", None),
        ("GET", f"{DESK}/{filed.id}/similar", None),
        ("POST", f"{DESK}/{filed.id}/transitions", {"status": "accepted", "public_note": "受理"}),
        ("POST", f"{DESK}/{filed.id}/notes", {"public_note": "好"}),
        ("POST", f"{DESK}/{filed.id}/merge", {"into": str((await w.at_institution()).id), "public_note": "重复"}),
    ]
    _, fire = await factory.signed_in(Role.OFFICER, department="fire")
    _, gov_other = await factory.signed_in(Role.OFFICER, department="gov_230604")
    outsiders = {
        "market officer": w.market.headers,
        "fire officer": fire,
        "unit officer of another unit": w.health_zz.headers,
        "another unit's government": gov_other,
    }
    for label, headers in outsiders.items():
        for method, path, body in paths:
            r = await client.request(method, path, headers=headers, json=body)
            assert r.status_code == 404, (label, path, r.text)
            assert r.json()["code"] in ("not_found", "merge_target_not_found")
        r = await client.get(DESK, headers=headers)
        assert r.status_code == 200 and str(filed.id) not in {i["id"] for i in r.json()}
    for label, headers in {
        "parent": w.parent.headers,
        "institution staff": w.staff.headers,
        "staff elsewhere": w.other_staff.headers,
    }.items():
        for method, path, body in [("GET", DESK, None), *paths]:
            r = await client.request(method, path, headers=headers, json=body)
            assert r.status_code == 403, (label, path, r.text)
            assert r.json()["code"] == "forbidden"
    for method, path, body in [("GET", DESK, None), *paths]:
        r = await client.request(method, path, json=body)
        assert r.status_code == 401, (path, r.text)

    _, gov = await factory.signed_in(Role.OFFICER, department="gov_230602")
    _, gov_unit = await factory.signed_in(Role.OFFICER, department="police", unit=230602)
    for headers in (w.police.headers, w.health.headers, gov, gov_unit, w.admin.headers):
        assert (await client.get(f"{DESK}/{filed.id}", headers=headers)).status_code == 200


async def test_institution_staff_see_it_once_accepted_and_never_who_filed_it(client, w):
    filed = await w.at_institution(w.parent, contact_name="李先生", contact_phone="13800009999")
    listing = f"/api/institutions/{w.inst.id}/complaints"
    r = await client.get(listing, headers=w.staff.headers)
    assert r.status_code == 200 and r.json() == []
    assert (await client.get(f"{listing}/{filed.id}", headers=w.staff.headers)).status_code == 404

    assert (
        await client.post(
            f"{DESK}/{filed.id}/notes", headers=w.police.headers, json={"internal_note": "内部：投诉人可信"}
        )
    ).status_code == 200
    assert (
        await move(client, w.police, filed.id, "accepted", "已受理", internal_note="内部：先约谈园长")
    ).status_code == 200
    r = await client.get(listing, headers=w.staff.headers)
    assert r.status_code == 200
    staff_view = strict(r.content, list[StaffComplaint])
    assert [c.id for c in staff_view] == [filed.id] and staff_view[0].status == "accepted"
    r2 = await client.get(f"{listing}/{filed.id}", headers=w.staff.headers)
    for body in (r.text, r2.text):
        for secret in (
            "contact_phone",
            "contact_name",
            "reporter",
            "anonymous",
            "internal_note",
            "officer",
            "13800009999",
            "李先生",
            str(w.parent.id),
            "内部",
            "lat",
        ):
            assert secret not in body, secret
        assert "已受理" in body
    # Staff of another institution see nothing of it: that institution's list answers 404.
    r = await client.get(listing, headers=w.other_staff.headers)
    assert r.status_code == 404 and "已受理" not in r.text
    assert (await client.get(f"{listing}/{filed.id}", headers=w.other_staff.headers)).status_code == 404


# ---------------------------------------------------------------------------------------------- two officers at once


def test_two_officers_moving_one_complaint_at_once_one_wins_the_other_gets_409(server_url):
    """Real transactions on committed data. Officer A accepts the complaint and holds the row lock;
    officer B's acceptance waits on that lock (seen with pg_blocking_pids, not guessed with a sleep),
    then reads the new status once A commits and is refused; the row has exactly A's change. Then two merges of the
    same pair in opposite directions at once: one wins, the other is refused, no deadlock."""
    from sqlalchemy import insert
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from backend.complaints.schemas import MergeIn, TransitionIn
    from backend.core.errors import AppError
    from tests.live import scratch_database
    from tests.world import execute

    def complaint_row(**kw: Any) -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC)
        return {
            "id": uuid.uuid4(),
            "tracking_digest": uuid.uuid4().bytes * 2,
            "category": "health_hygiene",
            "urgent": False,
            "target_type": "place",
            "description": "并发测试",
            "lat": SAERTU[0],
            "lng": SAERTU[1],
            "unit_code": 230602,
            "department_codes": ["gov_230602", "health"],
            "ack_due_at": now + dt.timedelta(days=1),
            "resolve_due_at": now + dt.timedelta(days=21),
            **kw,
        }

    async def scenario(url: str) -> dict[str, Any]:
        officers = [uuid.uuid4(), uuid.uuid4()]
        rows = [complaint_row() for _ in range(3)]
        await execute(
            url,
            insert(Account).values([{"id": o, "email": f"officer{o.hex[:8]}@daqing.example"} for o in officers]),
            insert(Complaint).values(rows),
        )
        target, x, y = (r["id"] for r in rows)
        a, b = (Principal(o, uuid.uuid4(), (Grant(Role.OFFICER, department_code="health"),)) for o in officers)
        engine = create_async_engine(url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        out: dict[str, Any] = {}
        try:
            async with sessions() as first, sessions() as second:
                await desk.transition(first, a, target, TransitionIn(status="accepted", public_note="A 受理"))
                first_pid = await first.scalar(text("SELECT pg_backend_pid()"))
                second_pid = await second.scalar(text("SELECT pg_backend_pid()"))

                async def b_moves() -> str:
                    try:
                        await desk.transition(second, b, target, TransitionIn(status="accepted", public_note="B 受理"))
                    except AppError as exc:
                        await second.rollback()
                        return f"{exc.status_code} {exc.code}"
                    await second.commit()
                    return "ok"

                waiting = asyncio.create_task(b_moves())
                async with sessions() as watcher:  # wait until B is blocked by A's lock: a condition, not a timer
                    give_up = asyncio.get_running_loop().time() + 30
                    while True:
                        assert asyncio.get_running_loop().time() < give_up, "B never waited for A's lock"
                        blockers = await watcher.scalar(text("SELECT pg_blocking_pids(:pid)"), {"pid": second_pid})
                        await watcher.rollback()
                        if first_pid in (blockers or []):
                            break
                        assert not waiting.done(), waiting.result()
                        await asyncio.sleep(0.01)
                await first.commit()
                out["b"] = await waiting

            async def merge(source: uuid.UUID, into: uuid.UUID, who: Principal) -> str:
                async with sessions() as db:
                    try:
                        await desk.merge(db, who, source, MergeIn(into=into, public_note="重复"))
                        await db.commit()
                        return "ok"
                    except AppError as exc:
                        return f"{exc.status_code} {exc.code}"

            out["merges"] = sorted(await asyncio.gather(merge(x, y, a), merge(y, x, b)))
            out["rows"] = await execute(
                url,
                select(Complaint.id, Complaint.status, Complaint.duplicate_of).where(Complaint.id.in_([target, x, y])),
            )
            out["updates"] = await execute(
                url,
                select(ComplaintUpdate.complaint_id, ComplaintUpdate.status, ComplaintUpdate.officer_id).where(
                    ComplaintUpdate.complaint_id.in_([target, x, y])
                ),
            )
            out["ids"] = (target, x, y, officers)
        finally:
            await engine.dispose()
        return out

    with scratch_database(server_url, demo=False) as url:
        out = asyncio.run(scenario(url))
    target, x, y, (officer_a, _officer_b) = out["ids"]
    assert out["b"] == "409 transition_not_allowed"
    statuses = {r.id: (r.status, r.duplicate_of) for r in out["rows"]}
    assert statuses[target] == ("accepted", None)
    assert [(u.status, u.officer_id) for u in out["updates"] if u.complaint_id == target] == [("accepted", officer_a)]
    # Exactly one merge happened: one is a duplicate of the other, which is still open.
    assert out["merges"][1] == "ok" and out["merges"][0] in ("409 transition_not_allowed", "409 merge_into_duplicate")
    assert sorted([statuses[x], statuses[y]], key=str) in (
        sorted([("duplicate", y), ("received", None)], key=str),
        sorted([("duplicate", x), ("received", None)], key=str),
    )
    assert len([u for u in out["updates"] if u.complaint_id in (x, y)]) == 1
