"""Parents sign in with phone number + SMS code; the dev sender writes the code to the log."""

import logging
import re

import pytest
from sqlalchemy import select

from backend.accounts.models import Account, OtpCode, RoleGrant
from backend.accounts.sms import mask_phone
from backend.core.authz import Role
from tests.factories import random_phone


@pytest.fixture
def sms_log(caplog):
    caplog.set_level(logging.WARNING, logger="backend.sms")

    def last_code(phone: str) -> str:
        for record in reversed(caplog.records):
            message = record.getMessage()
            if record.name == "backend.sms" and mask_phone(phone) in message:
                assert phone not in message  # the log never holds the whole number
                return re.search(r"验证码是 (\d{6})", message).group(1)
        raise AssertionError("no SMS was logged for this number")

    return last_code


async def test_first_sign_in_creates_a_parent_account(client, db, sms_log):
    phone = random_phone()
    sent = await client.post("/api/auth/code", json={"phone": phone})
    assert sent.status_code == 202
    assert sent.json()["sent"] is True
    code = sms_log(phone)
    stored = (await db.execute(select(OtpCode).where(OtpCode.phone == phone))).scalar_one()
    assert code.encode() not in stored.code_hash  # only a keyed hash is kept

    signed_in = await client.post("/api/auth/code/verify", json={"phone": phone, "code": code})
    assert signed_in.status_code == 200
    body = signed_in.json()
    assert [g["role"] for g in body["account"]["roles"]] == ["parent"]
    me = await client.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json()["phone"] == phone

    # A code works once.
    again = await client.post("/api/auth/code/verify", json={"phone": phone, "code": code})
    assert again.status_code == 401
    assert again.json()["code"] == "invalid_code"


async def test_existing_parent_signs_in_to_the_same_account(client, factory, db, sms_log):
    parent = await factory.account(Role.PARENT)
    await client.post("/api/auth/code", json={"phone": parent.phone})
    body = (
        await client.post("/api/auth/code/verify", json={"phone": parent.phone, "code": sms_log(parent.phone)})
    ).json()
    assert body["account"]["id"] == str(parent.id)
    count = len((await db.execute(select(Account).where(Account.phone == parent.phone))).all())
    assert count == 1


async def test_the_answer_does_not_reveal_whether_a_number_exists(client, factory):
    known = await factory.account(Role.PARENT)
    a = await client.post("/api/auth/code", json={"phone": known.phone})
    b = await client.post("/api/auth/code", json={"phone": random_phone()})
    assert a.status_code == b.status_code == 202
    assert a.json() == b.json()


async def test_wrong_codes_burn_the_code_after_max_attempts(client, sms_log, settings):
    phone = random_phone()
    await client.post("/api/auth/code", json={"phone": phone})
    code = sms_log(phone)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(settings.otp_max_attempts):
        r = await client.post("/api/auth/code/verify", json={"phone": phone, "code": wrong})
        assert r.status_code == 401
    late = await client.post("/api/auth/code/verify", json={"phone": phone, "code": code})
    assert late.status_code == 401  # the right code no longer works


async def test_resending_too_soon_is_rate_limited(client, sms_log):
    phone = random_phone()
    assert (await client.post("/api/auth/code", json={"phone": phone})).status_code == 202
    again = await client.post("/api/auth/code", json={"phone": phone})
    assert again.status_code == 429
    assert 0 < int(again.headers["retry-after"]) <= 60
    assert again.json()["detail_zh"]


async def test_invalid_numbers_are_rejected(client):
    for phone in ("12345678901", "1380000000a", "+1 415 555 0100"):
        r = await client.post("/api/auth/code", json={"phone": phone})
        assert r.status_code == 400, phone


async def test_staff_must_use_their_password(client, factory, db, sms_log):
    inst = await factory.institution()
    staff = await factory.account(Role.INSTITUTION_STAFF, institution_id=inst.id)
    await client.post("/api/auth/code", json={"phone": staff.phone})
    r = await client.post("/api/auth/code/verify", json={"phone": staff.phone, "code": sms_log(staff.phone)})
    assert r.status_code == 422
    assert r.json()["code"] == "password_required"
    roles = (await db.execute(select(RoleGrant.role).where(RoleGrant.account_id == staff.id))).scalars().all()
    assert roles == ["institution_staff"]  # no parent role slipped in
