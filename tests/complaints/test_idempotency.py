"""``Idempotency-Key`` on POST /api/complaints (the PWA's offline queue may send one filing twice).

Scope: the key alone (a long random key the device made: anonymous reporters have no account to
scope by). Same key and same form (photos included) → the first answer again, tracking code included,
and one complaint; same key and another form → 422. The stored answer is encrypted under a key
derived from the Idempotency-Key and the key itself is kept only as a keyed digest, so the table never
holds a usable tracking code. Two requests with one key at the same time (real server, real
transactions): one complaint.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from backend.complaints.models import Complaint
from backend.core.authz import Role
from backend.core.idempotency import SealedIdempotencyKey
from backend.files.models import Upload
from tests.complaints.test_filing import file, form, jpeg_with_gps


def key() -> str:
    return str(uuid.uuid4())


async def counts(db) -> tuple[int, int, int]:
    complaints = await db.scalar(select(func.count()).select_from(Complaint))
    photos = await db.scalar(select(func.count()).select_from(Upload).where(Upload.purpose == "complaint_photo"))
    sealed = await db.scalar(select(func.count()).select_from(SealedIdempotencyKey))
    return int(complaints), int(photos), int(sealed)


async def test_a_retry_with_the_same_key_answers_the_first_filing_again(client, db):
    photo = jpeg_with_gps()
    k = key()
    before = await counts(db)
    first = await file(client, headers={"Idempotency-Key": k}, photos=[photo], description="午餐的饭菜有异味，重复发送")
    assert first.status_code == 201, first.text
    again = await file(client, headers={"Idempotency-Key": k}, photos=[photo], description="午餐的饭菜有异味，重复发送")
    assert again.status_code == 201, again.text
    assert again.json() == first.json()  # the same reference and the same tracking code
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    c, p, s = await counts(db)
    assert (c, p, s) == (before[0] + 1, before[1] + 1, before[2] + 1)
    # The replayed code works.
    tracked = await client.post("/api/complaints/track", json={"tracking_code": again.json()["tracking_code"]})
    assert tracked.status_code == 200 and tracked.json()["reference"] == first.json()["reference"]


async def test_the_same_key_with_another_form_is_refused_and_writes_nothing(client, db):
    k = key()
    assert (await file(client, headers={"Idempotency-Key": k})).status_code == 201
    before = await counts(db)
    for other in (
        {"description": "另一件事"},
        {"category": "fire_safety"},
        {"photos": [jpeg_with_gps()]},  # another photo is another request too
    ):
        r = await file(client, headers={"Idempotency-Key": k}, **other)
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "idempotency_key_reused" and r.json()["detail_zh"]
    assert await counts(db) == before


async def test_without_a_key_each_post_files_a_complaint(client, db):
    before = await counts(db)
    a, b = await file(client), await file(client)
    assert a.status_code == b.status_code == 201 and a.json()["id"] != b.json()["id"]
    assert (await counts(db))[0] == before[0] + 2


@pytest.mark.parametrize("bad", ["short", "x" * 201, "with space-0123456789", "slash/0123456789abcdef"])
async def test_keys_must_be_long_and_plain(client, db, bad):
    before = await counts(db)
    r = await file(client, headers={"Idempotency-Key": bad})
    assert r.status_code == 400, r.text
    assert await counts(db) == before


async def test_the_key_belongs_to_the_filing_not_to_an_account(client, factory):
    """Scoped by the key alone: a signed-in filing retried after the session ended (the queue sends
    later) still answers the first filing, which stays the reporter's."""
    _, headers = await factory.signed_in(Role.PARENT)
    k = key()
    first = await file(client, headers={**headers, "Idempotency-Key": k})
    assert first.status_code == 201, first.text
    again = await file(client, headers={"Idempotency-Key": k})  # anonymous now
    assert again.status_code == 201 and again.json() == first.json()
    mine = await client.get("/api/complaints/mine", headers=headers)
    assert [c["id"] for c in mine.json()] == [first.json()["id"]]


async def test_the_stored_answer_gives_no_tracking_code_or_key_away(client, db, settings):
    k = key()
    filed = (await file(client, headers={"Idempotency-Key": k})).json()
    rows = (await db.execute(select(SealedIdempotencyKey))).scalars().all()
    code = filed["tracking_code"].encode()
    for row in rows:
        assert code not in row.response and code.replace(b"-", b"") not in row.response
        assert filed["reference"].encode() not in row.response  # the whole answer is encrypted
        assert k.encode() not in row.key_digest and len(row.key_digest) == 32


async def test_a_replay_is_not_refused_by_the_rate_limit(client, app, settings):
    import dataclasses

    k = key()
    app.state.settings = dataclasses.replace(settings, complaint_max_per_hour_per_client=1)
    try:
        first = await file(client, headers={"Idempotency-Key": k})
        assert first.status_code == 201
        assert (await file(client)).status_code == 429  # a new filing is over the limit
        again = await file(client, headers={"Idempotency-Key": k})
        assert again.status_code == 201 and again.json() == first.json()
    finally:
        app.state.settings = settings


@pytest.mark.server
def test_concurrent_retries_with_one_key_file_one_complaint(server_url: str, tmp_path: Path) -> None:
    from tests.live import live_server, scratch_database
    from tests.world import execute

    with (
        scratch_database(server_url, demo=False) as url,
        live_server(url, tmp_path, COMPLAINT_MAX_PER_HOUR_PER_CLIENT="100", DB_POOL_SIZE="10") as server,
    ):
        k = key()
        parts = [(name, (None, value)) for name, value in form(description="同时发送了五次").items()]
        parts.append(("photos", ("p.jpg", jpeg_with_gps(), "image/jpeg")))

        async def send_five() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
                return await asyncio.gather(
                    *(http.post("/api/complaints", headers={"Idempotency-Key": k}, files=parts) for _ in range(5))
                )

        answers = asyncio.run(send_five())
        assert [r.status_code for r in answers] == [201] * 5, [r.text for r in answers]
        assert len({r.json()["tracking_code"] for r in answers}) == 1
        assert sum(1 for r in answers if "idempotent-replayed" not in r.headers) == 1
        (complaints,) = asyncio.run(execute(url, select(func.count()).select_from(Complaint)))[0]
        (photos,) = asyncio.run(
            execute(url, select(func.count()).select_from(Upload).where(Upload.purpose == "complaint_photo"))
        )[0]
        assert (complaints, photos) == (1, 1)  # the losers' photos were deleted again
