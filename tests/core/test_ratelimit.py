"""Sliding-window rate limits: twice the limit across a window boundary is no longer possible."""

from __future__ import annotations

from sqlalchemy import text

from backend.core import ratelimit
from backend.core.security import keyed_digest

SECRET = "s" * 48
WINDOW = 3600


def test_the_previous_window_counts_for_the_part_still_covered():
    assert ratelimit.sliding_count(0, 10, 0, WINDOW) == 10
    assert ratelimit.sliding_count(0, 10, WINDOW / 2, WINDOW) == 5
    assert ratelimit.sliding_count(3, 10, WINDOW, WINDOW) == 3
    # refused with 10 of 10 in the previous window: free again once a tenth of it has slid out
    assert ratelimit.retry_after_s(1, 10, 0, WINDOW, 10) == 360
    assert ratelimit.retry_after_s(11, 0, 100, WINDOW, 10) == WINDOW - 100


async def test_the_limit_spent_just_before_a_boundary_is_not_spent_again_just_after(db):
    """Found as an attacker: fixed clock-hour windows allowed the limit at 10:59 and again at 11:00.

    The window is chosen so that the current one began 100 seconds ago (windows are aligned on the
    epoch): the previous window's ten attempts still count almost fully."""
    key = "login:boundary@example.cn"
    now = (await db.execute(text("SELECT extract(epoch FROM now())"))).scalar_one()
    window = int(now) - 100
    digest = keyed_digest(SECRET, "ratelimit", key)
    await db.execute(
        text("INSERT INTO rate_limit_counters VALUES (:k, to_timestamp(0), :w, 10)"), {"k": digest, "w": window}
    )
    allowed, retry_after = await ratelimit.hit(db, SECRET, key, limit=10, window_s=window)
    assert not allowed
    assert retry_after > 100  # until a tenth of the previous window has slid out
    # without the previous window's attempts the same hit is allowed
    allowed, _ = await ratelimit.hit(db, SECRET, "login:other@example.cn", limit=10, window_s=window)
    assert allowed


async def test_a_fresh_key_gets_exactly_the_limit(db):
    results = [(await ratelimit.hit(db, SECRET, "fresh", limit=5, window_s=WINDOW))[0] for _ in range(7)]
    assert results == [True] * 5 + [False] * 2
