"""Factories for test data, created through the project's own models and session functions."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.models import Account, RoleGrant
from backend.accounts.sessions import create_session
from backend.core import crypto, workdays
from backend.core.authz import Role
from backend.core.clock import local_today
from backend.core.config import Settings
from backend.families.models import Child, GuardianConsent, Guardianship
from backend.families.schemas import CHILD_DATA_POLICY_VERSION
from backend.institutions.models import CareClass, Institution, InstitutionMode
from backend.institutions.rules import uscc_check_char
from tests.conftest import TEST_SECRET

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def random_phone() -> str:
    return "1" + random.choice("3456789") + "".join(random.choice("0123456789") for _ in range(9))


def random_uscc(unit_code: int = 230602) -> str:
    first17 = "91" + str(unit_code) + "".join(random.choice(_USCC_CHARS) for _ in range(9))
    return first17 + uscc_check_char(first17)


def months_ago(months: int, days: int = 7) -> dt.date:
    """A birth date making a child ``months`` whole months old today (and for a few days more)."""
    today = dt.date.today()
    y, m = divmod(today.month - 1 - months, 12)
    day = min(today.day, 28)
    return dt.date(today.year + y, m + 1, day) - dt.timedelta(days=days)


# Children's names are encrypted with the process's keyring: the test settings' one, for every engine
# (also the bare ones of tests/world.py and live-server helpers).
crypto.install(crypto.ChildDataKeys.from_settings(Settings(env="test", secret_key=TEST_SECRET)))

EVERY_DAY = [{"days": [1, 2, 3, 4, 5, 6, 7], "opens": "07:00", "closes": "19:00"}]


def next_open_day(after: dt.date | None = None) -> dt.date:
    """The first day after ``after`` (default: today) that is not a public holiday: slots are not
    published on public holidays (``core/workdays.py``), so tests that publish use this day rather
    than plain tomorrow, which fails on the eve of 春节 or 国庆节."""
    day = (after or local_today()) + dt.timedelta(days=1)
    while workdays.public_holiday(day):
        day += dt.timedelta(days=1)
    return day


class Factory:
    def __init__(self, db: AsyncSession, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    async def account(
        self,
        role: Role = Role.PARENT,
        *,
        institution_id: uuid.UUID | None = None,
        department: str | None = None,
        unit: int | None = None,
        phone: str | None = None,
        email: str | None = None,
        password_hash: str | None = None,
    ) -> Account:
        acc = Account(
            id=uuid.uuid4(),
            phone=phone or (random_phone() if email is None else None),
            email=email,
            password_hash=password_hash,
        )
        self.db.add(acc)
        await self.db.flush()
        self.db.add(
            RoleGrant(
                account_id=acc.id, role=role, institution_id=institution_id, department_code=department, unit_code=unit
            )
        )
        await self.db.commit()
        return acc

    async def token(self, account: Account) -> str:
        token, _ = await create_session(self.db, self.settings, account.id)
        await self.db.commit()
        return token

    async def signed_in(self, role: Role = Role.PARENT, **kw: Any) -> tuple[Account, dict[str, str]]:
        acc = await self.account(role, **kw)
        return acc, {"Authorization": f"Bearer {await self.token(acc)}"}

    async def institution(
        self,
        *,
        lat: float = 46.63,
        lng: float = 125.11,
        unit_code: int = 230602,
        classes: list[tuple[str, int, int, int]] | None = None,
        modes: dict[str, tuple[int, str]] | None = None,
        **fields: Any,
    ) -> Institution:
        """``classes``: (class_type, capacity, carers, enrolled); ``modes``: mode -> (price_fen, unit)."""
        values: dict[str, Any] = {
            "name": f"测试托育中心{random.randint(1000, 9999)}",
            "legal_form": "for_profit",
            "registration_no": random_uscc(unit_code),
            "unit_code": unit_code,
            "address": "大庆市萨尔图区测试路1号",
            "lat": lat,
            "lng": lng,
            "phone": "0459-1234567",
            "ownership": "private",
            "opening_hours": [{"days": [1, 2, 3, 4, 5], "opens": "07:30", "closes": "17:30"}],
            "filing_status": "filed",  # only filed institutions take bookings (UNFILED_CAN_TAKE_BOOKINGS)
        }
        values.update(fields)
        inst = Institution(id=uuid.uuid4(), **values)
        self.db.add(inst)
        await self.db.flush()
        for i, (class_type, capacity, carers, enrolled) in enumerate(
            classes if classes is not None else [("toddler", 15, 3, 5)]
        ):
            self.db.add(
                CareClass(
                    id=uuid.uuid4(),
                    institution_id=inst.id,
                    name=f"{class_type}-{i}",
                    class_type=class_type,
                    capacity=capacity,
                    carers=carers,
                    offline_count=enrolled,
                )
            )
        for mode, (price, unit) in (modes if modes is not None else {"full_day": (250000, "month")}).items():
            self.db.add(InstitutionMode(institution_id=inst.id, mode=mode, price_fen=price, price_unit=unit))
        await self.db.commit()
        return inst

    async def child(
        self, guardian: Account, *, name: str = "测试宝宝", birth_date: Any = None, age_months: int | None = None
    ) -> Child:
        """A child of ``guardian``; ``age_months`` gives a birth date that many months (and a week) ago."""
        if age_months is not None:
            birth_date = months_ago(age_months)
        child = Child(id=uuid.uuid4(), name=name, birth_date=birth_date or dt.date.today() - dt.timedelta(days=400))
        self.db.add(child)
        await self.db.flush()
        self.db.add(Guardianship(child_id=child.id, account_id=guardian.id, relation="mother"))
        self.db.add(
            GuardianConsent(account_id=guardian.id, child_id=child.id, policy_version=CHILD_DATA_POLICY_VERSION)
        )
        await self.db.commit()
        return child

    async def placed_child(
        self, guardian: Account, institution_id: uuid.UUID, class_id: uuid.UUID, *, status: str = "enrolled"
    ) -> Child:
        """A child of ``guardian`` holding a place (an ``enrolled`` or ``accepted`` application) in the
        class, counted in the class's counters like the enrolment service does; other statuses (e.g.
        ``ended``) make a former family."""
        from sqlalchemy import update

        from backend.enrolment.models import Application

        child = await self.child(guardian, age_months=14)
        self.db.add(
            Application(
                id=uuid.uuid4(),
                child_id=child.id,
                applicant_id=guardian.id,
                institution_id=institution_id,
                class_id=class_id,
                mode="full_day",
                start_date=dt.date.today(),
                status=status,
            )
        )
        column = {"enrolled": CareClass.enrolled_count, "accepted": CareClass.offered_count}.get(status)
        if column is not None:
            await self.db.execute(update(CareClass).where(CareClass.id == class_id).values({column: column + 1}))
        await self.db.commit()
        return child


@pytest.fixture
def factory(db: AsyncSession, settings: Settings) -> Factory:
    return Factory(db, settings)


MakeAuth = Callable[..., Awaitable[tuple[Account, dict[str, str]]]]
