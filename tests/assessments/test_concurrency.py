"""Two officers publishing the same draft at the same moment, in two transactions through the real
service: one publishes, the other is told it already was; one event, one published_at."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from backend.accounts.models import Account
from backend.assessments import service
from backend.assessments.models import Assessment
from backend.assessments.schemas import AssessmentIn, ItemIn
from backend.assessments.standard import DIMENSIONS
from backend.core.authz import Grant, Principal, Role
from backend.core.clock import local_today
from backend.core.errors import AppError
from backend.core.outbox import Event
from tests.live import scratch_database
from tests.world import World


async def scenario(url: str) -> tuple[list[str], int, str]:
    world = await World(url, slots_tomorrow=False).build()
    officers = [Principal(uuid.uuid4(), uuid.uuid4(), (Grant(Role.OFFICER, department_code="health"),)) for _ in "ab"]
    engine = create_async_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        async with sessions() as db:
            for n, p in enumerate(officers):
                db.add(Account(id=p.account_id, email=f"assessor{n}.{p.account_id.hex[:8]}@daqing.example"))
            await db.flush()
            assessment_id = await service.create(
                db,
                officers[0],
                AssessmentIn(
                    institution_id=world.inst,
                    assessed_on=local_today(),
                    assessors=["甲"],
                    scores={d.key: float(d.max_points) for d in DIMENSIONS},
                    summary="好",
                    items=[ItemIn(description="x", deadline=local_today() + dt.timedelta(days=5))],
                ),
            )
            await db.commit()

        async def publish(p: Principal) -> str:
            async with sessions() as db:
                try:
                    await service.publish(db, p, assessment_id)
                    await db.commit()
                    return "ok"
                except AppError as exc:
                    return exc.code

        outcomes = await asyncio.gather(*(publish(p) for p in officers))
        async with sessions() as db:
            events = await db.scalar(select(func.count()).select_from(Event).where(Event.subject_id == assessment_id))
            status = await db.scalar(select(Assessment.status).where(Assessment.id == assessment_id))
    finally:
        await engine.dispose()
    return sorted(outcomes), events or 0, status or ""


def test_two_officers_publishing_at_once_publish_once(server_url):
    with scratch_database(server_url, demo=False) as url:
        outcomes, events, status = asyncio.run(scenario(url))
    assert outcomes == ["already_published", "ok"]
    assert events == 1 and status == "published"
