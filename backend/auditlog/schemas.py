"""The audit log as the API shows it."""

from __future__ import annotations

import datetime as dt
import uuid

from backend.core.schemas import Output


class AuditGrantOut(Output):
    role: str
    department: str | None
    unit: int | None
    institution: uuid.UUID | None = None  # staff and institution admins (entries of reads)


class AuditChangeOut(Output):
    table: str
    op: str
    id: str | None = None


class AuditEntryOut(Output):
    id: int
    at: dt.datetime
    account_id: uuid.UUID
    session_id: uuid.UUID
    grants: list[AuditGrantOut]
    action: str
    method: str
    path: str
    changes: list[AuditChangeOut]
    change_count: int
    note: dict[str, str | int | bool | None]  # name-free facts a domain added (e.g. a decision)
    child_ids: list[uuid.UUID]  # children whose data (name, birth date, age) the response carried


class AuditPage(Output):
    items: list[AuditEntryOut]
    next_before: int | None  # pass as ``before`` for the next (older) page; null on the last page
