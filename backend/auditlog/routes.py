"""``GET /api/audit``: the audit log of officer and city-admin changes, newest first."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter
from sqlalchemy import select

from backend.auditlog import permissions as P
from backend.auditlog.schemas import AuditChangeOut, AuditEntryOut, AuditGrantOut, AuditPage
from backend.core.audit import AuditEntry
from backend.core.authz import requires
from backend.core.clock import local_instant
from backend.core.deps import Db
from backend.core.domains import Domain
from backend.core.errors import RuleViolation, error_responses


class AuditController(Controller):
    path = "/api/audit"
    tags = ["oversight · 监管"]

    @get(
        "/",
        opt=requires(P.READ),
        responses=error_responses(400, 401, 403, 422),
        summary="Audit log of officer actions / 操作审计日志",
    )
    async def list_entries(
        self,
        db: Db,
        account_id: Annotated[uuid.UUID | None, QueryParameter(description="Only this account's actions")] = None,
        child_id: Annotated[
            uuid.UUID | None, QueryParameter(description="Only responses that carried this child's data")
        ] = None,
        action: Annotated[
            str | None,
            QueryParameter(
                max_length=64, pattern=r"^[a-z_.]+$", description="A declared action, or a prefix ending in '.'"
            ),
        ] = None,
        since: Annotated[dt.date | None, QueryParameter(description="From this day (Beijing time), inclusive")] = None,
        until: Annotated[dt.date | None, QueryParameter(description="Up to this day (Beijing time), inclusive")] = None,
        before: Annotated[int | None, QueryParameter(ge=1, description="Entries older than this id")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> AuditPage:
        """Every change made by an officer or city admin, written in the same transaction as the change:
        who (account, session, grants), which declared action and path, and which rows changed (never the
        values); and every response by which institution staff, officers or city admins read children's
        data (names, birth dates, ages), with the children's ids (never their names). The log is
        append-only: the database refuses UPDATE, DELETE and TRUNCATE on it."""
        if since is not None and until is not None and since > until:
            raise RuleViolation("since is after until", detail_zh="开始日期晚于结束日期", code="bad_range")
        stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
        if account_id is not None:
            stmt = stmt.where(AuditEntry.account_id == account_id)
        if child_id is not None:
            stmt = stmt.where(AuditEntry.child_ids.contains([child_id]))
        if action is not None:
            stmt = stmt.where(
                AuditEntry.action.startswith(action, autoescape=True)
                if action.endswith(".")
                else AuditEntry.action == action
            )
        if since is not None:
            stmt = stmt.where(AuditEntry.at >= local_instant(since, 0))
        if until is not None:
            stmt = stmt.where(AuditEntry.at < local_instant(until + dt.timedelta(days=1), 0))
        if before is not None:
            stmt = stmt.where(AuditEntry.id < before)
        rows = list((await db.execute(stmt)).scalars())
        more = len(rows) > limit
        rows = rows[:limit]
        return AuditPage(
            items=[
                AuditEntryOut(
                    id=e.id,
                    at=e.at,
                    account_id=e.account_id,
                    session_id=e.session_id,
                    grants=[AuditGrantOut(**g) for g in e.grants],
                    action=e.action,
                    method=e.method,
                    path=e.path,
                    changes=[AuditChangeOut(**c) for c in e.changes],
                    change_count=e.change_count,
                    note=e.note,
                    child_ids=e.child_ids,
                )
                for e in rows
            ],
            next_before=rows[-1].id if more and rows else None,
        )


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [AuditController],
)
