"""Authorization: every action has exactly one declared rule.

A rule has two halves:

* ``roles`` — who may attempt the action at all. ``None`` means anyone, signed in or not. The route
  guard checks this before the handler runs: anonymous callers get 401, callers without one of the
  roles get 403.
* ``scope`` — for actions on objects, a SQL condition that selects the objects this principal may act
  on. Services load objects *through* it (``WHERE id = :id AND <scope>``) and list queries filter by
  it, so a row outside the principal's scope is never read. An object that exists but is out of
  scope answers 404, exactly like one that does not exist.

Routes name their action with ``opt=requires(ACTION)``; a test walks Litestar's route table and
fails on any route without one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy import ColumnElement

from backend.core.errors import Forbidden, NotFound, Unauthenticated


class Role(StrEnum):
    PARENT = "parent"
    INSTITUTION_STAFF = "institution_staff"
    INSTITUTION_ADMIN = "institution_admin"
    OFFICER = "officer"
    CITY_ADMIN = "city_admin"


SIGNED_IN = frozenset(Role)
"""The roles of an action any signed-in account may attempt."""


ROLE_LABELS_ZH = {
    Role.PARENT: "家长",
    Role.INSTITUTION_STAFF: "托育机构工作人员",
    Role.INSTITUTION_ADMIN: "托育机构管理员",
    Role.OFFICER: "部门工作人员",
    Role.CITY_ADMIN: "市级管理员",
}


@dataclass(frozen=True, slots=True)
class Grant:
    role: Role
    institution_id: uuid.UUID | None = None
    department_code: str | None = None
    unit_code: int | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an account, the session it signed in with, and its role grants."""

    account_id: uuid.UUID
    session_id: uuid.UUID
    grants: tuple[Grant, ...]
    via_cookie: bool = False
    session_expires_at: Any = None

    def has_role(self, *roles: Role) -> bool:
        return any(g.role in roles for g in self.grants)

    @property
    def is_city_admin(self) -> bool:
        return self.has_role(Role.CITY_ADMIN)

    def institutions(self, *roles: Role) -> frozenset[uuid.UUID]:
        """Institutions this principal holds one of ``roles`` in (all institution roles by default)."""
        wanted = roles or (Role.INSTITUTION_STAFF, Role.INSTITUTION_ADMIN)
        return frozenset(g.institution_id for g in self.grants if g.role in wanted and g.institution_id)

    def officer_scopes(self) -> tuple[tuple[str, int | None], ...]:
        return tuple(
            (g.department_code, g.unit_code) for g in self.grants if g.role is Role.OFFICER and g.department_code
        )

    def officer_units(self, department: str) -> list[int | None]:
        """The units this principal is an officer of ``department`` in (None: city-wide)."""
        return [unit for dept, unit in self.officer_scopes() if dept == department]


Scope = Callable[[Principal], ColumnElement[bool]]


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    description: str
    roles: frozenset[Role] | None
    scope: Scope | None = field(default=None, compare=False)

    @property
    def public(self) -> bool:
        return self.roles is None

    def check_caller(self, principal: Principal | None) -> None:
        """Role-level check (the route guard). Raises 401/403."""
        if self.roles is None:
            return
        if principal is None:
            raise Unauthenticated()
        if not any(g.role in self.roles for g in principal.grants):
            raise Forbidden(
                f"Your account may not {self.description}",
                detail_zh="您的账号无权执行此操作",
                code="forbidden",
            )

    def where(self, principal: Principal) -> ColumnElement[bool]:
        """The SQL condition selecting objects ``principal`` may act on."""
        if self.scope is None:
            raise RuntimeError(f"action {self.name} has no object scope")
        return self.scope(principal)


ACTIONS: dict[str, Action] = {}


def action(name: str, description: str, *, roles: Iterable[Role] | None, scope: Scope | None = None) -> Action:
    """Declare an action and its rule. Each name may be declared once."""
    if name in ACTIONS:
        raise RuntimeError(f"action {name} declared twice")
    act = Action(name, description, None if roles is None else frozenset(roles), scope)
    ACTIONS[name] = act
    return act


def requires(act: Action) -> dict[str, Any]:
    """Route ``opt`` naming the route's action."""
    return {"action": act.name}


async def action_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """App-wide guard: applies the role half of the route's declared action."""
    name = handler.opt.get("action")
    if name is None and connection.scope.get("method") == "OPTIONS":
        return  # Litestar's automatic OPTIONS answers describe a route; they perform no action
    if name is None:
        raise RuntimeError(f"route {handler} declares no action")  # caught by the route-table test
    ACTIONS[name].check_caller(connection.scope.get("user"))


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    return connection.scope.get("user")


def require_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = connection.scope.get("user")
    if principal is None:
        raise Unauthenticated()
    return principal


def not_found_unless(found: Any, what: str) -> Any:
    if found is None:
        raise NotFound(what)
    return found
