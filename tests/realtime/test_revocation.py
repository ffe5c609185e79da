"""Revocation takes effect at once, across processes: two real servers (uvicorn subprocesses) on one
database; the change is made through server B, the WebSocket is open on server A.

* sign-out, "sign out other devices", an administrator disabling the account: the next request
  answers 401 and the socket closes (4401) within a second — measured, with a deadline;
* a staff member taken off the roster: the role grant goes with them (a trigger notifies
  ``dq_grants``), their socket closes (4409) within a second, the next request to the institution's
  routes answers 403, and a new socket no longer hears the institution's events.
"""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from sqlalchemy import select, text
from websockets.exceptions import ConnectionClosed

from backend.accounts.models import Account
from tests.blacklist.idnumbers import id_number
from tests.realtime.test_live_updates import auth, book, next_message, open_socket
from tests.world import World, account, execute

pytestmark = pytest.mark.server

WITHIN_S = 1.0


@pytest.fixture(scope="module")
def servers(server_url, tmp_path_factory):
    from tests.live import two_servers

    logs = tmp_path_factory.mktemp("revocation")
    with two_servers(server_url, logs, PUSH_WORKER="false", WS_HEARTBEAT_S="0.3") as pair:
        yield pair


@pytest.fixture
async def world(servers):
    return await World(servers[0].database_url).build()


async def second_session(url: str, account_id: uuid.UUID) -> str:
    """Another device of the same account: a new live session, its bearer token."""
    import datetime as dt

    from sqlalchemy import insert

    from backend.accounts.models import AuthSession
    from backend.core.security import new_session_token, token_digest

    token = new_session_token()
    await execute(
        url,
        insert(AuthSession).values(
            account_id=account_id,
            token_hash=token_digest(token),
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=2),
        ),
    )
    return token


async def closed_within(ws, seconds: float) -> tuple[int, float]:
    """Wait (with a deadline of five seconds) for the server to close the socket; the close code and
    how long it took. Heartbeats every 0.3 s show the socket was alive until then."""
    started = time.monotonic()
    with pytest.raises(ConnectionClosed) as closed:
        await next_message(ws, timeout=5.0)
    elapsed = time.monotonic() - started
    assert elapsed < seconds, f"the socket closed only after {elapsed:.2f}s"
    return closed.value.rcvd.code, elapsed


async def status(server, method: str, path: str, token: str) -> int:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        return (await http.request(method, path, headers=auth(token))).status_code


async def test_signing_out_on_b_closes_the_socket_on_a(servers, world):
    a, b = servers
    _, _, token = await world.family()
    async with await open_socket(a, token) as ws:
        assert (await next_message(ws))["type"] == "ready"
        assert await status(b, "POST", "/api/auth/logout", token) in (200, 201)
        code, _ = await closed_within(ws, WITHIN_S)
        assert code == 4401
    assert await status(a, "GET", "/api/me", token) == 401
    assert await status(b, "GET", "/api/me", token) == 401


async def test_signing_out_other_devices_closes_their_sockets_and_keeps_this_one(servers, world):
    a, b = servers
    parent, _, this_device = await world.family()
    other_device = await second_session(world.url, parent)
    async with await open_socket(a, this_device) as mine, await open_socket(a, other_device) as theirs:
        assert (await next_message(mine))["type"] == "ready"
        assert (await next_message(theirs))["type"] == "ready"
        async with httpx.AsyncClient(base_url=b.base_url) as http:
            r = await http.post("/api/auth/logout/others", headers=auth(this_device))
        assert r.status_code == 200, r.text
        assert r.json() == {"revoked": 1}
        code, _ = await closed_within(theirs, WITHIN_S)
        assert code == 4401
        # This device's socket is still open: it keeps answering pings.
        await mine.send('{"type": "ping"}')
        assert (await next_message(mine, skip=("heartbeat",)))["type"] == "pong"
    assert await status(a, "GET", "/api/me", other_device) == 401
    assert await status(a, "GET", "/api/me", this_device) == 200


async def test_an_administrator_disabling_the_account_closes_every_socket(servers, world):
    a, _b = servers
    parent, _, token = await world.family()
    other = await second_session(world.url, parent)
    async with await open_socket(a, token) as one, await open_socket(a, other) as two:
        assert (await next_message(one))["type"] == "ready"
        assert (await next_message(two))["type"] == "ready"
        await execute(world.url, text("UPDATE accounts SET disabled_at = now() WHERE id = :id").bindparams(id=parent))
        for ws in (one, two):
            code, _ = await closed_within(ws, WITHIN_S)
            assert code == 4401
    assert await status(a, "GET", "/api/me", token) == 401


async def test_a_session_revoked_in_the_database_closes_its_socket(servers, world):
    """Any revocation (an operator's UPDATE, a support tool) works the same way: the trigger tells every
    process."""
    a, _b = servers
    parent, _, token = await world.family()
    async with await open_socket(a, token) as ws:
        assert (await next_message(ws))["type"] == "ready"
        await execute(
            world.url,
            text("UPDATE auth_sessions SET revoked_at = now() WHERE account_id = :id").bindparams(id=parent),
        )
        code, _ = await closed_within(ws, WITHIN_S)
        assert code == 4401


async def test_a_staff_member_taken_off_the_roster_loses_the_socket_and_access(servers, world):
    a, b = servers
    admin_id, admin = await account(world.url, "institution_admin", world.inst)
    assert admin_id
    # Someone with a platform account (a parent) joins the roster: the roster links the account and
    # grants it institution_staff.
    person_id, person = await account(world.url, "parent")
    (phone,) = (await execute(world.url, select(Account.phone).where(Account.id == person_id)))[0]
    roster = f"/api/institutions/{world.inst}/staff"
    async with httpx.AsyncClient(base_url=b.base_url) as http:
        added = await http.post(
            roster,
            headers=auth(admin),
            json={"display_name": "刘老师", "staff_role": "carer", "id_number": id_number(), "phone": phone},
        )
    assert added.status_code == 201, added.text
    assert added.json()["account_linked"] is True
    desk = f"/api/institutions/{world.inst}/desk"
    assert await status(a, "GET", desk, person) == 200

    _, child, parent_token = await world.family()
    async with await open_socket(a, person) as ws:
        assert (await next_message(ws))["type"] == "ready"
        booked = await book(b, world, child, parent_token, 8)  # the institution's event: staff hear it
        assert (await next_message(ws, timeout=WITHIN_S))["subject"]["id"] == booked["id"]

        assert await status(b, "DELETE", f"{roster}/{added.json()['id']}", admin) == 204
        code, _ = await closed_within(ws, WITHIN_S)
        assert code == 4409  # access changed: the app reconnects with what the account still holds

    assert await status(a, "GET", desk, person) == 403
    assert await status(b, "GET", desk, person) == 403
    # Reconnected, the account hears its own things only: not the institution's bookings.
    async with await open_socket(a, person) as ws, await open_socket(a, world.staff) as staff_ws:
        assert (await next_message(ws))["type"] == "ready"
        assert (await next_message(staff_ws))["type"] == "ready"
        booked = await book(b, world, child, parent_token, 10)
        assert (await next_message(staff_ws, timeout=WITHIN_S))["subject"]["id"] == booked["id"]
        with pytest.raises(TimeoutError):
            await next_message(ws, timeout=WITHIN_S)
