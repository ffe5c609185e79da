"""One app process asking for the shared access_token (tests/wechat/test_token_refresh.py).

``python -m tests.wechat.token_worker DATABASE_URL API_BASE``: connects, prints ``ready``, waits for a
line on stdin, then asks for the token and prints it.
"""

from __future__ import annotations

import asyncio
import sys

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from backend.core.config import WeChatSettings
from backend.wechat import tokens
from backend.wechat.api import WeChatApi
from tests.wechat.server import APP_ID, APP_SECRET


async def main(database_url: str, api_base: str) -> None:
    engine = create_async_engine(database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with engine.connect() as c:  # connected before the start signal
        await c.close()
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    settings = WeChatSettings(app_id=APP_ID, app_secret=APP_SECRET, api_base=api_base, oauth_base=api_base)
    async with WeChatApi(settings) as api:
        print(await tokens.access_token(sessions, api), flush=True)
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
