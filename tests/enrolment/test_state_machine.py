"""A hypothesis state machine over apply / offer / waitlist / accept / withdraw / enrol / end / book /
cancel / capacity changes, calling the services on real PostgreSQL. After every step: places taken
never exceed capacity, counters equal rows, no child is double-booked or holds two places, nobody
waits while a place is free, and the waitlist is served in queue order."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from backend.accounts.models import Account, RoleGrant
from backend.bookings import service as bookings
from backend.bookings.models import Booking, Slot
from backend.bookings.schemas import BookingIn
from backend.core.authz import Grant, Principal, Role
from backend.core.clock import local_today
from backend.core.errors import AppError
from backend.core.outbox import Event
from backend.enrolment import service as enrolment
from backend.enrolment.models import Application
from backend.enrolment.schemas import ApplicationIn
from backend.families.models import Child, GuardianConsent, Guardianship
from backend.institutions import service as institutions
from backend.institutions.models import CareClass, Institution, InstitutionMode
from backend.institutions.schemas import ClassPatch
from tests.conftest import make_settings
from tests.factories import EVERY_DAY, months_ago, random_phone, random_uscc

CHILDREN = 6
TOMORROW = local_today() + dt.timedelta(days=1)


class EnrolmentMachine(RuleBasedStateMachine):
    database_url: ClassVar[str]

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.settings = make_settings()
        self.run(self._open())

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    async def _open(self) -> None:
        self.engine = create_async_engine(self.database_url, poolclass=NullPool)
        self.conn = await self.engine.connect()
        self.trans = await self.conn.begin()
        self.db = async_sessionmaker(
            bind=self.conn, join_transaction_mode="create_savepoint", expire_on_commit=False, autoflush=False
        )()

    def teardown(self) -> None:
        async def close() -> None:
            await self.db.close()
            await self.trans.rollback()
            await self.conn.close()
            await self.engine.dispose()

        self.run(close())
        self.loop.close()

    async def _call(self, coro: Any) -> Any:
        """Run a service call as a route would: commit on success, roll back on a refusal."""
        try:
            result = await coro
            await self.db.commit()
            return result
        except AppError:
            await self.db.rollback()
            return None
        except IntegrityError:  # a constraint said no (the route would answer 409/422): also a refusal
            await self.db.rollback()
            return None

    @initialize()
    def world(self) -> None:
        async def build() -> None:
            db = self.db
            self.inst_id = uuid.uuid4()
            await db.execute(
                insert(Institution).values(
                    id=self.inst_id,
                    name="状态机测试",
                    filing_status="filed",
                    legal_form="for_profit",
                    registration_no=random_uscc(),
                    unit_code=230602,
                    address="测试",
                    lat=20.0,
                    lng=20.0,
                    phone="0459-1",
                    ownership="private",
                    opening_hours=EVERY_DAY,
                )
            )
            await db.execute(
                insert(InstitutionMode).values(
                    [
                        {"institution_id": self.inst_id, "mode": "full_day", "price_fen": 1, "price_unit": "month"},
                        {"institution_id": self.inst_id, "mode": "hourly", "price_fen": 1, "price_unit": "hour"},
                    ]
                )
            )
            self.class_ids = [uuid.uuid4(), uuid.uuid4()]
            await db.execute(
                insert(CareClass).values(
                    [
                        {
                            "id": self.class_ids[0],
                            "institution_id": self.inst_id,
                            "name": "A",
                            "class_type": "toddler",
                            "capacity": 2,
                            "carers": 1,
                        },
                        {
                            "id": self.class_ids[1],
                            "institution_id": self.inst_id,
                            "name": "B",
                            "class_type": "mixed",
                            "capacity": 1,
                            "carers": 1,
                        },
                    ]
                )
            )
            for hour in (9, 10, 11):
                await db.execute(
                    insert(Slot).values(
                        institution_id=self.inst_id,
                        day=TOMORROW,
                        band="toddler",
                        start_min=hour * 60,
                        end_min=hour * 60 + 60,
                        capacity=2,
                    )
                )
            staff_id = uuid.uuid4()
            await db.execute(insert(Account).values(id=staff_id, phone=random_phone()))
            await db.execute(
                insert(RoleGrant).values(account_id=staff_id, role="institution_staff", institution_id=self.inst_id)
            )
            self.staff = Principal(staff_id, uuid.uuid4(), (Grant(Role.INSTITUTION_STAFF, self.inst_id),))
            self.children: list[tuple[uuid.UUID, Principal]] = []
            for n in range(CHILDREN):
                parent_id, child_id = uuid.uuid4(), uuid.uuid4()
                await db.execute(insert(Account).values(id=parent_id, phone=random_phone()))
                await db.execute(insert(RoleGrant).values(account_id=parent_id, role="parent"))
                await db.execute(insert(Child).values(id=child_id, name=f"宝宝{n}", birth_date=months_ago(19)))
                await db.execute(
                    insert(Guardianship).values(child_id=child_id, account_id=parent_id, relation="mother")
                )
                await db.execute(
                    insert(GuardianConsent).values(account_id=parent_id, child_id=child_id, policy_version="2026-12")
                )
                self.children.append((child_id, Principal(parent_id, uuid.uuid4(), (Grant(Role.PARENT),))))
            await db.commit()
            self.last_event = int(await db.scalar(select(func.coalesce(func.max(Event.id), 0))) or 0)
            self.queue: dict[uuid.UUID, list[uuid.UUID]] = {c: [] for c in self.class_ids}
            self.parent_of: dict[uuid.UUID, Principal] = {}

        self.run(build())

    # ------------------------------------------------------------------------------------------ rules
    # Rules pick their application or booking among those in a useful state (``n`` indexes them), so
    # long chains (apply, waitlist, withdraw an offer, automatic offer …) happen often; ``misuse``
    # throws any action at any application to check that refusals leave everything intact.

    def _pick(self, statuses: tuple[str, ...], n: int) -> uuid.UUID | None:
        ids = (
            self.run(
                self.db.execute(
                    select(Application.id)
                    .where(Application.institution_id == self.inst_id, Application.status.in_(statuses))
                    .order_by(Application.seq)
                )
            )
            .scalars()
            .all()
        )
        return ids[n % len(ids)] if ids else None

    @rule(child=st.integers(0, CHILDREN - 1), cls=st.integers(0, 1))
    def apply(self, child: int, cls: int) -> None:
        child_id, parent = self.children[child]
        data = ApplicationIn(
            child_id=child_id,
            institution_id=self.inst_id,
            mode="full_day",
            start_date=TOMORROW + dt.timedelta(days=2),
            class_id=self.class_ids[cls],
        )
        app_id = self.run(self._call(enrolment.apply(self.db, self.settings, parent, data)))
        if app_id is not None:
            self.parent_of[app_id] = parent

    @rule(n=st.integers(0, 20))
    def decide(self, n: int) -> None:
        """What staff usually do with a new application: offer a free place, else waitlist it."""
        app = self._pick(("submitted",), n)
        if app is None:
            return
        self.run(self._call(enrolment.offer(self.db, self.settings, self.staff, self.inst_id, app)))
        if self._status(app) == "submitted":
            self._waitlist(app)

    @rule(n=st.integers(0, 20))
    def offer(self, n: int) -> None:
        app = self._pick(("submitted", "waitlisted"), n)
        if app is not None:
            self._offer(app)

    def _offer(self, app: uuid.UUID) -> None:
        was_waiting = self._status(app) == "waitlisted"
        self.run(self._call(enrolment.offer(self.db, self.settings, self.staff, self.inst_id, app)))
        if was_waiting and self._status(app) == "offered":
            self._served(app)

    def _waitlist(self, app: uuid.UUID) -> None:
        before = self._status(app)
        self.run(self._call(enrolment.waitlist(self.db, self.staff, self.inst_id, app)))
        if before == "submitted" and self._status(app) == "waitlisted":
            self.queue[self._class(app)].append(app)

    @rule(n=st.integers(0, 20))
    def reject(self, n: int) -> None:
        app = self._pick(("submitted", "waitlisted"), n)
        if app is not None:
            self.run(self._call(enrolment.reject(self.db, self.staff, self.inst_id, app, "不符合")))
            self._left_queue(app)

    @rule(n=st.integers(0, 20))
    def accept(self, n: int) -> None:
        app = self._pick(("offered",), n)
        if app is not None:
            self.run(self._call(enrolment.accept(self.db, self.settings, self.parent_of[app], app)))

    @rule(n=st.integers(0, 20))
    def withdraw(self, n: int) -> None:
        app = self._pick(("submitted", "waitlisted", "offered", "accepted", "enrolled"), n)
        if app is not None:
            self.run(self._call(enrolment.withdraw(self.db, self.settings, self.parent_of[app], app, None)))
            self._left_queue(app)

    @rule(n=st.integers(0, 20))
    def enrol(self, n: int) -> None:
        app = self._pick(("accepted",), n)
        if app is not None:
            self.run(self._call(enrolment.enrol(self.db, self.staff, self.inst_id, app)))

    @rule(n=st.integers(0, 20))
    def end(self, n: int) -> None:
        app = self._pick(("enrolled",), n)
        if app is not None:
            self.run(self._call(enrolment.end(self.db, self.settings, self.staff, self.inst_id, app, None)))

    @rule(
        n=st.integers(0, 40),
        action=st.sampled_from(["offer", "waitlist", "reject", "accept", "withdraw", "enrol", "end"]),
    )
    def misuse(self, n: int, action: str) -> None:
        app = self._pick(
            ("submitted", "waitlisted", "offered", "accepted", "enrolled", "ended", "rejected", "withdrawn", "expired"),
            n,
        )
        if app is None:
            return
        parent = self.parent_of[app]
        calls = {
            "offer": lambda: self._offer(app),
            "waitlist": lambda: self._waitlist(app),
            "reject": lambda: self.run(self._call(enrolment.reject(self.db, self.staff, self.inst_id, app, "x"))),
            "accept": lambda: self.run(self._call(enrolment.accept(self.db, self.settings, parent, app))),
            "withdraw": lambda: self.run(self._call(enrolment.withdraw(self.db, self.settings, parent, app, None))),
            "enrol": lambda: self.run(self._call(enrolment.enrol(self.db, self.staff, self.inst_id, app))),
            "end": lambda: self.run(
                self._call(enrolment.end(self.db, self.settings, self.staff, self.inst_id, app, None))
            ),
        }
        calls[action]()
        self._left_queue(app)

    @rule(cls=st.integers(0, 1), capacity=st.integers(1, 4))
    def resize(self, cls: int, capacity: int) -> None:
        patch = ClassPatch(capacity=capacity, carers=1)
        self.run(
            self._call(
                institutions.update_class(self.db, self.settings, self.staff, self.inst_id, self.class_ids[cls], patch)
            )
        )

    @rule(child=st.integers(0, CHILDREN - 1), start=st.integers(9, 11), hours=st.integers(1, 3))
    def book(self, child: int, start: int, hours: int) -> None:
        child_id, parent = self.children[child]
        data = BookingIn(
            child_id=child_id,
            institution_id=self.inst_id,
            mode="hourly",
            day=TOMORROW,
            start=f"{start:02d}:00",
            end=f"{start + hours:02d}:00",
        )
        booked = self.run(self._call(bookings.book(self.db, self.settings, parent, data)))
        if booked is not None:
            self.parent_of[booked.id] = parent

    @rule(n=st.integers(0, 20))
    def cancel(self, n: int) -> None:
        ids = (
            self.run(
                self.db.execute(
                    select(Booking.id)
                    .where(Booking.institution_id == self.inst_id)
                    .order_by(Booking.created_at, Booking.id)
                )
            )
            .scalars()
            .all()
        )
        if ids:
            booking = ids[n % len(ids)]
            self.run(self._call(bookings.cancel(self.db, self.settings, self.parent_of[booking], booking, "有事")))

    # ------------------------------------------------------------------------------------------ model

    def _status(self, app: uuid.UUID) -> str | None:
        return self.run(self.db.scalar(select(Application.status).where(Application.id == app)))

    def _class(self, app: uuid.UUID) -> uuid.UUID:
        return self.run(self.db.scalar(select(Application.class_id).where(Application.id == app)))

    def _left_queue(self, app: uuid.UUID) -> None:
        for queue in self.queue.values():
            if app in queue and self._status(app) != "waitlisted":
                queue.remove(app)

    def _served(self, app: uuid.UUID) -> None:
        queue = self.queue[self._class(app)]
        assert queue and queue[0] == app, "a waitlisted application was served out of turn"
        queue.pop(0)

    # ------------------------------------------------------------------------------------------ invariants

    @invariant()
    def automatic_offers_follow_the_queue(self) -> None:
        if not hasattr(self, "inst_id"):
            return
        events = (
            self.run(self.db.execute(select(Event).where(Event.id > self.last_event).order_by(Event.id)))
            .scalars()
            .all()
        )
        for event in events:
            self.last_event = event.id
            if event.type == "application.offered" and event.payload.get("automatic"):
                self._served(uuid.UUID(event.payload["application_id"]))

    @invariant()
    def places_and_counters(self) -> None:
        if not hasattr(self, "inst_id"):
            return
        rows = self.run(
            self.db.execute(
                text("""
            SELECT c.id, c.capacity, c.offline_count, c.offered_count, c.enrolled_count,
                   count(a.id) FILTER (WHERE a.status IN ('offered', 'accepted')) AS offers,
                   count(a.id) FILTER (WHERE a.status = 'enrolled') AS enrolled,
                   count(a.id) FILTER (WHERE a.status = 'waitlisted') AS waiting
            FROM classes c LEFT JOIN applications a ON a.class_id = c.id
            WHERE c.institution_id = :i GROUP BY c.id""").bindparams(i=self.inst_id)
            )
        ).all()
        for r in rows:
            assert r.offered_count == r.offers and r.enrolled_count == r.enrolled
            taken = r.offline_count + r.offered_count + r.enrolled_count
            assert taken <= r.capacity
            assert r.waiting == 0 or taken >= r.capacity, "someone waits while a place is free"
        for cls_id, queue in self.queue.items():
            waiting = (
                self.run(
                    self.db.execute(
                        select(Application.id)
                        .where(Application.class_id == cls_id, Application.status == "waitlisted")
                        .order_by(Application.priority.desc(), Application.seq)
                    )
                )
                .scalars()
                .all()
            )
            assert list(waiting) == queue, "the waitlist order changed"

    @invariant()
    def one_place_per_child(self) -> None:
        if not hasattr(self, "inst_id"):
            return
        most = self.run(
            self.db.scalar(
                text(
                    "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM applications "
                    "WHERE status IN ('accepted', 'enrolled') GROUP BY child_id) t"
                )
            )
        )
        assert most <= 1

    @invariant()
    def slots_and_bookings(self) -> None:
        if not hasattr(self, "inst_id"):
            return
        slots = self.run(self.db.execute(select(Slot).where(Slot.institution_id == self.inst_id))).scalars().all()
        active = (
            self.run(
                self.db.execute(
                    select(Booking).where(Booking.institution_id == self.inst_id, Booking.status == "booked")
                )
            )
            .scalars()
            .all()
        )
        for slot in slots:
            covering = [b for b in active if b.start_min <= slot.start_min and slot.end_min <= b.end_min]
            assert slot.booked == len(covering) <= slot.capacity
        for a in active:
            for b in active:
                if a.id != b.id and a.child_id == b.child_id:
                    assert a.end_min <= b.start_min or b.end_min <= a.start_min, "a child is double-booked"


@pytest.fixture(autouse=True)
def _machine_database(database_url: str) -> None:
    EnrolmentMachine.database_url = database_url


TestEnrolmentMachine = EnrolmentMachine.TestCase
TestEnrolmentMachine.settings = settings(
    max_examples=50,
    stateful_step_count=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
