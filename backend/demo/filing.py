"""Demo filings (备案): a decided record for every filed demo institution, a recent submission for the
other 'submitted' ones, and two submissions in 肇州县 (230621) waiting for the demo health officers
(zhaozhou.health@ and the city-wide health.officer@) — one of them past the 15-working-day limit —
each with tiny generated PDFs (marked 演示 Demo) as documents. 230602-0 (the demo staff's centre)
stays filed, and its filing says it serves meals (its demo notices consult parents on the menu, a demo
complaint is about its lunch); the others' say they do not.

Idempotent: fixed ids, inserted only when missing. The institution's status follows its filing
record (so a demo filing approved or returned in the running app is not undone by seeding again).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.clock import utcnow
from backend.core.config import Settings
from backend.core.storage import storage_from_settings
from backend.core.workdays import add_working_days
from backend.demo.data import build_institutions, demo_id
from backend.files.models import Upload
from backend.files.pdf import tiny_pdf
from backend.filing.models import ALWAYS_REQUIRED, Filing, FilingHistory, subject_type
from backend.institutions.models import Institution

WAITING_UNIT = 230621
KEEP_FILED = "230602-0"


def _waiting(institutions: list[Any]) -> list[Any]:
    """Two 肇州县 institutions (not the first, which the demo keeps filed), preferring ones not filed."""
    candidates = [(n, i) for n, i in enumerate(x for x in institutions if x.unit_code == WAITING_UNIT) if n > 0]
    candidates.sort(key=lambda pair: (pair[1].filing_status == "filed", pair[0]))
    return [i for _, i in candidates[:2]]


async def _documents(db: AsyncSession, settings: Settings, filing_id: Any, key: str) -> int:
    storage = storage_from_settings(settings)
    stored = 0
    for kind in ("business_licence", *ALWAYS_REQUIRED):
        upload_id = demo_id("filing-document", f"{key}:{kind}")
        if await db.scalar(select(Upload.id).where(Upload.id == upload_id)) is not None:
            continue
        data = tiny_pdf(f"Demo {kind} (fictional)")
        storage_key = f"filing_document/de/{upload_id.hex}"
        await storage.put(storage_key, data, "application/pdf")
        db.add(
            Upload(
                id=upload_id,
                owner_id=None,
                purpose="filing_document",
                storage_key=storage_key,
                content_type="application/pdf",
                byte_size=len(data),
                width=None,
                height=None,
                sha256=hashlib.sha256(data).digest(),
                subject_type=subject_type(kind),
                subject_id=filing_id,
                position=0,
            )
        )
        stored += 1
    await db.flush()
    return stored


async def seed_filings(
    db: AsyncSession, settings: Settings, units: dict[int, tuple[str, float, float]]
) -> dict[str, int]:
    institutions = build_institutions(units)
    keys = {}
    per_unit: dict[int, int] = {}
    for inst in institutions:
        keys[inst.id] = f"{inst.unit_code}-{per_unit.setdefault(inst.unit_code, 0)}"
        per_unit[inst.unit_code] += 1
    waiting = {i.id: n for n, i in enumerate(_waiting(institutions))}
    now = utcnow().replace(microsecond=0)
    city, county = demo_id("account", "health_officer"), demo_id("account", "zhaozhou_health")
    created = documents = 0
    for inst in institutions:
        key = keys[inst.id]
        status = "submitted" if inst.id in waiting else inst.filing_status
        if key == KEEP_FILED:
            status = "filed"
        if status not in ("filed", "submitted"):
            continue
        filing_id = demo_id("filing", key)
        if inst.id in waiting:  # one overdue (25 days ago), one recent
            submitted_at = now - dt.timedelta(days=25 if waiting[inst.id] == 0 else 2)
        elif status == "submitted":
            submitted_at = now - dt.timedelta(days=5)
        else:
            submitted_at = now - dt.timedelta(days=60 + int(filing_id.hex[:2], 16) % 200)
        decided_at = submitted_at + dt.timedelta(days=7) if status == "filed" else None
        officer = county if inst.unit_code == WAITING_UNIT else city
        result = await db.execute(
            insert(Filing)
            .values(
                id=filing_id,
                institution_id=inst.id,
                status=status,
                # the demo centre serves meals: its parents are consulted on the menu, a complaint is about lunch
                serves_meals=key == KEEP_FILED,
                submission=1,
                submitted_at=submitted_at,
                due_at=add_working_days(submitted_at, settings.filing_review_working_days).at,
                decided_at=decided_at,
                decided_by=officer if decided_at else None,
            )
            .on_conflict_do_nothing()
            .returning(Filing.id)
        )
        if result.scalar_one_or_none() is None:
            continue  # already there (maybe decided since): keep it
        created += 1
        db.add(FilingHistory(filing_id=filing_id, action="submitted", submission=1, at=submitted_at))
        if decided_at:
            db.add(FilingHistory(filing_id=filing_id, action="approved", submission=1, actor_id=officer, at=decided_at))
        if inst.id in waiting:
            documents += await _documents(db, settings, filing_id, key)
    await db.flush()
    # The institutions follow their filing records (the trigger clears filed_at for non-filed ones).
    records = (
        await db.execute(
            select(Filing.institution_id, Filing.status, Filing.decided_at).where(
                Filing.id.in_([demo_id("filing", k) for k in keys.values()])
            )
        )
    ).all()
    for institution_id, status, decided_at in records:
        await db.execute(
            update(Institution)
            .where(Institution.id == institution_id)
            .values(filing_status=status, filed_at=decided_at if status == "filed" else None)
        )
    await db.flush()
    return {"filings": created, "filing_documents": documents}
