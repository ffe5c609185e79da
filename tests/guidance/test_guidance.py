"""Parenting guidance: publishing, registering, cancelling, attendance, who may act, bad input."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select, text, update

from backend.core.authz import Role
from backend.core.clock import utcnow
from backend.core.outbox import Event
from backend.guidance.models import GuidanceEvent, GuidanceRegistration
from backend.guidance.schemas import (
    GuidanceEventDetail,
    GuidanceEventPage,
    GuidanceHostedEventDetail,
    GuidanceRegistrationOut,
)
from backend.realtime.events import message_for
from tests.strict import strict

EVENTS = "/api/guidance/events"
MINE = "/api/guidance/registrations"
HOSTED = "/api/guidance/hosted"


def when(hours: float) -> str:
    return (utcnow() + dt.timedelta(hours=hours)).isoformat()


def event_body(**over):
    body = {
        "kind": "parent_class",
        "title": "婴幼儿辅食添加家长课堂",
        "description": "讲解6-12月龄辅食添加要点。",
        "starts_at": when(48),
        "ends_at": when(50),
        "capacity": 2,
    }
    body.update(over)
    return body


@pytest.fixture
async def host(factory, client):
    """A filed institution in 萨尔图区 with a staff member who publishes a 2-place event."""
    inst = await factory.institution()
    _, staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=inst.id)
    r = await client.post(EVENTS, headers=staff, json=event_body())
    assert r.status_code == 201, r.text
    event = strict(r.content, GuidanceHostedEventDetail)
    return inst, staff, event


async def family(factory, name="报名宝宝"):
    parent, headers = await factory.signed_in(Role.PARENT)
    child = await factory.child(parent, name=name, age_months=14)
    return parent, child, headers


async def counts(db, event_id):
    return await db.scalar(
        select(GuidanceEvent.registered).where(GuidanceEvent.id == event_id).execution_options(populate_existing=True)
    ), await db.scalar(
        select(func.count())
        .select_from(GuidanceRegistration)
        .where(GuidanceRegistration.event_id == event_id, GuidanceRegistration.status != "cancelled")
    )


async def start_now(db, event_id):
    """Move the event so it started an hour ago (attendance opens; registration closes)."""
    await db.execute(
        update(GuidanceEvent)
        .where(GuidanceEvent.id == event_id)
        .values(starts_at=func.now() - text("interval '1 hour'"), ends_at=func.now() + text("interval '1 hour'"))
    )
    await db.commit()


async def test_publish_register_cancel_and_places(client, factory, host, db):
    inst, staff, event = host
    assert (event.host_institution_id, event.host_name, event.unit_code) == (inst.id, inst.name, 230602)
    assert (event.capacity, event.places_left, event.open_for_registration) == (2, 2, True)

    page = strict((await client.get(EVENTS, params={"unit": 230602})).content, GuidanceEventPage)
    assert [e.id for e in page.items] == [event.id] and page.total == 1
    assert (await client.get(EVENTS, params={"unit": 230621})).json()["total"] == 0
    assert (await client.get(EVENTS, params={"kind": "home_visit"})).json()["total"] == 0

    parent, child, headers = await family(factory)
    r = await client.post(f"{EVENTS}/{event.id}/registrations", headers=headers, json={"child_id": str(child.id)})
    assert r.status_code == 201, r.text
    reg = strict(r.content, GuidanceRegistrationOut)
    assert (reg.status, reg.child_name, reg.event.places_left, reg.cancellable) == ("registered", child.name, 1, True)
    assert await counts(db, event.id) == (1, 1)

    detail = strict((await client.get(f"{EVENTS}/{event.id}", headers=headers)).content, GuidanceEventDetail)
    assert (detail.places_left, detail.my_registration_id, detail.my_registration_status) == (1, reg.id, "registered")
    assert (await client.get(f"{EVENTS}/{event.id}")).json()["my_registration_id"] is None

    mine = (await client.get(MINE, headers=headers)).json()
    assert [m["id"] for m in mine] == [str(reg.id)]

    # The host sees who registered (shown name, the child), as staff need it for attendance.
    hosted = strict((await client.get(f"{HOSTED}/{event.id}", headers=staff)).content, GuidanceHostedEventDetail)
    assert [(h.id, h.child_name, h.status) for h in hosted.registrations] == [(reg.id, child.name, "registered")]
    assert hosted.registrations[0].guardian.startswith(parent.phone[:3]) and "****" in hosted.registrations[0].guardian

    cancelled = await client.post(f"{MINE}/{reg.id}/cancel", headers=headers)
    assert cancelled.status_code == 200, cancelled.text
    assert strict(cancelled.content, GuidanceRegistrationOut).status == "cancelled"
    assert await counts(db, event.id) == (0, 0)
    again = await client.post(f"{MINE}/{reg.id}/cancel", headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"

    # After cancelling, the family may register again.
    r = await client.post(f"{EVENTS}/{event.id}/registrations", headers=headers, json={})
    assert r.status_code == 201, r.text
    assert await counts(db, event.id) == (1, 1)

    # Events carry ids and states, never names; they become sensible push messages.
    events = (await db.execute(select(Event).where(Event.type.like("guidance.%")).order_by(Event.id))).scalars().all()
    assert [e.type for e in events] == ["guidance.registered", "guidance.cancelled", "guidance.registered"]
    for e in events:
        assert child.name not in str(e.payload) and e.account_ids == [parent.id] and e.institution_id == inst.id
        e.position = 1
    msg = message_for(events[0])
    assert msg.url == f"/guidance/registrations/{reg.id}" and msg.title_zh == "育儿指导：已报名"
    assert msg.category == "bookings"


async def test_full_event_and_one_place_per_family(client, factory, host, db):
    _, _, event = host
    _, _, first = await family(factory)
    _, _, second = await family(factory)
    _, _, third = await family(factory)
    url = f"{EVENTS}/{event.id}/registrations"
    assert (await client.post(url, headers=first, json={})).status_code == 201
    twice = await client.post(url, headers=first, json={})
    assert twice.status_code == 409 and twice.json()["code"] == "already_registered"
    assert (await client.post(url, headers=second, json={})).status_code == 201
    full = await client.post(url, headers=third, json={})
    assert full.status_code == 409 and full.json()["code"] == "event_full"
    assert await counts(db, event.id) == (2, 2)
    page = (await client.get(EVENTS)).json()
    assert page["items"][0]["places_left"] == 0 and page["items"][0]["open_for_registration"] is False


async def test_idempotency_key_registers_once(client, factory, host, db):
    _, _, event = host
    _, _, headers = await family(factory)
    headers = {**headers, "Idempotency-Key": "guidance-retry-1"}
    url = f"{EVENTS}/{event.id}/registrations"
    a = await client.post(url, headers=headers, json={})
    b = await client.post(url, headers=headers, json={})
    assert a.status_code == b.status_code == 201 and a.content == b.content
    assert b.headers.get("Idempotent-Replayed") == "true"
    assert await counts(db, event.id) == (1, 1)


async def test_registration_refusals_write_nothing(client, factory, host, db):
    inst, staff, event = host
    parent, _child, headers = await family(factory)
    _, other_child, _ = await family(factory)
    url = f"{EVENTS}/{event.id}/registrations"

    r = await client.post(url, headers=headers, json={"child_id": str(other_child.id)})
    assert r.status_code == 404 and "child" in r.json()["detail"]
    r = await client.post(f"{EVENTS}/{uuid.uuid4()}/registrations", headers=headers, json={})
    assert r.status_code == 404
    r = await client.post(url, headers=headers, json={"child_id": "not-a-uuid"})
    assert r.status_code == 400
    r = await client.post(url, headers=staff, json={})
    assert r.status_code == 403
    assert (await client.post(url, json={})).status_code == 401

    # An institution that is not (or no longer) filed takes no registrations.
    inst_row = await db.get(type(inst), inst.id)
    inst_row.filing_status = "returned"
    await db.commit()
    r = await client.post(url, headers=headers, json={})
    assert r.status_code == 409 and r.json()["code"] == "institution_not_filed"
    inst_row.filing_status = "filed"
    await db.commit()

    # Cancelled event.
    cancelled = await client.post(f"{HOSTED}/{event.id}/cancel", headers=staff, json={"reason": "场地维修"})
    assert cancelled.status_code == 200, cancelled.text
    r = await client.post(url, headers=headers, json={})
    assert r.status_code == 409 and r.json()["code"] == "event_cancelled"

    # Past event.
    r = await client.post(EVENTS, headers=staff, json=event_body())
    past_id = r.json()["id"]
    await start_now(db, past_id)
    r = await client.post(f"{EVENTS}/{past_id}/registrations", headers=headers, json={})
    assert r.status_code == 409 and r.json()["code"] == "registration_closed"
    assert (await client.get(EVENTS)).json()["total"] == 0  # neither is upcoming

    assert (
        await db.scalar(
            select(func.count()).select_from(GuidanceRegistration).where(GuidanceRegistration.account_id == parent.id)
        )
        == 0
    )


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"capacity": 0}, 400, "validation_error"),
        ({"capacity": -3}, 400, "validation_error"),
        ({"kind": "lecture"}, 400, "validation_error"),
        ({"ends_at": when(47)}, 422, "time_order"),
        ({"starts_at": when(-1), "ends_at": when(1)}, 422, "start_in_past"),
        ({"starts_at": "2027-01-01T09:00:00"}, 400, "validation_error"),  # no offset
        ({"title": "<script>x</script>"}, 400, "validation_error"),
        ({"ends_at": when(48 + 24 * 15)}, 422, "duration_out_of_range"),
        ({"lat": 46.6}, 422, "position_partial"),
        ({"unit_code": 230621}, 422, "unit_mismatch"),
        ({"unknown": 1}, 400, "validation_error"),
    ],
)
async def test_bad_events_are_refused(client, factory, db, change, status, code):
    inst = await factory.institution()
    _, staff = await factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=inst.id)
    r = await client.post(EVENTS, headers=staff, json=event_body(**change))
    assert r.status_code == status, r.text
    assert r.json()["code"] == code
    assert await db.scalar(select(func.count()).select_from(GuidanceEvent)) == 0


async def test_who_publishes_what(client, factory, db):
    inst = await factory.institution()
    other = await factory.institution()
    _, staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=inst.id)
    _, zz_health = await factory.signed_in(Role.OFFICER, department="health", unit=230621)
    _, city_health = await factory.signed_in(Role.OFFICER, department="health")
    _, police = await factory.signed_in(Role.OFFICER, department="police")
    _, parent = await factory.signed_in(Role.PARENT)
    _, admin = await factory.signed_in(Role.CITY_ADMIN)
    centre = {"host_name": "肇州县妇幼保健计划生育服务中心", "unit_code": 230621, "address": "肇州县演示路1号"}

    # Staff publish for their own institution only.
    r = await client.post(EVENTS, headers=staff, json=event_body(institution_id=str(other.id)))
    assert r.status_code == 404
    # Unit health officers publish health-centre events in their unit only, with a host and address.
    r = await client.post(EVENTS, headers=zz_health, json=event_body(kind="home_visit", **centre))
    assert r.status_code == 201, r.text
    zz_event = r.json()
    assert (zz_event["host_institution_id"], zz_event["unit_code"], zz_event["kind_zh"]) == (None, 230621, "入户指导")
    r = await client.post(EVENTS, headers=zz_health, json=event_body(**{**centre, "unit_code": 230602}))
    assert r.status_code == 403 and r.json()["code"] == "unit_out_of_scope"
    r = await client.post(EVENTS, headers=zz_health, json=event_body(unit_code=230621))
    assert r.status_code == 422 and r.json()["code"] == "host_required"
    r = await client.post(EVENTS, headers=zz_health, json=event_body(institution_id=str(inst.id)))
    assert r.status_code == 404
    # City-wide health officers anywhere; the city admin for institutions too.
    r = await client.post(EVENTS, headers=city_health, json=event_body(**{**centre, "unit_code": 230602}))
    assert r.status_code == 201, r.text
    r = await client.post(EVENTS, headers=admin, json=event_body(institution_id=str(inst.id)))
    assert r.status_code == 201 and r.json()["host_name"] == inst.name
    # Other departments and parents do not publish.
    assert (await client.post(EVENTS, headers=police, json=event_body(**centre))).status_code == 403
    assert (await client.post(EVENTS, headers=parent, json=event_body())).status_code == 403

    # Each host sees its own events; others' are 404.
    assert [e["id"] for e in (await client.get(HOSTED, headers=zz_health)).json()] == [zz_event["id"]]
    assert (await client.get(f"{HOSTED}/{zz_event['id']}", headers=staff)).status_code == 404
    assert (await client.get(f"{HOSTED}/{zz_event['id']}", headers=city_health)).status_code == 200
    assert len((await client.get(HOSTED, headers=admin)).json()) == 3
    assert len((await client.get(HOSTED, headers=staff)).json()) == 1
    # Officers' writes are audited.
    actions = (await db.execute(text("SELECT action FROM audit_log WHERE action LIKE 'guidance.%'"))).scalars().all()
    assert sorted(actions) == ["guidance.publish"] * 3


async def test_attendance_from_the_start_on(client, factory, host, db):
    _inst, staff, event = host
    _parent, child, headers = await family(factory)
    reg = (
        await client.post(f"{EVENTS}/{event.id}/registrations", headers=headers, json={"child_id": str(child.id)})
    ).json()
    url = f"{HOSTED}/{event.id}/registrations/{reg['id']}/attendance"
    early = await client.post(url, headers=staff, json={"status": "attended"})
    assert early.status_code == 409 and early.json()["code"] == "too_early"
    await start_now(db, event.id)
    late_cancel = await client.post(f"{MINE}/{reg['id']}/cancel", headers=headers)
    assert late_cancel.status_code == 409 and late_cancel.json()["code"] == "too_late_to_cancel"

    other_inst = await factory.institution()
    _, other_staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=other_inst.id)
    assert (await client.post(url, headers=other_staff, json={"status": "attended"})).status_code == 404
    assert (await client.post(url, headers=staff, json={"status": "maybe"})).status_code == 400

    r = await client.post(url, headers=staff, json={"status": "attended"})
    assert r.status_code == 200, r.text
    detail = strict(r.content, GuidanceHostedEventDetail)
    assert (detail.attended, detail.no_show, detail.registrations[0].status) == (1, 0, "attended")
    row = await db.get(GuidanceRegistration, uuid.UUID(reg["id"]), populate_existing=True)
    assert row.attended_at is not None
    r = await client.post(url, headers=staff, json={"status": "no_show"})
    assert r.json()["no_show"] == 1
    await db.refresh(row)
    assert row.attended_at is None and row.status == "no_show"
    types = (await db.execute(select(Event.type).where(Event.subject_id == row.id).order_by(Event.id))).scalars().all()
    assert types == ["guidance.registered", "guidance.attendance", "guidance.attendance"]
    mine = (await client.get(MINE, headers=headers)).json()
    assert (mine[0]["status"], mine[0]["cancellable"]) == ("no_show", False)


async def test_cancelling_an_event_cancels_registrations_and_tells_families(client, factory, host, db):
    _inst, staff, event = host
    first, _, h1 = await family(factory)
    second, _, h2 = await family(factory)
    for h in (h1, h2):
        assert (await client.post(f"{EVENTS}/{event.id}/registrations", headers=h, json={})).status_code == 201
    r = await client.post(f"{HOSTED}/{event.id}/cancel", headers=staff, json={"reason": "暴雪天气"})
    assert r.status_code == 200, r.text
    detail = strict(r.content, GuidanceHostedEventDetail)
    assert detail.status == "cancelled" and detail.registered == 0 and detail.cancel_reason == "暴雪天气"
    assert {x.status for x in detail.registrations} == {"cancelled"}
    ev = (await db.execute(select(Event).where(Event.type == "guidance.event_cancelled"))).scalar_one()
    assert sorted(ev.account_ids) == sorted([first.id, second.id]) and ev.subject_id == event.id
    ev.position = 1
    assert message_for(ev).url == f"/guidance/{event.id}"
    again = await client.post(f"{HOSTED}/{event.id}/cancel", headers=staff, json={"reason": "x"})
    assert again.status_code == 409
    mine = (await client.get(MINE, headers=h1)).json()
    assert mine[0]["status"] == "cancelled" and mine[0]["event"]["status"] == "cancelled"


async def test_list_filters_near_dates_and_pages(client, factory, db):
    _, city_health = await factory.signed_in(Role.OFFICER, department="health")
    made = []
    for unit, lat, lng, hours in ((230602, 46.63, 125.11, 30), (230621, 45.70, 125.27, 60), (230602, 46.60, 125.0, 90)):
        r = await client.post(
            EVENTS,
            headers=city_health,
            json=event_body(
                host_name="某社区卫生服务中心",
                unit_code=unit,
                address="演示地址",
                lat=lat,
                lng=lng,
                starts_at=when(hours),
                ends_at=when(hours + 1),
            ),
        )
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])
    page = (await client.get(EVENTS, params={"limit": 2})).json()
    assert [e["id"] for e in page["items"]] == made[:2] and page["total"] == 3
    assert [e["id"] for e in (await client.get(EVENTS, params={"limit": 2, "offset": 2})).json()["items"]] == made[2:]
    near = (await client.get(EVENTS, params={"lat": 45.70, "lng": 125.27})).json()
    assert near["items"][0]["id"] == made[1] and near["items"][0]["distance_m"] < 1
    within = (await client.get(EVENTS, params={"lat": 46.63, "lng": 125.11, "radius_km": 20})).json()
    assert {e["id"] for e in within["items"]} == {made[0], made[2]}
    day = (utcnow() + dt.timedelta(hours=90)).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    dated = (await client.get(EVENTS, params={"from": day.isoformat(), "to": day.isoformat()})).json()
    assert [e["id"] for e in dated["items"]] == [made[2]]
    for bad in ({"lat": 46.6}, {"radius_km": 5}, {"from": "2027-02-02", "to": "2027-02-01"}):
        assert (await client.get(EVENTS, params=bad)).status_code == 422
    for bad in ({"kind": "lecture"}, {"limit": 0}, {"unit": 12}, {"lat": 123, "lng": 1}):
        assert (await client.get(EVENTS, params=bad)).status_code == 400
