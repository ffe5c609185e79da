"""Staff rosters: institution admins add and remove members; ID numbers are kept as keyed hashes; a
blacklisted person cannot be added; a member's phone links a platform account (and unlinks it)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select

from backend.accounts.models import RoleGrant
from backend.core.authz import Role
from backend.core.clock import local_today
from backend.staff.models import StaffMember
from tests.blacklist.idnumbers import id_number, with_wrong_check
from tests.factories import random_phone


def staff_url(inst_id) -> str:
    return f"/api/institutions/{inst_id}/staff"


def member(**fields):
    body = {"display_name": "刘老师", "staff_role": "carer", "id_number": id_number()}
    body.update(fields)
    return body


async def members(db) -> int:
    return await db.scalar(select(func.count()).select_from(StaffMember))


async def test_an_admin_keeps_the_roster_with_masked_id_numbers(client, factory, db):
    inst = await factory.institution()
    _, headers = await factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=inst.id)
    number = id_number()
    r = await client.post(staff_url(inst.id), headers=headers, json=member(id_number=number.lower(), staff_role="head"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id_number_masked"] == "**************" + number[-4:] and body["staff_role"] == "head"
    assert number not in r.text and body["account_linked"] is False
    listed = await client.get(staff_url(inst.id), headers=headers)
    assert [m["id"] for m in listed.json()] == [body["id"]]
    assert number not in listed.text

    # The same person twice: 409, whatever the case of x.
    again = await client.post(staff_url(inst.id), headers=headers, json=member(id_number=number))
    assert again.status_code == 409 and again.json()["code"] == "already_on_roster"
    assert await members(db) == 1

    r = await client.delete(f"{staff_url(inst.id)}/{body['id']}", headers=headers)
    assert r.status_code == 204
    assert (await client.get(staff_url(inst.id), headers=headers)).json() == []
    assert (await client.delete(f"{staff_url(inst.id)}/{body['id']}", headers=headers)).status_code == 404


async def test_only_the_institutions_admins_and_the_city_admin(client, factory):
    inst, other = await factory.institution(), await factory.institution()
    _, other_admin = await factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=other.id)
    _, staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=inst.id)
    _, officer = await factory.signed_in(Role.OFFICER, department="health")
    _, city = await factory.signed_in(Role.CITY_ADMIN)
    assert (await client.get(staff_url(inst.id), headers=other_admin)).status_code == 404
    assert (await client.post(staff_url(inst.id), headers=other_admin, json=member())).status_code == 404
    assert (await client.get(staff_url(inst.id), headers=staff)).status_code == 403
    assert (await client.get(staff_url(inst.id), headers=officer)).status_code == 403
    assert (await client.get(staff_url(inst.id))).status_code == 401
    assert (await client.post(staff_url(inst.id), headers=city, json=member())).status_code == 201
    assert (await client.get(staff_url(uuid.uuid4()), headers=city)).status_code == 404


async def test_a_blacklisted_person_cannot_be_added_anywhere(client, factory, db):
    number = id_number()
    _, officer = await factory.signed_in(Role.OFFICER, department="police")
    r = await client.post(
        "/api/blacklist/persons",
        headers=officer,
        json={
            "id_number": number,
            "person_name": "赵某",
            "reason": "虐待儿童",
            "decision_no": "庆公决字〔2026〕3号",
            "decided_on": local_today().isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    inst = await factory.institution()
    _, headers = await factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=inst.id)
    r = await client.post(staff_url(inst.id), headers=headers, json=member(id_number=number.lower()))
    assert r.status_code == 409
    err = r.json()
    assert err["code"] == "person_blacklisted" and "黑名单" in err["detail_zh"] and "blacklist" in err["detail"]
    assert "庆公决字" not in r.text and "虐待" not in r.text  # the entry's details are not revealed
    assert await members(db) == 0

    # Revoked: the person may be added again.
    entry_id = (await client.get("/api/blacklist/entries", headers=officer, params={"kind": "person"})).json()[0]["id"]
    r = await client.post(f"/api/blacklist/entries/{entry_id}/revoke", headers=officer, json={"reason": "判决撤销"})
    assert r.status_code == 200
    assert (await client.post(staff_url(inst.id), headers=headers, json=member(id_number=number))).status_code == 201


async def test_an_entry_ending_in_the_future_still_blocks_and_one_starting_later_does_not(client, factory, db):
    from backend.blacklist.models import BlacklistEntry
    from tests.conftest import make_settings

    settings = make_settings()
    from backend.blacklist import idnumber

    officer = await factory.account(Role.OFFICER, department="health")
    later, now = id_number(), id_number()
    today = local_today()
    for number, start in ((later, today + dt.timedelta(days=7)), (now, today - dt.timedelta(days=7))):
        h, last4 = idnumber.digest(settings, number)
        db.add(
            BlacklistEntry(
                kind="person",
                id_hash=h,
                id_last4=last4,
                person_name="某",
                reason="r",
                department_code="health",
                decision_no="n",
                decided_on=today - dt.timedelta(days=7),
                effective_from=start,
                effective_until=today + dt.timedelta(days=30),
                created_by=officer.id,
            )
        )
    await db.commit()
    inst = await factory.institution()
    _, headers = await factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=inst.id)
    assert (await client.post(staff_url(inst.id), headers=headers, json=member(id_number=later))).status_code == 201
    r = await client.post(staff_url(inst.id), headers=headers, json=member(id_number=now))
    assert r.status_code == 409 and r.json()["code"] == "person_blacklisted"


async def test_a_phone_links_the_account_and_removing_the_member_unlinks_it(client, factory, db):
    inst = await factory.institution()
    _, headers = await factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=inst.id)
    phone = random_phone()
    account = await factory.account(Role.PARENT, phone=phone)
    r = await client.post(staff_url(inst.id), headers=headers, json=member(phone=phone))
    assert r.status_code == 201 and r.json()["account_linked"] is True

    async def staff_grants(account_id):
        return (
            await db.scalars(
                select(RoleGrant).where(
                    RoleGrant.account_id == account_id,
                    RoleGrant.institution_id == inst.id,
                    RoleGrant.role == Role.INSTITUTION_STAFF,
                )
            )
        ).all()

    assert len(await staff_grants(account.id)) == 1
    token = await factory.token(account)
    classes = await client.get(f"/api/institutions/{inst.id}/staff", headers={"Authorization": f"Bearer {token}"})
    assert classes.status_code == 403  # staff, not admin: the roster itself stays the admins'

    r = await client.delete(f"{staff_url(inst.id)}/{r.json()['id']}", headers=headers)
    assert r.status_code == 204
    assert await staff_grants(account.id) == []

    # A phone of someone already on the staff keeps their grant when the member is removed.
    existing = await factory.account(Role.INSTITUTION_STAFF, institution_id=inst.id, phone=random_phone())
    r = await client.post(staff_url(inst.id), headers=headers, json=member(phone=existing.phone))
    assert r.status_code == 201 and r.json()["account_linked"] is True
    assert (await client.delete(f"{staff_url(inst.id)}/{r.json()['id']}", headers=headers)).status_code == 204
    assert len(await staff_grants(existing.id)) == 1

    # A phone without an account is kept, unlinked.
    r = await client.post(staff_url(inst.id), headers=headers, json=member(phone=random_phone()))
    assert r.status_code == 201 and r.json()["account_linked"] is False


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"id_number": "230602199001011234"}, 422, "invalid_id_number"),
        ({"id_number": with_wrong_check(id_number())}, 422, "invalid_id_number"),
        ({"id_number": "23060219901301123X"}, 422, "invalid_id_number"),  # month 13
        ({"display_name": "   "}, 422, "display_name_blank"),
        ({"display_name": "<b>x</b>"}, 400, "validation_error"),
        ({"staff_role": "teacher"}, 400, "validation_error"),
        ({"phone": "12345"}, 400, "validation_error"),
    ],
)
async def test_bad_members_are_refused_and_write_nothing(client, factory, db, fields, status, code):
    inst = await factory.institution()
    _, headers = await factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=inst.id)
    r = await client.post(staff_url(inst.id), headers=headers, json=member(**fields))
    assert r.status_code == status, r.text
    assert r.json()["code"] == code
    assert await members(db) == 0
