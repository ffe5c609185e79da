"""Periodic jobs of the notification pipeline (``core/maintenance.py`` runs them).

* ``offer_expiring``: an offer whose deadline is within OFFER_EXPIRING_NOTICE_H hours gets one
  ``application.offer_expiring`` event (critical: it may fall back to SMS), once per offer;
* ``sms_counters``: daily SMS counters and the rate bucket are kept for a week, then dropped.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.config import Settings
from backend.core.maintenance import periodic
from backend.core.outbox import emit
from backend.enrolment.service import guardians_of

_DUE = text(
    """
    SELECT a.id, a.child_id, a.institution_id, a.class_id, a.offer_expires_at
    FROM applications a
    WHERE a.status = 'offered' AND a.offer_expires_at > now()
      AND a.offer_expires_at <= now() + make_interval(hours => :hours)
      AND NOT EXISTS (
          SELECT 1 FROM events e
          WHERE e.subject_type = 'application' AND e.subject_id = a.id AND e.type = 'application.offer_expiring'
            AND e.payload->>'offer_expires_at' = to_char(a.offer_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
    ORDER BY a.offer_expires_at LIMIT 500
    """
)


@periodic("offer_expiring")
async def offer_expiring(db: AsyncSession, settings: Settings) -> int:
    rows = (await db.execute(_DUE, {"hours": settings.notify.offer_expiring_notice_h})).all()
    for row in rows:
        emit(
            db,
            "application.offer_expiring",
            subject_type="application",
            subject_id=row.id,
            accounts=await guardians_of(db, row.child_id),
            institution_id=row.institution_id,
            payload={
                "application_id": str(row.id),
                "institution_id": str(row.institution_id),
                "class_id": str(row.class_id),
                "status": "offered",
                "offer_expires_at": row.offer_expires_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        )
    await db.flush()
    return len(rows)


@periodic("sms_counters")
async def sms_counters(db: AsyncSession, settings: Settings) -> int:
    result = await db.execute(text("DELETE FROM sms_counters WHERE day < current_date - 7"))
    return int(result.rowcount or 0)
