"""The access_token and jsapi_ticket, cached in PostgreSQL and shared by every app process.

Each ``cgi-bin/token`` call invalidates the token before it, so processes must not race a refresh.
A reader takes the cached value while it has more than ``refresh_margin_s`` left. Otherwise it locks
the credential's row (``SELECT ... FOR UPDATE``, the row exists from the migration on), looks again
— another process may have refreshed while it waited — and only then asks WeChat, stores the answer
and commits, which releases the lock. A caller whose token WeChat refused (40001/42001) passes it as
``stale``: the refresh happens only if the cache still holds that very token.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.core import tx
from backend.wechat.api import WeChatApi
from backend.wechat.models import WeChatCredential

Sessions = async_sessionmaker[AsyncSession]


def _fresh(row: WeChatCredential | None, margin_s: int, stale: str | None) -> bool:
    return (
        row is not None
        and row.value is not None
        and row.value != stale
        and row.expires_at is not None
        and row.expires_at - dt.timedelta(seconds=margin_s) > dt.datetime.now(dt.UTC)
    )


async def _cached(
    sessions: Sessions,
    kind: str,
    margin_s: int,
    stale: str | None,
    fetch: Callable[[], Awaitable[tuple[str, int]]],
) -> str:
    async with sessions() as db:
        row = await db.get(WeChatCredential, kind)
        if _fresh(row, margin_s, stale):
            return row.value  # type: ignore[union-attr,return-value]
        await db.rollback()
        row = (
            await db.execute(
                select(WeChatCredential)
                .where(WeChatCredential.kind == kind)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one()
        if _fresh(row, margin_s, stale):
            await tx.commit_shared_cache(db)
            return row.value  # type: ignore[return-value]
        value, expires_in = await fetch()
        now = dt.datetime.now(dt.UTC)
        row.value = value
        row.expires_at = now + dt.timedelta(seconds=expires_in)
        row.refreshed_at = now
        row.refresh_count += 1
        await tx.commit_shared_cache(db)
        return value


async def access_token(sessions: Sessions, api: WeChatApi, *, stale: str | None = None) -> str:
    return await _cached(sessions, "access_token", api.settings.refresh_margin_s, stale, api.client_credential_token)


async def jsapi_ticket(sessions: Sessions, api: WeChatApi, *, stale: str | None = None) -> str:
    from backend.wechat.api import TOKEN_ERRORS, WeChatError

    async def fetch() -> tuple[str, int]:
        token = await access_token(sessions, api)
        try:
            return await api.jsapi_ticket(token)
        except WeChatError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            return await api.jsapi_ticket(await access_token(sessions, api, stale=token))

    return await _cached(sessions, "jsapi_ticket", api.settings.refresh_margin_s, stale, fetch)
