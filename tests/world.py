"""Committed test data for tests against real servers (which cannot see a test's open transaction)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from backend.accounts.models import Account, AuthSession, RoleGrant
from backend.bookings.models import Slot
from backend.core.clock import local_today
from backend.core.security import new_session_token, token_digest
from backend.enrolment.models import Application
from backend.families.models import Child, GuardianConsent, Guardianship
from backend.families.schemas import CHILD_DATA_POLICY_VERSION
from backend.institutions.models import CareClass, Institution, InstitutionMode
from tests.factories import EVERY_DAY, months_ago, random_phone, random_uscc

TOMORROW = local_today() + dt.timedelta(days=1)


async def execute(url: str, *statements: Any) -> list[Any]:
    """Run statements in one committed transaction; the rows of the last one, if it returns any."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            result = None
            for statement in statements:
                result = await conn.execute(statement)
            return result.all() if result is not None and result.returns_rows else []
    finally:
        await engine.dispose()


async def account(url: str, role: str, institution_id: uuid.UUID | None = None) -> tuple[uuid.UUID, str]:
    """An account with one role and a live session; returns (account id, bearer token)."""
    account_id, token = uuid.uuid4(), new_session_token()
    await execute(
        url,
        insert(Account).values(id=account_id, phone=random_phone()),
        insert(RoleGrant).values(account_id=account_id, role=role, institution_id=institution_id),
        insert(AuthSession).values(
            account_id=account_id,
            token_hash=token_digest(token),
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=2),
        ),
    )
    return account_id, token


class World:
    """An institution open every day, with a staff member; families on demand."""

    def __init__(
        self, url: str, *, modes: tuple[tuple[str, str], ...] = (("hourly", "hour"),), slots_tomorrow: bool = True
    ) -> None:
        self.url = url
        self.inst = uuid.uuid4()
        self.modes = modes
        self.slots_tomorrow = slots_tomorrow

    async def build(self) -> World:
        statements: list[Any] = [
            insert(Institution).values(
                id=self.inst,
                name="测试托育中心（已提交）",
                legal_form="for_profit",
                registration_no=random_uscc(),
                unit_code=230602,
                address="测试",
                lat=30.0,
                lng=30.0,
                phone="0459-1",
                ownership="private",
                opening_hours=EVERY_DAY,
                filing_status="filed",
            ),
            insert(InstitutionMode).values(
                [{"institution_id": self.inst, "mode": m, "price_fen": 3000, "price_unit": u} for m, u in self.modes]
            ),
        ]
        if self.slots_tomorrow:  # toddler slots 07:00-19:00, 50 places each
            statements.append(
                insert(Slot).values(
                    [
                        {
                            "institution_id": self.inst,
                            "day": TOMORROW,
                            "band": "toddler",
                            "start_min": h * 60,
                            "end_min": h * 60 + 60,
                            "capacity": 50,
                        }
                        for h in range(7, 19)
                    ]
                )
            )
        await execute(self.url, *statements)
        self.staff_id, self.staff = await account(self.url, "institution_staff", self.inst)
        return self

    async def family(self, name: str = "实时宝宝") -> tuple[uuid.UUID, uuid.UUID, str]:
        """A parent with a 14-month-old child; returns (parent id, child id, bearer token)."""
        parent, token = await account(self.url, "parent")
        child = uuid.uuid4()
        await execute(
            self.url,
            insert(Child).values(id=child, name=name, birth_date=months_ago(14)),
            insert(Guardianship).values(child_id=child, account_id=parent, relation="mother"),
            insert(GuardianConsent).values(account_id=parent, child_id=child, policy_version=CHILD_DATA_POLICY_VERSION),
        )
        return parent, child, token

    async def care_class(self, class_type: str = "toddler") -> uuid.UUID:
        """A class of 15 places with 3 carers; returns its id."""
        class_id = uuid.uuid4()
        await execute(
            self.url,
            insert(CareClass).values(
                id=class_id,
                institution_id=self.inst,
                name=f"{class_type}-{class_id.hex[:4]}",
                class_type=class_type,
                capacity=15,
                carers=3,
            ),
        )
        return class_id

    async def placed_family(self, class_id: uuid.UUID) -> tuple[uuid.UUID, str]:
        """A parent whose child is enrolled in the class; returns (parent id, bearer token)."""
        parent, child, token = await self.family()
        await execute(
            self.url,
            insert(Application).values(
                child_id=child,
                applicant_id=parent,
                institution_id=self.inst,
                class_id=class_id,
                mode="full_day",
                start_date=local_today(),
                status="enrolled",
            ),
        )
        return parent, token
