"""Housekeeping deletes what is no longer needed, and only that."""

import datetime as dt

from sqlalchemy import func, select

from backend.accounts.models import AuthSession, OtpCode
from backend.core import maintenance
from backend.core.authz import Role
from backend.core.ratelimit import RateLimitCounter

NOW = dt.datetime.now(dt.UTC)


async def test_purges_expired_codes_sessions_and_counters(db, factory, settings):
    acc = await factory.account(Role.PARENT)
    db.add_all(
        [
            OtpCode(phone=acc.phone, code_hash=b"x" * 32, created_at=NOW - dt.timedelta(days=2), expires_at=NOW),
            OtpCode(phone=acc.phone, code_hash=b"y" * 32, expires_at=NOW + dt.timedelta(minutes=5)),
            AuthSession(token_hash=b"a" * 32, account_id=acc.id, expires_at=NOW - dt.timedelta(days=8)),
            AuthSession(
                token_hash=b"b" * 32,
                account_id=acc.id,
                expires_at=NOW + dt.timedelta(days=8),
                revoked_at=NOW - dt.timedelta(days=9),
            ),
            AuthSession(token_hash=b"c" * 32, account_id=acc.id, expires_at=NOW + dt.timedelta(days=8)),
            RateLimitCounter(key_hash=b"k" * 32, window_start=NOW - dt.timedelta(days=3), window_seconds=3600, hits=3),
            RateLimitCounter(key_hash=b"k" * 32, window_start=NOW, window_seconds=3600, hits=1),
        ]
    )
    await db.commit()

    counts = await maintenance.run_once(db, settings)
    assert counts is not None
    assert {k: counts[k] for k in ("rate_limit_counters", "auth_sessions", "otp_codes")} == {
        "rate_limit_counters": 1,
        "auth_sessions": 2,
        "otp_codes": 1,
    }
    assert await db.scalar(select(func.count()).select_from(OtpCode).where(OtpCode.phone == acc.phone)) == 1
    left = (await db.execute(select(AuthSession.token_hash).where(AuthSession.account_id == acc.id))).scalars().all()
    assert left == [b"c" * 32]


def test_the_loop_runs_in_a_live_server(server_url, tmp_path):
    """The periodic loop runs inside the app (waiting until its log line shows, at most 10 s)."""
    import re
    import time

    from tests.live import live_server, scratch_database

    with (
        scratch_database(server_url, demo=False) as url,
        live_server(url, tmp_path, MAINTENANCE_INTERVAL_S="1", LOG_LEVEL="INFO") as server,
    ):
        deadline = time.monotonic() + 10
        while not re.search(r"maintenance: .*otp_codes=0", server.log()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert re.search(r"maintenance: .*otp_codes=0", server.log()), server.log()[-2000:]
