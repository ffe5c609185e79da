"""The audit log: every change an officer or city admin makes, and every read of children's data by
institution staff, officers and city admins, is recorded.

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
decision ("approved", "returned"). The table is append-only: a trigger refuses UPDATE, DELETE and
TRUNCATE (migration 0009) and the table owner's own UPDATE/DELETE/TRUNCATE privileges are revoked
(migration 0015), so even the application's own role cannot rewrite history.

**Reads of children's data** (PIPL). ``ReadAuditMiddleware`` marks every request of a principal holding
an institution-staff, institution-admin, officer or city-admin grant (``watch_reads``). A service that
puts children's names, birth dates or ages into a response calls ``read_children(db, ids)``; the ids
(never names) go into the entry written at the next commit. GET requests do not commit by themselves,
so the middleware commits the request's transaction when a successful response that read children
starts, *before* anything is sent: if the entry cannot be written, the client gets a 503 instead of the
data. Parents reading their own children through the parent routes are not recorded (those routes do
not call ``read_children``, and a principal with only the parent role is never watched).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy import BigInteger, Identity, Index, String, event, inspect
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from backend.core.authz import Principal, Role
from backend.core.db import Base, created_at

log = logging.getLogger("backend.audit")

AUDITED_ROLES = (Role.OFFICER, Role.CITY_ADMIN)
# Whose reads of children's data are recorded (parents reading their own children are not).
READ_AUDITED_ROLES = (Role.INSTITUTION_STAFF, Role.INSTITUTION_ADMIN, Role.OFFICER, Role.CITY_ADMIN)
MAX_CHANGES = 100  # rows listed per entry; the count is always exact
_KEY = "audit"


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_account_id", "account_id", "id"),
        Index("ix_audit_log_action", "action", "id"),
        Index("ix_audit_log_child_ids", "child_ids", postgresql_using="gin"),
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
    # Children whose data (name, birth date, age) the response carried: ids only (migration 0015).
    child_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), server_default="{}")


@dataclass(slots=True)
class _Context:
    principal: Principal
    action: str
    method: str
    path: str
    audit_changes: bool = True  # record row changes (officers, city admins; forced for erasure)
    audit_reads: bool = False  # record children read (staff, officers, city admins)
    changes: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0
    note: dict[str, Any] = field(default_factory=dict)
    children: dict[uuid.UUID, None] = field(default_factory=dict)  # an ordered set

    def fresh(self) -> _Context:
        return _Context(self.principal, self.action, self.method, self.path, self.audit_changes, self.audit_reads)

    def add(self, table: str, op: str, key: Any = None) -> None:
        self.count += 1
        if len(self.changes) < MAX_CHANGES:
            entry: dict[str, Any] = {"table": str(table), "op": op}
            if key is not None:
                entry["id"] = str(key)
            self.changes.append(entry)


def mark(
    db: AsyncSession, principal: Principal | None, *, action: str, method: str, path: str, always: bool = False
) -> None:
    """Audit this request's writes if the caller is an officer or city admin (or ``always``)."""
    if principal is None or not (always or principal.has_role(*AUDITED_ROLES)):
        return
    ctx = db.sync_session.info.get(_KEY)
    if ctx is not None and ctx.principal == principal:
        ctx.audit_changes = True
        return
    db.sync_session.info[_KEY] = _Context(principal, action, method, path[:300])


def watch_reads(db: AsyncSession, principal: Principal | None, *, action: str, method: str, path: str) -> bool:
    """Record the children this request reads, if the caller is staff, an officer or a city admin."""
    if principal is None or not principal.has_role(*READ_AUDITED_ROLES):
        return False
    ctx = db.sync_session.info.get(_KEY)
    if ctx is not None and ctx.principal == principal:
        ctx.audit_reads = True
        return True
    db.sync_session.info[_KEY] = _Context(principal, action, method, path[:300], audit_changes=False, audit_reads=True)
    return True


def read_children(db: AsyncSession, child_ids: Iterable[uuid.UUID | None]) -> None:
    """The response being built carries these children's data: list them in the audit entry.

    A no-op unless the request is watched (a staff, officer or city-admin caller), so services call
    it unconditionally wherever they put children's names, birth dates or ages into a result that
    such a caller can receive."""
    ctx = db.sync_session.info.get(_KEY)
    if ctx is None or not ctx.audit_reads:
        return
    for child_id in child_ids:
        if child_id is not None:
            ctx.children[child_id] = None


def pending_reads(db: AsyncSession) -> bool:
    """Whether children were read since the last commit (their entry is not written yet)."""
    ctx = db.sync_session.info.get(_KEY)
    return ctx is not None and bool(ctx.children)


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
    if ctx is None or not ctx.audit_changes:
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
    if ctx is None or not ctx.audit_changes or not (state.is_insert or state.is_update or state.is_delete):
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
    if ctx.count == 0 and not ctx.children:
        return
    p = ctx.principal
    session.add(
        AuditEntry(
            account_id=p.account_id,
            session_id=p.session_id,
            grants=[_grant(g) for g in p.grants if g.role in READ_AUDITED_ROLES],
            action=ctx.action,
            method=ctx.method,
            path=ctx.path,
            changes=ctx.changes,
            change_count=ctx.count,
            note=dict(ctx.note),
            child_ids=list(ctx.children),
        )
    )
    # The next transaction of this request (a handler that commits, then reads) starts a new entry.
    session.info[_KEY] = ctx.fresh()


def _grant(g: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"role": g.role.value, "department": g.department_code, "unit": g.unit_code}
    if g.institution_id is not None:
        out["institution"] = str(g.institution_id)
    return out


_AUDIT_FAILED = msgspec.json.encode(
    {
        "status_code": 503,
        "code": "audit_unavailable",
        "detail": "The read could not be recorded in the audit log, so it was refused; try again",
        "detail_zh": "访问记录写入失败，已拒绝本次查询，请稍后重试",
        "extra": None,
    }
)


class ReadAuditMiddleware:
    """Commits the audit entry of a request that read children's data before its response starts.

    Installed after the auth middleware (it needs ``scope["user"]``). For a watched caller it marks the
    request's database session (``watch_reads``); when a response below 400 starts and children were
    read since the last commit, it commits the request's transaction (``before_commit`` writes the
    entry). If that fails, the original response is dropped and a 503 is sent instead: no child data
    leaves without its audit entry."""

    def __init__(self, app: Any, alchemy: Any) -> None:
        self.app = app
        self.alchemy = alchemy

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        principal = scope.get("user") if scope["type"] == "http" else None
        if principal is None or not principal.has_role(*READ_AUDITED_ROLES):
            await self.app(scope, receive, send)
            return
        db = self.alchemy.provide_session(scope["app"].state, scope)
        handler = scope.get("route_handler")
        watch_reads(
            db,
            principal,
            action=handler.opt.get("action", "?") if handler is not None else "?",
            method=scope.get("method", ""),
            path=scope.get("path", ""),
        )
        refused = False

        async def audited_send(message: Any) -> None:
            nonlocal refused
            if refused:
                return
            if message["type"] == "http.response.start" and message["status"] < 400 and pending_reads(db):
                try:
                    await db.commit()
                except Exception:
                    log.warning("refused a response: its audit entry could not be written", exc_info=True)
                    refused = True
                    try:
                        await db.rollback()
                    except Exception:  # pragma: no cover - the connection may be gone as well
                        log.debug("rollback after a failed audit commit failed", exc_info=True)
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 503,
                            "headers": [
                                (b"content-type", b"application/json"),
                                (b"content-length", str(len(_AUDIT_FAILED)).encode()),
                                (b"retry-after", b"5"),
                            ],
                        }
                    )
                    await send({"type": "http.response.body", "body": _AUDIT_FAILED, "more_body": False})
                    return
            await send(message)

        await self.app(scope, receive, audited_send)
