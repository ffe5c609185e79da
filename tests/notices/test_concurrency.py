"""One answer per guardian holds under concurrency: the same parent answering twice at the same
moment, in two transactions through the real service, leaves one answer (named or anonymous)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from backend.core.authz import Grant, Principal, Role
from backend.core.errors import AppError
from backend.notices import service
from backend.notices.models import ConsultationAnswer, ConsultationParticipant
from backend.notices.schemas import AnswerIn, ConsultationIn, NoticeIn
from tests.live import scratch_database
from tests.world import World


async def scenario(url: str, anonymous: bool) -> tuple[list[str], int, int]:
    world = await World(url, slots_tomorrow=False).build()
    parent_id, _token = await world.placed_family(await world.care_class())
    staff = Principal(world.staff_id, uuid.uuid4(), (Grant(Role.INSTITUTION_STAFF, institution_id=world.inst),))
    parent = Principal(parent_id, uuid.uuid4(), (Grant(Role.PARENT),))
    engine = create_async_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        async with sessions() as db:
            deadline = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
            question = ConsultationIn(
                question="同意吗？", deadline=deadline, options=["同意", "不同意"], anonymous=anonymous
            )
            notice_id = await service.create(db, staff, world.inst, NoticeIn(title="征求意见", consultation=question))
            await db.commit()

        async def answer(choice: int) -> str:
            async with sessions() as db:
                try:
                    await service.answer(db, parent, notice_id, AnswerIn(choices=[choice]))
                    await db.commit()
                    return "ok"
                except AppError as exc:
                    return exc.code

        outcomes = await asyncio.gather(answer(0), answer(1))
        async with sessions() as db:
            answers = await db.scalar(
                select(func.count()).select_from(ConsultationAnswer).where(ConsultationAnswer.notice_id == notice_id)
            )
            participants = await db.scalar(
                select(func.count())
                .select_from(ConsultationParticipant)
                .where(ConsultationParticipant.notice_id == notice_id)
            )
    finally:
        await engine.dispose()
    return sorted(outcomes), answers or 0, participants or 0


@pytest.mark.parametrize("anonymous", [False, True], ids=["named", "anonymous"])
def test_two_simultaneous_answers_of_one_parent_leave_one_answer(server_url, anonymous):
    with scratch_database(server_url, demo=False) as url:
        outcomes, answers, participants = asyncio.run(scenario(url, anonymous))
    assert answers == 1
    if anonymous:
        # The first answer wins; the second is refused (it would need the first one's receipt).
        assert outcomes == ["already_answered", "ok"] and participants == 1
    else:
        # A named answer may be changed: both succeed, one after the other, on the same row.
        assert outcomes == ["ok", "ok"] and participants == 0
