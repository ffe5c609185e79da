"""Who hears an event is one rule written three times — SQL for resuming (events.audience_sql), Python
for the live fan-out (events.audience_allows), and SQL from the event's side for Web Push
(push.AUDIENCE). Random events and every kind of account: the three must agree."""

from __future__ import annotations

import asyncio
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from backend.accounts.models import Account, RoleGrant
from backend.core.authz import Grant, Principal, Role
from backend.core.outbox import Event
from backend.institutions.models import Institution
from backend.realtime.events import audience_allows, audience_sql
from backend.realtime.push import AUDIENCE
from tests.factories import random_phone, random_uscc

INSTITUTIONS = [uuid.UUID(int=i) for i in (1, 2, 3)]
# account -> grants; uuid(int=…) keeps examples readable
WORLD: dict[uuid.UUID, tuple[Grant, ...]] = {
    uuid.UUID(int=101): (Grant(Role.PARENT),),
    uuid.UUID(int=102): (Grant(Role.PARENT),),
    uuid.UUID(int=103): (Grant(Role.INSTITUTION_STAFF, INSTITUTIONS[0]),),
    uuid.UUID(int=104): (Grant(Role.INSTITUTION_ADMIN, INSTITUTIONS[1]),),
    uuid.UUID(int=105): (Grant(Role.OFFICER, None, "health"),),
    uuid.UUID(int=106): (Grant(Role.OFFICER, None, "health", 230621),),
    uuid.UUID(int=107): (Grant(Role.OFFICER, None, "police"),),
    uuid.UUID(int=108): (Grant(Role.CITY_ADMIN),),
    uuid.UUID(int=109): (Grant(Role.PARENT), Grant(Role.INSTITUTION_STAFF, INSTITUTIONS[1])),
}

events_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "account_ids": st.sets(
                st.sampled_from([uuid.UUID(int=101), uuid.UUID(int=102), uuid.UUID(int=109), uuid.UUID(int=999)]),
                max_size=3,
            ),
            "institution_id": st.sampled_from([None, *INSTITUTIONS]),
            "department_codes": st.sets(st.sampled_from(["health", "police", "market"]), max_size=2),
            "unit_code": st.sampled_from([None, 230621, 230602]),
        }
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(events=events_strategy)
def test_sql_python_and_push_audiences_agree(database_url, events):
    async def check() -> None:
        engine = create_async_engine(database_url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                trans = await conn.begin()
                db = async_sessionmaker(bind=conn)()
                for n, inst in enumerate(INSTITUTIONS):
                    await db.execute(
                        insert(Institution).values(
                            id=inst,
                            name=f"受众{n}",
                            filing_status="filed",
                            legal_form="for_profit",
                            registration_no=random_uscc(),
                            unit_code=230602,
                            address="x",
                            lat=1.0,
                            lng=1.0,
                            phone="1",
                            ownership="private",
                        )
                    )
                for account, grants in WORLD.items():
                    await db.execute(insert(Account).values(id=account, phone=random_phone()))
                    for g in grants:
                        await db.execute(
                            insert(RoleGrant).values(
                                account_id=account,
                                role=g.role,
                                institution_id=g.institution_id,
                                department_code=g.department_code,
                                unit_code=g.unit_code,
                            )
                        )
                rows = []
                for n, e in enumerate(events):
                    event = Event(
                        type="test.event",
                        subject_type="test",
                        subject_id=uuid.uuid4(),
                        urgency="normal",
                        payload={},
                        account_ids=sorted(e["account_ids"]),
                        institution_id=e["institution_id"],
                        department_codes=sorted(e["department_codes"]),
                        unit_code=e["unit_code"],
                    )
                    db.add(event)
                    await db.flush()
                    rows.append(event)
                    del n
                ids = [r.id for r in rows]
                for account, grants in WORLD.items():
                    p = Principal(account_id=account, session_id=uuid.uuid4(), grants=grants)
                    by_sql = set(
                        (await db.execute(select(Event.id).where(Event.id.in_(ids), audience_sql(p)))).scalars()
                    )
                    by_python = {r.id for r in rows if audience_allows(p, r)}
                    assert by_sql == by_python, (account, grants)
                for r in rows:
                    heard = set(
                        (
                            await db.execute(text(AUDIENCE + "SELECT account_id FROM audience"), {"event_id": r.id})
                        ).scalars()
                    ) & set(WORLD)
                    expected = {
                        a
                        for a, g in WORLD.items()
                        if audience_allows(Principal(account_id=a, session_id=uuid.uuid4(), grants=g), r)
                    }
                    assert heard == expected, r.id
                await trans.rollback()
        finally:
            await engine.dispose()

    asyncio.run(check())
