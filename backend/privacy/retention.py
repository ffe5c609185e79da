"""Retention: periodic jobs (``core.maintenance``) that delete what the platform no longer needs.

* ``children_retention`` — a child older than ``CHILD_RETENTION_MONTHS`` (default 72: turned 6, well
  past the service age of 0-3) with no live application (submitted … enrolled) and no booking still
  to come is deleted, with its guardianships, consents, and application and booking rows. Birth dates
  are encrypted, so ages are computed here from the ORM's decrypted values, never in SQL. A child left
  without any guardian for a day is deleted too.
* ``erased_accounts`` — an erased account's tombstone (``accounts.erased_at``) is deleted
  ``ERASED_ACCOUNT_RETENTION_DAYS`` (default 30) after the erasure once no record still points at it
  (every foreign key to ``accounts`` that does not SET NULL is checked, so nothing of another family's
  is cascaded away and no RESTRICT key fails).
* ``outbox_events`` — outbox events (ids and states only) older than ``EVENT_RETENTION_DAYS`` (default
  730) are deleted, with any push delivery still queued for them.
* ``push_deliveries_expired`` — push deliveries older than ``PUSH_TTL_S``: a push service would drop
  them anyway.

Sessions and SMS codes (``accounts/sessions.py``), rate-limit counters (``core/ratelimit.py``),
idempotency keys and unattached uploads have their own jobs. Setting a retention to 0 turns it off.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, delete, exists, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.models import Account
from backend.bookings.models import Booking, BookingStatus
from backend.core.clock import local_today
from backend.core.config import Settings
from backend.core.db import Base
from backend.core.maintenance import periodic
from backend.core.outbox import Event
from backend.enrolment.models import ACTIVE, Application
from backend.families.models import Child, Guardianship
from backend.institutions.rules import age_in_months
from backend.realtime.models import PushDelivery

BATCH = 500  # children deleted per round at most (the next round takes the rest)


def _live() -> list:
    return [
        exists().where(Application.child_id == Child.id, Application.status.in_([str(s) for s in ACTIVE])),
        exists().where(
            Booking.child_id == Child.id, Booking.status == BookingStatus.BOOKED, Booking.ends_at > func.now()
        ),
    ]


@periodic("children_retention")
async def purge_children(db: AsyncSession, settings: Settings) -> int:
    months = settings.child_retention_months
    if months <= 0:
        return 0
    live_app, live_booking = _live()
    orphan = ~exists().where(Guardianship.child_id == Child.id)
    orphans = list(
        (
            await db.execute(
                select(Child.id)
                .where(orphan, Child.created_at < func.now() - dt.timedelta(days=1), ~live_app, ~live_booking)
                .limit(BATCH)
            )
        ).scalars()
    )
    # Ages need the decrypted birth date: read through the ORM, filter here.
    today = local_today()
    rows = await db.execute(select(Child.id, Child.birth_date).where(~live_app, ~live_booking))
    grown = [child_id for child_id, born in rows if age_in_months(born, today) >= months]
    doomed = list(dict.fromkeys(orphans + grown))[:BATCH]
    if not doomed:
        return 0
    await db.execute(delete(Child).where(Child.id.in_(doomed)))
    return len(doomed)


def _references_to_accounts() -> list:
    """``NOT EXISTS`` conditions for every foreign key to accounts.id that would cascade or refuse."""
    conds = []
    for tbl in Base.metadata.sorted_tables:
        for fk in tbl.foreign_keys:
            if fk.column.table.name != "accounts" or (fk.ondelete or "").upper() == "SET NULL":
                continue
            conds.append(not_(exists().where(fk.parent == Account.id)))
    return conds


@periodic("erased_accounts")
async def purge_erased_accounts(db: AsyncSession, settings: Settings) -> int:
    days = settings.erased_account_retention_days
    if days <= 0:
        return 0
    result = await db.execute(
        delete(Account).where(
            Account.erased_at.is_not(None),
            Account.erased_at < func.now() - dt.timedelta(days=days),
            and_(*_references_to_accounts()),
        )
    )
    return result.rowcount or 0


@periodic("outbox_events")
async def purge_events(db: AsyncSession, settings: Settings) -> int:
    days = settings.event_retention_days
    if days <= 0:
        return 0
    result = await db.execute(delete(Event).where(Event.created_at < func.now() - dt.timedelta(days=days)))
    return result.rowcount or 0


@periodic("push_deliveries_expired")
async def purge_push_deliveries(db: AsyncSession, settings: Settings) -> int:
    result = await db.execute(
        delete(PushDelivery).where(PushDelivery.created_at < func.now() - dt.timedelta(seconds=settings.push_ttl_s))
    )
    return result.rowcount or 0


__all__ = ["purge_children", "purge_erased_accounts", "purge_events", "purge_push_deliveries"]
