"""May an institution take bookings, applications and registrations from families right now?

One place for the oversight rules that close an institution to families (issue 9):

* filing (备案): an institution whose filing is not ``filed`` takes nothing unless the city setting
  ``UNFILED_CAN_TAKE_BOOKINGS`` allows it;
* the blacklist (黑名单): a blacklisted institution never takes anything (added by the blacklist domain).

Callers (applications, bookings, guidance registrations) call ``ensure_open_to_families`` inside the
transaction that would take the place, after loading the institution.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.blacklist.models import institution_blacklisted
from backend.core.config import Settings
from backend.core.errors import RuleViolation
from backend.institutions.rules import FilingStatus


class NotOpenToFamilies(RuleViolation):
    status_code = 409


async def ensure_open_to_families(
    db: AsyncSession,
    settings: Settings,
    institution_id: uuid.UUID,
    filing_status: str,
    blacklisted: bool | None = None,
) -> None:
    """Raise 409 unless the institution may take a family's booking, application or registration.

    ``blacklisted``: when the caller already read ``institution_blacklisted(...)`` with the institution
    (the booking path does, saving a round trip); otherwise one EXISTS through the partial unique index
    on entries in force."""
    if blacklisted is None:
        blacklisted = bool(await db.scalar(select(institution_blacklisted(institution_id))))
    if blacklisted:
        raise NotOpenToFamilies(
            "This institution is on the childcare blacklist and cannot take bookings, applications or registrations",
            detail_zh="该机构已被列入托育服务黑名单，不能接受预约、入托申请或活动报名",
            code="institution_blacklisted",
        )
    if filing_status != FilingStatus.FILED and not settings.unfiled_can_take_bookings:
        raise NotOpenToFamilies(
            "This institution has not completed its filing with the health commission and cannot take "
            "bookings or applications yet",
            detail_zh="该机构尚未完成卫生健康部门备案，暂不能接受预约或入托申请",
            code="institution_not_filed",
        )
