"""Dependencies every domain uses: settings and the caller's address."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.config import Settings

Db = NamedDependency[AsyncSession]
"""A handler's database session: the SQLAlchemy plugin's ``db`` dependency, one per request."""


def provide_settings(state: State) -> Settings:
    return state.settings  # type: ignore[no-any-return]


def client_address(request: Request[Any, Any, Any]) -> str:
    """The caller's IP (uvicorn resolves X-Forwarded-For only from TRUSTED_PROXIES)."""
    return request.client.host if request.client else "unknown"
