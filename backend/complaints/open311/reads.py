"""Reading complaints as public Open311 service requests (no personal data)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.complaints import service
from backend.complaints.models import OPEN, Complaint, ComplaintUpdate
from backend.complaints.open311.fields import display_names, public_position, service_name_of, time_limits, w3c
from backend.complaints.open311.wire import HIDDEN_CATEGORIES, MAX_RESULTS, Open311Request
from backend.core.config import Settings


def _row_out(
    c: Complaint, note: str | None, departments: dict[str, str], units: dict[int, str], notice: str
) -> Open311Request:
    return Open311Request(
        service_request_id=service.reference(c.number),
        status="open" if c.status in OPEN else "closed",
        status_notes=note,
        service_name=service_name_of(c.category),
        service_code=c.category,
        description=None,  # never published
        agency_responsible="、".join(
            departments.get(code, code) for code in sorted(c.department_codes, key=lambda d: d.startswith("gov_"))
        ),
        service_notice=notice,
        requested_datetime=w3c(c.created_at),
        updated_datetime=w3c(c.updated_at),
        expected_datetime=w3c(c.resolve_due_at) if c.status in OPEN else None,
        address=f"黑龙江省大庆市{units[c.unit_code]}" if c.unit_code in units else None,
        address_id=None,
        zipcode=None,
        lat=public_position(c.lat),
        long=public_position(c.lng),
        media_url=None,  # photos and links are never published
    )


async def public_requests(db: AsyncSession, settings: Settings, *conditions: Any) -> list[Open311Request]:
    latest_note = (
        select(ComplaintUpdate.public_note)
        .where(ComplaintUpdate.complaint_id == Complaint.id, ComplaintUpdate.public_note.is_not(None))
        .order_by(ComplaintUpdate.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = (
        await db.execute(
            select(Complaint, latest_note)
            .where(Complaint.category.not_in(HIDDEN_CATEGORIES), *conditions)
            .order_by(Complaint.created_at.desc(), Complaint.number.desc())
            .limit(MAX_RESULTS)
        )
    ).all()
    departments, units = await display_names(db)
    notice = time_limits(settings)
    return [_row_out(c, note, departments, units, notice) for c, note in rows]


def request_numbers(ids: str) -> list[int]:
    return sorted({int(part.strip()[3:]) for part in ids.split(",")})
