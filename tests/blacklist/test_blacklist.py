"""The blacklist: ID-number hashing, adding and revoking entries, who may, the public list, the effect on
institutions (no bookings/applications, hidden from search), and bad input writing nothing."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select

from backend.blacklist import idnumber
from backend.blacklist.models import BlacklistEntry
from backend.core.audit import AuditEntry
from backend.core.authz import Role
from backend.core.clock import local_today
from backend.core.outbox import Event
from backend.institutions.gate import NotOpenToFamilies, ensure_open_to_families
from tests.blacklist.idnumbers import id_number, with_wrong_check
from tests.conftest import make_settings
from tests.factories import next_open_day

BASE = "/api/blacklist"
TODAY = local_today()


def decision(**fields):
    body = {
        "reason": "虐待婴幼儿，经调查属实",
        "decision_no": "卫健罚〔2026〕12号",
        "decided_on": (TODAY - dt.timedelta(days=3)).isoformat(),
    }
    body.update(fields)
    return body


async def count(db, model=BlacklistEntry):
    return await db.scalar(select(func.count()).select_from(model))


# ---------------------------------------------------------------------------------------------- ID numbers


def test_id_numbers_are_validated_and_normalised():
    number = id_number("11010519491231002")
    assert number == "11010519491231002X"  # GB 11643's worked example
    assert idnumber.normalise(number.lower()) == number
    assert idnumber.normalise(f"  {number} ") == number
    for bad, fragment in (
        ("1101051949123100", "18"),  # too short
        ("11010519491231002Y", "18"),  # not a digit or X
        ("01010519491231002X", "18"),  # address code starts with 0
        (with_wrong_check(number), "check digit"),
        (id_number("11010519491331002"), "birth date"),  # month 13
        (id_number("11010520991231002"), "birth date"),  # born in the future
    ):
        with pytest.raises(idnumber.InvalidIdNumber) as err:
            idnumber.normalise(bad)
        assert err.value.status_code == 422 and fragment in str(err.value.detail)


def test_the_hash_is_keyed_and_the_key_is_not_the_secret_key():
    number = id_number()
    dev = make_settings()
    h, last4 = idnumber.digest(dev, number.lower())
    assert len(h) == 32 and last4 == number[-4:]
    assert h == idnumber.digest(dev, number)[0]  # deterministic, 'x' == 'X'
    assert h != idnumber.digest(make_settings(secret_key="another-secret-" + "y" * 40), number)[0]
    assert h != idnumber.digest(make_settings(id_hash_key="z" * 40), number)[0]
    assert idnumber.hash_key(dev) != dev.secret_key.encode()
    assert idnumber.masked("123X") == "**************123X"
    from backend.core.config import ConfigError

    with pytest.raises(ConfigError):
        idnumber.hash_key(make_settings(env="production"))


# ---------------------------------------------------------------------------------------------- institutions


async def test_blacklisting_an_institution_closes_it_and_shows_it_publicly(client, factory, db, settings):
    inst = await factory.institution(modes={"hourly": (3000, "hour"), "full_day": (250000, "month")})
    officer, headers = await factory.signed_in(Role.OFFICER, department="health")
    assert (await client.get(f"/api/institutions/{inst.id}")).json()["blacklisted"] is False

    r = await client.post(f"{BASE}/institutions", headers=headers, json=decision(institution_id=str(inst.id)))
    assert r.status_code == 201, r.text
    entry = r.json()["entry"]
    assert entry["kind"] == "institution" and entry["in_force"] is True
    assert entry["department_code"] == "health" and entry["department_name_zh"] == "市卫健委"
    assert entry["effective_from"] == entry["decided_on"]  # defaults to the decision date

    public = (await client.get(f"{BASE}/institutions")).json()  # anonymous
    [item] = [e for e in public if e["institution_id"] == str(inst.id)]
    assert item["institution_name"] == inst.name and item["unit_name_zh"] == "萨尔图区"
    assert item["reason"] == "虐待婴幼儿，经调查属实" and item["decision_no"] == "卫健罚〔2026〕12号"

    detail = (await client.get(f"/api/institutions/{inst.id}")).json()
    assert detail["blacklisted"] is True and detail["takes_families"] is False
    listed = (await client.get("/api/institutions", params={"q": inst.name})).json()["items"]
    assert listed == []  # hidden from the public search
    near = (await client.get("/api/institutions/nearby", params={"lat": 46.63, "lng": 125.11, "q": inst.name})).json()
    assert near["items"] == []

    with pytest.raises(NotOpenToFamilies) as err:
        await ensure_open_to_families(db, settings, inst.id, "filed")
    assert err.value.status_code == 409 and err.value.code == "institution_blacklisted"

    # The institution's staff and the health department hear of it (ids only).
    [event] = (await db.execute(select(Event).where(Event.subject_id == uuid.UUID(entry["id"])))).scalars().all()
    assert event.type == "blacklist.institution_added" and event.institution_id == inst.id
    assert event.department_codes == ["health"] and event.unit_code == 230602

    # Audited, with the decision noted.
    [audit] = (await db.execute(select(AuditEntry).where(AuditEntry.account_id == officer.id))).scalars().all()
    assert audit.action == "blacklist.add_institution" and audit.note["decision"] == "blacklisted"


async def test_a_blacklisted_institution_takes_no_applications_or_bookings_through_the_api(client, factory, db):
    inst = await factory.institution(
        classes=[("toddler", 15, 3, 0)],
        opening_hours=[{"days": [1, 2, 3, 4, 5, 6, 7], "opens": "07:00", "closes": "19:00"}],
        modes={"full_day": (250000, "month"), "hourly": (4000, "hour")},
    )
    tomorrow = next_open_day().isoformat()
    _, staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=inst.id)
    slots = {"day": tomorrow, "band": "toddler", "granularity_minutes": 60, "opens": "09:00", "closes": "11:00"}
    r = await client.put(f"/api/institutions/{inst.id}/slots", headers=staff, json={**slots, "capacity": 3})
    assert r.status_code == 200, r.text
    _, officer = await factory.signed_in(Role.OFFICER, department="police")  # police may add too
    r = await client.post(f"{BASE}/institutions", headers=officer, json=decision(institution_id=str(inst.id)))
    assert r.status_code == 201, r.text
    parent, headers = await factory.signed_in(Role.PARENT)
    child = await factory.child(parent, age_months=20)
    r = await client.post(
        "/api/applications",
        headers=headers,
        json={
            "child_id": str(child.id),
            "institution_id": str(inst.id),
            "mode": "full_day",
            "start_date": (TODAY + dt.timedelta(days=30)).isoformat(),
        },
    )
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "institution_blacklisted"
    booking = {
        "child_id": str(child.id),
        "institution_id": str(inst.id),
        "mode": "hourly",
        "day": tomorrow,
        "start": "09:00",
        "end": "10:00",
    }
    r = await client.post("/api/bookings", headers=headers, json=booking)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "institution_blacklisted"


async def test_entries_not_yet_in_force_or_expired_have_no_effect(client, factory, db, settings):
    soon, past = await factory.institution(), await factory.institution()
    _, headers = await factory.signed_in(Role.OFFICER, department="health")
    r = await client.post(
        f"{BASE}/institutions",
        headers=headers,
        json=decision(institution_id=str(soon.id), effective_from=(TODAY + dt.timedelta(days=10)).isoformat()),
    )
    assert r.status_code == 201 and r.json()["entry"]["in_force"] is False
    r = await client.post(
        f"{BASE}/institutions",
        headers=headers,
        json=decision(
            institution_id=str(past.id),
            decided_on=(TODAY - dt.timedelta(days=400)).isoformat(),
            effective_until=(TODAY - dt.timedelta(days=1)).isoformat(),
        ),
    )
    assert r.status_code == 201 and r.json()["entry"]["in_force"] is False
    for inst in (soon, past):
        await ensure_open_to_families(db, settings, inst.id, "filed")  # no exception
        assert (await client.get(f"/api/institutions/{inst.id}")).json()["blacklisted"] is False
    public_ids = {e["institution_id"] for e in (await client.get(f"{BASE}/institutions")).json()}
    assert not public_ids & {str(soon.id), str(past.id)}


async def test_a_duplicate_active_entry_is_refused_until_revoked(client, factory, db):
    inst = await factory.institution()
    _, headers = await factory.signed_in(Role.CITY_ADMIN)
    body = decision(institution_id=str(inst.id))
    first = await client.post(f"{BASE}/institutions", headers=headers, json=body)
    assert first.status_code == 201
    again = await client.post(f"{BASE}/institutions", headers=headers, json=body)
    assert again.status_code == 409 and again.json()["code"] == "already_blacklisted"
    assert await count(db) == 1

    entry_id = first.json()["entry"]["id"]
    r = await client.post(f"{BASE}/entries/{entry_id}/revoke", headers=headers, json={"reason": "   "})
    assert r.status_code == 422 and r.json()["code"] == "reason_blank"
    r = await client.post(f"{BASE}/entries/{entry_id}/revoke", headers=headers, json={"reason": "复议撤销"})
    assert r.status_code == 200, r.text
    assert r.json()["revoked_at"] and r.json()["revoke_reason"] == "复议撤销" and r.json()["in_force"] is False
    r = await client.post(f"{BASE}/entries/{entry_id}/revoke", headers=headers, json={"reason": "again"})
    assert r.status_code == 409 and r.json()["code"] == "already_revoked"
    assert (await client.get(f"/api/institutions/{inst.id}")).json()["blacklisted"] is False
    assert (await client.post(f"{BASE}/institutions", headers=headers, json=body)).status_code == 201
    assert await count(db) == 2  # the revoked entry is kept


async def test_the_partial_unique_index_refuses_a_second_active_entry(db, factory):
    """The rule holds in the database itself, not only in the service's pre-check."""
    from sqlalchemy.exc import IntegrityError

    inst = await factory.institution()
    officer = await factory.account(Role.OFFICER, department="health")
    for _ in range(2):
        db.add(
            BlacklistEntry(
                kind="institution",
                institution_id=inst.id,
                reason="r",
                department_code="health",
                decision_no="n",
                decided_on=TODAY,
                effective_from=TODAY,
                created_by=officer.id,
            )
        )
    with pytest.raises(IntegrityError) as err:
        await db.flush()
    assert "uq_blacklist_entries_active_institution" in str(err.value)


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"reason": "   "}, 422, "reason_blank"),
        ({"reason": ""}, 400, "validation_error"),
        ({"decision_no": "  "}, 422, "decision_no_blank"),
        ({"decided_on": (TODAY + dt.timedelta(days=1)).isoformat()}, 422, "decided_in_future"),
        ({"effective_until": (TODAY - dt.timedelta(days=3)).isoformat()}, 422, "effective_until_before_from"),
        (
            {
                "effective_from": (TODAY + dt.timedelta(days=5)).isoformat(),
                "effective_until": (TODAY + dt.timedelta(days=2)).isoformat(),
            },
            422,
            "effective_until_before_from",
        ),
        ({"department_code": "nosuchdept"}, 422, "unknown_department"),
        ({"institution_id": str(uuid.uuid4())}, 404, "not_found"),
        ({"reason": "<script>alert(1)</script>"}, 400, "validation_error"),
        ({"surprise": 1}, 400, "validation_error"),
    ],
)
async def test_bad_institution_entries_are_refused_and_write_nothing(client, factory, db, fields, status, code):
    inst = await factory.institution()
    officer, headers = await factory.signed_in(Role.OFFICER, department="health")
    body = decision(institution_id=str(inst.id))
    body.update(fields)
    r = await client.post(f"{BASE}/institutions", headers=headers, json=body)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code
    assert await count(db) == 0
    assert await count(db, Event) == 0 or not (
        await db.scalar(select(func.count()).select_from(Event).where(Event.type.like("blacklist.%")))
    )
    assert (await db.execute(select(AuditEntry).where(AuditEntry.account_id == officer.id))).first() is None


async def test_who_may_blacklist_an_institution(client, factory):
    saertu = await factory.institution(unit_code=230602)
    zhaozhou = await factory.institution(unit_code=230621, lat=45.70, lng=125.27)
    _, county = await factory.signed_in(Role.OFFICER, department="health", unit=230621)
    _, market = await factory.signed_in(Role.OFFICER, department="market")
    _, parent = await factory.signed_in(Role.PARENT)
    _, inst_admin = await factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=saertu.id)

    r = await client.post(f"{BASE}/institutions", headers=county, json=decision(institution_id=str(saertu.id)))
    assert r.status_code == 404  # another unit's institution: as if it did not exist
    r = await client.post(f"{BASE}/institutions", headers=county, json=decision(institution_id=str(zhaozhou.id)))
    assert r.status_code == 201, r.text
    r = await client.post(f"{BASE}/institutions", headers=market, json=decision(institution_id=str(saertu.id)))
    assert r.status_code == 403
    for headers in (parent, inst_admin):
        r = await client.post(f"{BASE}/institutions", headers=headers, json=decision(institution_id=str(saertu.id)))
        assert r.status_code == 403
    r = await client.post(f"{BASE}/institutions", json=decision(institution_id=str(saertu.id)))
    assert r.status_code == 401

    # The county officer lists and revokes only what is theirs.
    _, city = await factory.signed_in(Role.OFFICER, department="health")
    other = await client.post(f"{BASE}/institutions", headers=city, json=decision(institution_id=str(saertu.id)))
    listed = {e["id"] for e in (await client.get(f"{BASE}/entries", headers=county)).json()}
    assert other.json()["entry"]["id"] not in listed and len(listed) == 1
    r = await client.post(
        f"{BASE}/entries/{other.json()['entry']['id']}/revoke", headers=county, json={"reason": "越权"}
    )
    assert r.status_code == 404
    assert (await client.get(f"{BASE}/entries", headers=market)).status_code == 403
    assert (await client.get(f"{BASE}/entries", headers=parent)).status_code == 403


# ---------------------------------------------------------------------------------------------- persons


async def test_person_entries_keep_no_id_number_and_are_never_public(client, factory, db):
    number = id_number()
    _, headers = await factory.signed_in(Role.OFFICER, department="health", unit=230604)  # any health officer
    r = await client.post(
        f"{BASE}/persons", headers=headers, json=decision(id_number=number.lower(), person_name="张某某")
    )
    assert r.status_code == 201, r.text
    assert number not in r.text and number.lower() not in r.text
    entry = r.json()["entry"]
    assert entry["person_name"] == "张某某" and entry["id_number_masked"] == "**************" + number[-4:]
    assert r.json()["employers"] == []

    row = await db.get(BlacklistEntry, uuid.UUID(entry["id"]))
    assert row.id_hash == idnumber.digest(client._transport.app.state.settings, number)[0]  # type: ignore[attr-defined]
    assert number not in repr(row.__dict__) and row.id_last4 == number[-4:]

    public = await client.get(f"{BASE}/institutions")
    assert entry["id"] not in public.text and "张某某" not in public.text

    # The same person again (upper or lower x): 409.
    again = await client.post(f"{BASE}/persons", headers=headers, json=decision(id_number=number, person_name="张某"))
    assert again.status_code == 409 and again.json()["code"] == "already_blacklisted"

    # Checking a number: in the body, never the URL.
    r = await client.post(f"{BASE}/persons/check", headers=headers, json={"id_number": number})
    assert r.status_code == 200 and r.json()["blacklisted"] is True and len(r.json()["entries"]) == 1
    assert number not in r.text
    r = await client.post(f"{BASE}/persons/check", headers=headers, json={"id_number": id_number()})
    assert r.json() == {"blacklisted": False, "entries": []}
    r = await client.post(f"{BASE}/persons/check", headers=headers, json={"id_number": with_wrong_check(number)})
    assert r.status_code == 422 and r.json()["code"] == "invalid_id_number"
    _, parent = await factory.signed_in(Role.PARENT)
    assert (await client.post(f"{BASE}/persons/check", headers=parent, json={"id_number": number})).status_code == 403
    _, market = await factory.signed_in(Role.OFFICER, department="market")
    assert (await client.post(f"{BASE}/persons/check", headers=market, json={"id_number": number})).status_code == 403


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"id_number": "230602199001011234"}, 422, "invalid_id_number"),  # wrong check digit
        ({"id_number": "23060219900101123"}, 422, "invalid_id_number"),  # 17 characters
        ({"id_number": "2306021990013212 3"}, 422, "invalid_id_number"),
        ({"person_name": "  "}, 422, "person_name_blank"),
        ({"reason": " \n "}, 422, "reason_blank"),
        ({"decided_on": (TODAY + dt.timedelta(days=30)).isoformat()}, 422, "decided_in_future"),
    ],
)
async def test_bad_person_entries_are_refused_and_write_nothing(client, factory, db, fields, status, code):
    _, headers = await factory.signed_in(Role.OFFICER, department="police")
    body = decision(id_number=id_number(), person_name="李某")
    body.update(fields)
    r = await client.post(f"{BASE}/persons", headers=headers, json=body)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code
    assert await count(db) == 0


async def test_blacklisting_a_person_on_rosters_reports_the_employers(client, factory, db):
    number = id_number()
    a, b = await factory.institution(), await factory.institution(unit_code=230604, lat=46.60, lng=124.86)
    admin_a, _ = await factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=a.id)
    for inst in (a, b):
        _, h = await factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=inst.id)
        r = await client.post(
            f"/api/institutions/{inst.id}/staff",
            headers=h,
            json={"display_name": "王某", "staff_role": "carer", "id_number": number},
        )
        assert r.status_code == 201, r.text
    _, officer = await factory.signed_in(Role.OFFICER, department="health")
    r = await client.post(f"{BASE}/persons", headers=officer, json=decision(id_number=number, person_name="王某"))
    assert r.status_code == 201, r.text
    employers = r.json()["employers"]
    assert {e["institution_id"] for e in employers} == {str(a.id), str(b.id)}

    events = (
        (await db.execute(select(Event).where(Event.type == "blacklist.person_employed").order_by(Event.id)))
        .scalars()
        .all()
    )
    assert {e.payload["institution_id"] for e in events} == {str(a.id), str(b.id)}
    assert {e.unit_code for e in events} == {230602, 230604}
    for e in events:
        assert e.department_codes == ["health"]
        assert "王某" not in str(e.payload) and number not in str(e.payload)
    [event_a] = [e for e in events if e.payload["institution_id"] == str(a.id)]
    assert admin_a.id in event_a.account_ids
    assert event_a.subject_type == "staff_roster" and event_a.subject_id == a.id  # the PWA opens the roster
    from backend.realtime.events import message_for

    event_a.position = 1
    assert message_for(event_a).url == f"/staff/{a.id}/roster"
