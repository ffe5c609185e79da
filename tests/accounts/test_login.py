"""Password sign-in, sessions, cookies and CSRF."""

import pytest
from sqlalchemy import select

from backend.accounts.models import AuthSession
from backend.accounts.sessions import CSRF_COOKIE, SESSION_COOKIE
from backend.core.authz import Role
from backend.core.security import hash_password, token_digest

PASSWORD = "s3cret-Passw0rd"


@pytest.fixture
async def officer(factory):
    return await factory.account(
        Role.OFFICER, department="health", email="officer@test.example", password_hash=hash_password(PASSWORD)
    )


async def test_login_by_email_returns_token_cookie_and_roles(client, officer):
    response = await client.post("/api/auth/login", json={"login": "Officer@Test.example", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and len(body["token"]) >= 40
    assert body["account"]["roles"] == [
        {
            "role": "officer",
            "role_zh": "部门工作人员",
            "institution_id": None,
            "department_code": "health",
            "unit_code": None,
        }
    ]
    cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie
    csrf_cookie = next(c for c in cookies if c.startswith(CSRF_COOKIE + "="))
    assert "HttpOnly" not in csrf_cookie
    assert response.headers["cache-control"] == "no-store"

    me = await client.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == "officer@test.example"


async def test_login_by_phone(client, factory):
    await factory.account(
        Role.INSTITUTION_STAFF,
        phone="13912345678",
        institution_id=(await factory.institution()).id,
        password_hash=hash_password(PASSWORD),
    )
    response = await client.post("/api/auth/login", json={"login": "+86 139 1234 5678", "password": PASSWORD})
    assert response.status_code == 200


async def test_wrong_password_and_unknown_account_answer_alike(client, officer):
    wrong = await client.post("/api/auth/login", json={"login": "officer@test.example", "password": "nope"})
    unknown = await client.post("/api/auth/login", json={"login": "nobody@test.example", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_repeated_failures_are_rate_limited(client, officer, settings):
    for _ in range(settings.login_max_failures_per_hour):
        r = await client.post("/api/auth/login", json={"login": "officer@test.example", "password": "nope"})
        assert r.status_code == 401
    blocked = await client.post("/api/auth/login", json={"login": "officer@test.example", "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert blocked.json()["code"] == "rate_limited"


async def test_tokens_are_stored_only_as_digests(client, officer, db):
    body = (await client.post("/api/auth/login", json={"login": "officer@test.example", "password": PASSWORD})).json()
    stored = (await db.execute(select(AuthSession).where(AuthSession.account_id == officer.id))).scalar_one()
    assert stored.token_hash == token_digest(body["token"])
    assert body["token"].encode() not in stored.token_hash


async def test_invalid_bearer_token_is_401_and_malformed_header_too(client):
    assert (await client.get("/api/me", headers={"Authorization": "Bearer nope"})).status_code == 401
    r = await client.get("/api/me", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401
    assert r.json()["code"] == "invalid_token"


async def test_anonymous_is_401_with_challenge(client):
    r = await client.get("/api/me")
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")


async def test_logout_revokes_the_session_at_once(client, officer):
    token = (await client.post("/api/auth/login", json={"login": "officer@test.example", "password": PASSWORD})).json()[
        "token"
    ]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.post("/api/auth/logout", headers=headers)).status_code == 201
    assert (await client.get("/api/me", headers=headers)).status_code == 401


async def test_disabled_accounts_cannot_sign_in_or_use_sessions(client, officer, db):
    import datetime as dt

    token = (await client.post("/api/auth/login", json={"login": "officer@test.example", "password": PASSWORD})).json()[
        "token"
    ]
    officer.disabled_at = dt.datetime.now(dt.UTC)
    db.add(officer)
    await db.commit()
    assert (await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401
    again = await client.post("/api/auth/login", json={"login": "officer@test.example", "password": PASSWORD})
    assert again.status_code == 401


async def test_cookie_writes_need_the_csrf_token(client, factory):
    parent = await factory.account(Role.PARENT, password_hash=hash_password(PASSWORD))
    login = await client.post("/api/auth/login", json={"login": parent.phone, "password": PASSWORD})
    csrf = login.json()["csrf_token"]
    child = {
        "name": "小明",
        "birth_date": "2025-06-01",
        "relation": "mother",
        "consent": {"policy_version": "2026-12", "accepted": True},
    }
    # httpx keeps the cookies from the login response.
    assert (await client.get("/api/me/children")).status_code == 200  # reads need no token
    refused = await client.post("/api/me/children", json=child)
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    wrong = await client.post("/api/me/children", json=child, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    ok = await client.post("/api/me/children", json=child, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201
    listed = (await client.get("/api/me/children")).json()
    assert [c["name"] for c in listed] == ["小明"]


async def test_a_user_sets_the_display_name_others_see(client, factory):
    _account, headers = await factory.signed_in()
    r = await client.patch("/api/me", headers=headers, json={"display_name": " 小米妈妈 "})
    assert r.status_code == 200, r.text
    assert r.json()["display_name"] == "小米妈妈"
    assert (await client.patch("/api/me", headers=headers, json={"display_name": "<b>x</b>"})).status_code == 400
    assert (await client.patch("/api/me", headers=headers, json={"display_name": "名" * 21})).status_code == 400
    r = await client.patch("/api/me", headers=headers, json={"display_name": ""})
    assert r.status_code == 200 and r.json()["display_name"] is None
    assert (await client.patch("/api/me", json={"display_name": "x"})).status_code == 401
