"""What a domain gives the app: its route handlers, its OpenAPI tags and its background tasks.

Each domain's route module ends with ``DOMAIN = Domain(...)``; ``app.py`` assembles the app from its one
list of domains (``DOMAINS``). Periodic jobs register themselves with ``core/maintenance.periodic``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.openapi.spec import Tag
    from litestar.types import ControllerRouterHandler

    from backend.core.config import Settings


@dataclass(frozen=True, slots=True)
class Domain:
    handlers: Callable[[Settings], Sequence[ControllerRouterHandler]]
    """The domain's controllers, routers and handlers (some are built from the settings)."""
    tags: Sequence[Tag] = ()
    """Its OpenAPI tags, with their descriptions, in the order the document lists them."""
    lifespans: Sequence[Callable[[Litestar], AbstractAsyncContextManager[Any]]] = ()
    """Background tasks that run while the app does (workers, listeners)."""
