"""Dependencies every domain uses: the session, the caller, settings, the caller's address, the
Idempotency-Key header."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import HeaderParameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core import idempotency
from backend.core.authz import Principal
from backend.core.config import Settings

Db = NamedDependency[AsyncSession]
"""A handler's database session: the SQLAlchemy plugin's ``db`` dependency, one per request."""

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name=idempotency.HEADER,
        pattern=idempotency.KEY_PATTERN,
        description="Retry-safe creation: the same key and body replay the first response for 24 hours",
    ),
]
"""The ``Idempotency-Key`` header of a route that honours it (core/idempotency.py)."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling a handler: the principal the auth middleware resolved (the route's action guard has
    admitted it), and what handlers read from it."""

    principal: Principal

    @property
    def account_id(self) -> uuid.UUID:
        return self.principal.account_id


def provide_caller(request: Request[Principal, Any, Any]) -> Caller:
    return Caller(request.user)


CallerDep = NamedDependency[Caller]
"""A handler's caller (the ``caller`` dependency): ``caller: CallerDep``, then ``caller.principal``."""


def provide_settings(state: State) -> Settings:
    return state.settings  # type: ignore[no-any-return]


def client_address(request: Request[Any, Any, Any]) -> str:
    """The caller's IP (uvicorn resolves X-Forwarded-For only from TRUSTED_PROXIES)."""
    return request.client.host if request.client else "unknown"
