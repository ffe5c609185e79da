"""The outbox: one table of domain events, written in the same transaction as the change.

Bookings, enrolment, notices and complaints all call ``emit``. The rows are the history users see
(an application's timeline) and the source every delivery channel reads from (WebSocket, Web Push);
since they commit with the change, an event exists exactly when its change does.

An event names its audience: accounts (e.g. a child's guardians), an institution (its staff), and
departments (with a unit) for complaints. Payloads carry ids and states only — never a child's name.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Identity, Index, String, select
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import Base, created_at


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("urgency IN ('normal', 'high')", name="urgency"),
        Index("ix_events_subject", "subject_type", "subject_id", "id"),
        Index("ix_events_institution_id", "institution_id", "id"),
        Index("ix_events_account_ids", "account_ids", postgresql_using="gin"),
    )

    __mapper_args__ = {"eager_defaults": True}  # id and created_at come back from the INSERT

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    # The delivery order: assigned at COMMIT by a deferred trigger under an advisory lock, so positions
    # become visible in order and without gaps that could later fill in (see migration 0003).
    # Readers (WebSocket fan-out, resume, Web Push) follow ``position``; it is what clients see as an
    # event's id. NULL only inside the inserting transaction.
    position: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[dt.datetime] = created_at()
    type: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[uuid.UUID]
    account_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), server_default="{}")
    institution_id: Mapped[uuid.UUID | None]
    department_codes: Mapped[list[str]] = mapped_column(ARRAY(String(32)), server_default="{}")
    unit_code: Mapped[int | None]
    urgency: Mapped[str] = mapped_column(String(8), server_default="normal")
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")


def emit(
    db: AsyncSession,
    type_: str,
    *,
    subject_type: str,
    subject_id: uuid.UUID,
    accounts: Iterable[uuid.UUID] = (),
    institution_id: uuid.UUID | None = None,
    departments: Iterable[str] = (),
    unit_code: int | None = None,
    urgency: str = "normal",
    payload: dict[str, Any] | None = None,
) -> Event:
    """Record an event in the current transaction (it commits, or vanishes, with the change)."""
    event = Event(
        type=type_,
        subject_type=subject_type,
        subject_id=subject_id,
        account_ids=sorted(set(accounts)),
        institution_id=institution_id,
        department_codes=sorted(set(departments)),
        unit_code=unit_code,
        urgency=urgency,
        payload=payload or {},
    )
    db.add(event)
    return event


async def history(db: AsyncSession, subject_type: str, subject_id: uuid.UUID) -> list[Event]:
    """A subject's events, oldest first."""
    rows = await db.execute(
        select(Event).where(Event.subject_type == subject_type, Event.subject_id == subject_id).order_by(Event.id)
    )
    return list(rows.scalars())
