"""Two officers deciding one filing at once, and a decision racing a resubmission: exactly one wins,
the other gets 409 — real transactions on committed data, the wait observed (pg_blocking_pids)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from backend.accounts.models import Account
from backend.core.authz import Grant, Principal, Role
from backend.core.errors import AppError
from backend.files.models import Upload
from backend.filing import service
from backend.filing.models import Filing, FilingHistory, subject_type
from backend.institutions.models import Institution
from tests.conftest import make_settings
from tests.factories import random_uscc
from tests.filing.test_filing import REQUIRED
from tests.live import scratch_database
from tests.world import execute

UNIT = 230621


def institution_row(status: str) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "name": "并发测试托育中心",
        "legal_form": "for_profit",
        "registration_no": random_uscc(UNIT),
        "filing_status": status,
        "unit_code": UNIT,
        "address": "大庆市肇州县测试路1号",
        "lat": 45.70,
        "lng": 125.27,
        "phone": "0459-1234567",
        "ownership": "private",
    }


def filing_row(inst: dict[str, Any], status: str) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return {
        "id": uuid.uuid4(),
        "institution_id": inst["id"],
        "status": status,
        "submission": 1,
        "submitted_at": now,
        "due_at": now + dt.timedelta(days=21),
        "decided_at": now if status == "returned" else None,
        "return_reasons": "请补正" if status == "returned" else None,
    }


def documents(filing_id: uuid.UUID, owner: uuid.UUID) -> list[dict[str, Any]]:
    return [
        {
            "id": uuid.uuid4(),
            "owner_id": owner,
            "purpose": "filing_document",
            "storage_key": f"filing_document/00/{uuid.uuid4().hex}",
            "content_type": "application/pdf",
            "byte_size": 100,
            "sha256": hashlib.sha256(kind.encode()).digest(),
            "subject_type": subject_type(kind),
            "subject_id": filing_id,
            "position": 0,
        }
        for kind in REQUIRED
    ]


async def race(
    sessions: async_sessionmaker[AsyncSession],
    first: Callable[[AsyncSession], Awaitable[None]],
    second: Callable[[AsyncSession], Awaitable[None]],
) -> str:
    """Run ``first`` and keep its transaction open; start ``second``, wait until it is blocked by
    ``first``'s lock, commit ``first``; return what ``second`` ended with ("ok" or "409 code")."""
    async with sessions() as one, sessions() as two:
        await first(one)
        one_pid = await one.scalar(text("SELECT pg_backend_pid()"))
        two_pid = await two.scalar(text("SELECT pg_backend_pid()"))

        async def run_second() -> str:
            try:
                await second(two)
            except AppError as exc:
                await two.rollback()
                return f"{exc.status_code} {exc.code}"
            await two.commit()
            return "ok"

        waiting = asyncio.create_task(run_second())
        async with sessions() as watcher:
            give_up = asyncio.get_running_loop().time() + 30
            while True:
                assert asyncio.get_running_loop().time() < give_up, "the second never waited for the first's lock"
                blockers = await watcher.scalar(text("SELECT pg_blocking_pids(:pid)"), {"pid": two_pid})
                await watcher.rollback()
                if one_pid in (blockers or []):
                    break
                assert not waiting.done(), waiting.result()
                await asyncio.sleep(0.01)
        await one.commit()
        return await waiting


def test_concurrent_decisions_and_a_decision_racing_a_resubmission(server_url):
    settings = make_settings()

    async def scenario(url: str) -> dict[str, Any]:
        admin, officer_a, officer_b = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        inst_1, inst_2 = institution_row("submitted"), institution_row("returned")
        filing_1, filing_2 = filing_row(inst_1, "submitted"), filing_row(inst_2, "returned")
        await execute(
            url,
            insert(Account).values(
                [{"id": a, "email": f"f{a.hex[:10]}@daqing.example"} for a in (admin, officer_a, officer_b)]
            ),
            insert(Institution).values([inst_1, inst_2]),
            insert(Filing).values([filing_1, filing_2]),
            insert(Upload).values(documents(filing_2["id"], admin)),
        )
        a = Principal(officer_a, uuid.uuid4(), (Grant(Role.OFFICER, department_code="health", unit_code=UNIT),))
        b = Principal(officer_b, uuid.uuid4(), (Grant(Role.OFFICER, department_code="health"),))
        inst_admin = Principal(admin, uuid.uuid4(), (Grant(Role.INSTITUTION_ADMIN, institution_id=inst_2["id"]),))
        engine = create_async_engine(url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        out: dict[str, Any] = {}
        try:
            # Two officers: A approves (holding the lock), B's return waits, then finds it decided.
            out["two_officers"] = await race(
                sessions,
                lambda db: service.decide(db, a, filing_1["id"], approve=True, reasons=None, expected_submission=1),
                lambda db: service.decide(
                    db, b, filing_1["id"], approve=False, reasons="材料不全", expected_submission=1
                ),
            )
            # The institution resubmits (holding the lock) while an officer decides on what they saw.
            out["resubmission"] = await race(
                sessions,
                lambda db: service.submit(db, settings, inst_admin, inst_2["id"]),
                lambda db: service.decide(db, b, filing_2["id"], approve=True, reasons=None, expected_submission=1),
            )
            out["filings"] = await execute(
                url,
                select(Filing.id, Filing.status, Filing.submission, Filing.decided_by).where(
                    Filing.id.in_([filing_1["id"], filing_2["id"]])
                ),
            )
            out["institutions"] = await execute(
                url,
                select(Institution.id, Institution.filing_status, Institution.filed_at).where(
                    Institution.id.in_([inst_1["id"], inst_2["id"]])
                ),
            )
            out["history"] = await execute(
                url,
                select(FilingHistory.filing_id, FilingHistory.action, FilingHistory.actor_id).order_by(
                    FilingHistory.id
                ),
            )
        finally:
            await engine.dispose()
        out["ids"] = (filing_1["id"], filing_2["id"], inst_1["id"], inst_2["id"], officer_a, admin)
        return out

    with scratch_database(server_url, demo=False) as url:
        out = asyncio.run(scenario(url))
    filing_1, filing_2, inst_1, inst_2, officer_a, admin = out["ids"]
    assert out["two_officers"] == "409 filing_not_submitted"
    assert out["resubmission"] == "409 submission_changed"
    filings = {r.id: (r.status, r.submission, r.decided_by) for r in out["filings"]}
    assert filings[filing_1] == ("filed", 1, officer_a)
    assert filings[filing_2][:2] == ("submitted", 2)
    institutions = {r.id: (r.filing_status, r.filed_at is not None) for r in out["institutions"]}
    assert institutions == {inst_1: ("filed", True), inst_2: ("submitted", False)}
    assert [(r.filing_id, r.action, r.actor_id) for r in out["history"]] == [
        (filing_1, "approved", officer_a),
        (filing_2, "submitted", admin),
    ]
