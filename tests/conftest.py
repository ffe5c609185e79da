"""Test harness: a real PostgreSQL built by the real migrations, each test in a rolled-back transaction.

* Server: the embedded PostgreSQL under ``var/pgtest`` (started for the run, stopped after), or the
  server ``TEST_DATABASE_URL`` points at (e.g. ``postgresql://postgres@127.0.0.1:5432/test``).
* Database: a fresh one per run (``dq_test_<pid>``), migrated with Alembic, dropped at the end.
* Isolation: each test gets one connection inside a transaction; the app's sessions join it with
  savepoints (``join_transaction_mode="create_savepoint"``), so a service's ``commit()`` really
  commits its savepoint, and the whole test is rolled back afterwards.
* The app runs in-process through ``httpx.ASGITransport`` inside ``app.lifespan()``, on the test's
  own event loop. Tests that need real commits or several processes use ``committed_db``/servers.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from backend.app import create_app
from backend.core import migrate, pgserver
from backend.core.config import REPO_ROOT, Settings, to_async_url
from backend.core.db import create_engine
from backend.core.notify_settings import NotifySettings
from backend.core.storage import LocalStorage

TEST_SECRET = "test-secret-key-" + "x" * 48


def _vapid_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


TEST_VAPID_PEM = _vapid_pem()


def make_settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "env": "test",
        "secret_key": TEST_SECRET,
        "var_dir": REPO_ROOT / "var" / "test",
        "db_pool_size": 5,
        "db_max_overflow": 5,
        "maintenance_interval_s": 0,
        "vapid_private_key": TEST_VAPID_PEM,
        "push_worker": False,
        # no notification worker in the test's own process (live servers run theirs); no quiet hours
        "notify": NotifySettings(notify_worker=False, quiet_hours=None),
    }
    base.update(overrides)
    return Settings(**base)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """Admin URL of the PostgreSQL server the suite runs against."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield to_async_url(external)
        return
    yield pgserver.start_embedded(
        REPO_ROOT / "var" / "pgtest",
        stop_at_exit=True,
        # Durability is pointless for throwaway test data; these are reloadable settings.
        settings={"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"},
    )


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    name = f"dq_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(pgserver.create_database(server_url, name, exist_ok=False))
    url = pgserver.with_database(server_url, name)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        asyncio.run(pgserver.drop_database(server_url, name))


@pytest.fixture(scope="module")
def demo_url(server_url: str, settings: Settings) -> Iterator[str]:
    """A database of its own for a test module, migrated and loaded with the Daqing demo data (as
    ``make run`` loads it); read it with ``tests.demodb.rows``."""
    from backend.demo.seed import seed

    name = f"dq_demo_{uuid.uuid4().hex[:8]}"
    asyncio.run(pgserver.create_database(server_url, name, exist_ok=False))
    url = pgserver.with_database(server_url, name)
    try:
        migrate.upgrade(url)
        asyncio.run(seed(url, settings))
        yield url
    finally:
        asyncio.run(pgserver.drop_database(server_url, name))


@pytest.fixture(scope="session")
def settings() -> Settings:
    return make_settings()


@pytest.fixture(scope="session")
async def engine(database_url: str, settings: Settings) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(settings, database_url)
    yield eng
    await eng.dispose()


@pytest.fixture(scope="session")
async def app(engine: AsyncEngine, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    application = create_app(settings, engine=engine)
    application.state["storage"] = LocalStorage(tmp_path_factory.mktemp("uploads"))  # never the repository's var/
    # Enter and leave the lifespan in one task (it holds an anyio task group).
    started, stop = asyncio.Event(), asyncio.Event()

    async def run_lifespan() -> None:
        async with application.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(run_lifespan())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait([waiter, task], return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()  # the lifespan failed: raise its error instead of hanging
    yield application
    stop.set()
    await task


@pytest.fixture
async def conn(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


def _session_maker(conn: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False, autoflush=False
    )


@pytest.fixture
async def db(conn: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session inside the test's transaction, for arranging and inspecting data."""
    async with _session_maker(conn)() as session:
        yield session


@pytest.fixture
async def client(app: Any, conn: AsyncConnection) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the in-process app, whose sessions join the test's transaction."""
    key = app.state.alchemy.session_maker_app_state_key
    original = app.state[key]
    app.state[key] = _session_maker(conn)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 40000)),
            base_url="http://127.0.0.1:8000",
        ) as http:
            yield http
    finally:
        app.state[key] = original


pytest_plugins = ["tests.factories", "tests.s3server"]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT
