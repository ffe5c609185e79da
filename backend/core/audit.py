"""The audit log of officer actions: every change an officer or city admin makes is recorded.

How: the auth middleware marks a request's database session when the caller holds an officer or
city-admin grant and the method can change something (``mark``). When such a session commits a
transaction that wrote anything — ORM changes or ``INSERT``/``UPDATE``/``DELETE`` statements — one
``AuditEntry`` is added to that same transaction just before it commits (``before_commit``). So:

* a change and its audit entry commit together, or neither does (a refused request leaves no entry,
  because it changed nothing);
* no route handler or service can forget it: the rule applies to every route, present and future;
* the entry names the route's declared action (``core.authz``), the account and session, the
  officer's department/unit grants, the request path (ids only; paths never carry names), and which
  rows changed (table, primary key, operation) — never the changed values themselves.

Domains may add a short, name-free note to the entry of the current request with ``note()``, e.g. a
decision ("approved", "returned"). The table is append-only: a trigger refuses UPDATE and DELETE
(migration 0009), so even the application's own role cannot rewrite history.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, Identity, Index, String, event, inspect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from backend.core.authz import Principal, Role
from backend.core.db import Base, created_at

AUDITED_ROLES = (Role.OFFICER, Role.CITY_ADMIN)
MAX_CHANGES = 100  # rows listed per entry; the count is always exact
_KEY = "audit"


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_account_id", "account_id", "id"),
        Index("ix_audit_log_action", "action", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    at: Mapped[dt.datetime] = created_at()
    # No foreign keys: the log outlives the accounts and sessions it names.
    account_id: Mapped[uuid.UUID]
    session_id: Mapped[uuid.UUID]
    grants: Mapped[list[Any]]  # [{"role", "department", "unit"}] of the officer/admin grants held
    action: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(300))
    changes: Mapped[list[Any]]  # [{"table", "op", "id"?}] up to MAX_CHANGES
    change_count: Mapped[int]
    note: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")


@dataclass(slots=True)
class _Context:
    principal: Principal
    action: str
    method: str
    path: str
    changes: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0
    note: dict[str, Any] = field(default_factory=dict)

    def add(self, table: str, op: str, key: Any = None) -> None:
        self.count += 1
        if len(self.changes) < MAX_CHANGES:
            entry: dict[str, Any] = {"table": str(table), "op": op}
            if key is not None:
                entry["id"] = str(key)
            self.changes.append(entry)


def mark(db: AsyncSession, principal: Principal | None, *, action: str, method: str, path: str) -> None:
    """Audit this request's writes if the caller is an officer or city admin."""
    if principal is None or not principal.has_role(*AUDITED_ROLES):
        return
    db.sync_session.info[_KEY] = _Context(principal, action, method, path[:300])


def note(db: AsyncSession, **values: str | int | bool | None) -> None:
    """Add name-free facts (a decision, a new status) to the current request's audit entry, if any."""
    ctx = db.sync_session.info.get(_KEY)
    if ctx is not None:
        ctx.note.update(values)


def _pk(obj: Any) -> Any:
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    if any(v is None for v in key):
        return None
    return key[0] if len(key) == 1 else "/".join(str(v) for v in key)


@event.listens_for(Session, "after_flush")
def _record_flush(session: Session, _context: Any) -> None:
    ctx = session.info.get(_KEY)
    if ctx is None:
        return
    for op, objects in (("insert", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            if isinstance(obj, AuditEntry):
                continue
            if op == "update" and not session.is_modified(obj, include_collections=False):
                continue
            ctx.add(obj.__table__.name, op, _pk(obj))


@event.listens_for(Session, "do_orm_execute")
def _record_statement(state: ORMExecuteState) -> None:
    ctx = state.session.info.get(_KEY)
    if ctx is None or not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table is None or table.name == AuditEntry.__tablename__:
        return
    ctx.add(table.name, "insert" if state.is_insert else "update" if state.is_update else "delete")


@event.listens_for(Session, "before_commit")
def _write_entry(session: Session) -> None:
    ctx = session.info.get(_KEY)
    if ctx is None:
        return
    session.flush()  # surface pending ORM changes into ctx first
    if ctx.count == 0:
        return
    p = ctx.principal
    session.add(
        AuditEntry(
            account_id=p.account_id,
            session_id=p.session_id,
            grants=[
                {"role": g.role.value, "department": g.department_code, "unit": g.unit_code}
                for g in p.grants
                if g.role in AUDITED_ROLES
            ],
            action=ctx.action,
            method=ctx.method,
            path=ctx.path,
            changes=ctx.changes,
            change_count=ctx.count,
            note=dict(ctx.note),
        )
    )
    # The next transaction of this request (rare: a handler committing twice) starts a new entry.
    session.info[_KEY] = _Context(p, ctx.action, ctx.method, ctx.path)
