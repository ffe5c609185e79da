"""Authentication for every request: a bearer token or the session cookie becomes a ``Principal``.

* ``Authorization: Bearer <token>`` — apps and scripts. An invalid or expired token answers 401.
* ``dq_session`` cookie (HttpOnly) — the PWA. A stale cookie is treated as no cookie. Because a
  browser attaches cookies by itself, every unsafe request (POST/PUT/PATCH/DELETE) authenticated by
  the cookie must echo the session's CSRF token in ``X-CSRF-Token`` (signed double-submit: the token
  is an HMAC of the session id, also handed out in the readable ``dq_csrf`` cookie and the login reply).
  Bearer-authenticated and anonymous requests carry no ambient authority and need no CSRF token.
  On a public action (signing in, later filing a report) a cookie without the token is ignored and
  the request runs anonymously instead of failing.

The lookup uses the request's own database session (kept in the ASGI scope by the advanced-alchemy
plugin), so a request costs one connection, and no query at all when it carries no credentials. An
anonymous request costs one pass over its raw headers: no header or cookie objects are built for it.
"""

from __future__ import annotations

from typing import Any

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar.connection import ASGIConnection
from litestar.exceptions import WebSocketException
from litestar.types import ASGIApp, Receive, Scope, Send

from backend.accounts.sessions import (
    CSRF_HEADER,
    SESSION_COOKIE,
    redeem_ticket,
    resolve_session,
    resolve_session_id,
)
from backend.core import audit
from backend.core.authz import ACTIONS, Principal
from backend.core.config import Settings
from backend.core.errors import Forbidden, Unauthenticated
from backend.core.security import constant_time_equal, csrf_token

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class AuthMiddleware:
    def __init__(self, app: ASGIApp, alchemy: SQLAlchemyAsyncConfig, settings: Settings) -> None:
        self.app = app
        self.alchemy = alchemy
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope["user"] = await self._websocket_principal(scope)
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http" or scope["route_handler"].opt.get("own_credentials"):
            # /metrics reads its own bearer token (METRICS_TOKEN), which is no session: not resolved here.
            await self.app(scope, receive, send)
            return
        token, via_cookie = _credentials(scope)
        principal = None
        db = None
        if token:
            db = self.alchemy.provide_session(scope["app"].state, scope)
            principal = await resolve_session(db, token, via_cookie=via_cookie)
            if principal is None and not via_cookie:
                raise Unauthenticated(
                    "The sign-in token is invalid or has expired",
                    detail_zh="登录已失效，请重新登录",
                    code="invalid_token",
                )
            if principal is not None and via_cookie and scope.get("method", "GET") not in SAFE_METHODS:
                sent = ASGIConnection(scope).headers.get(CSRF_HEADER, "")
                expected = csrf_token(self.settings.secret_key, str(principal.session_id))
                if not sent or not constant_time_equal(sent, expected):
                    if _is_public(scope):
                        # A public action (signing in, filing a report) does not need the session's
                        # authority: without the CSRF token it simply runs anonymously.
                        principal = None
                    else:
                        raise Forbidden(
                            "Missing or wrong X-CSRF-Token header for a cookie-authenticated request",
                            detail_zh="安全校验失败，请刷新页面后重试",
                            code="csrf_failed",
                        )
        scope["user"] = principal
        if db is not None and principal is not None and scope.get("method", "GET") not in SAFE_METHODS:
            handler = scope.get("route_handler")
            audit.mark(
                db,
                principal,
                action=handler.opt.get("action", "?") if handler is not None else "?",
                method=scope.get("method", ""),
                path=scope.get("path", ""),
            )
        await self.app(scope, receive, send)

    async def _websocket_principal(self, scope: Scope) -> Principal | None:
        """WebSockets authenticate at the handshake: a single-use ``ticket`` query parameter (from
        ``POST /api/realtime/ticket``), a bearer token, or the session cookie. A socket lives long,
        so it gets a short session of its own rather than holding the request's."""
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        ticket = connection.query_params.get("ticket")
        token, via_cookie = _credentials(scope)
        if not ticket and not token:
            return None
        maker = scope["app"].state[self.alchemy.session_maker_app_state_key]
        async with maker() as db:
            if ticket:
                session_id = await redeem_ticket(db, ticket)
                await db.commit()
                principal = await resolve_session_id(db, session_id) if session_id else None
                if principal is None:
                    raise WebSocketException("The ticket is invalid, used or expired", code=4401)
                return principal
            principal = await resolve_session(db, token, via_cookie=via_cookie)  # type: ignore[arg-type]
            if principal is None and not via_cookie:
                raise WebSocketException("The sign-in token is invalid or has expired", code=4401)
            return principal


def _is_public(scope: Scope) -> bool:
    handler = scope.get("route_handler")
    name = handler.opt.get("action") if handler is not None else None
    return name is not None and ACTIONS[name].public


def _credentials(scope: Scope) -> tuple[str | None, bool]:
    """The bearer token or the session cookie, read from the raw headers (the first of each, as
    Litestar's ``headers.get`` and ``cookies`` read them)."""
    authorization = cookie_header = None
    for raw_name, value in scope.get("headers", ()):
        name = raw_name.lower()
        if name == b"authorization" and authorization is None:
            authorization = value.decode("latin-1")
        elif name == b"cookie" and cookie_header is None:
            cookie_header = value.decode("latin-1")
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip(), False
        raise Unauthenticated("Use 'Authorization: Bearer <token>'", detail_zh="身份凭证格式错误", code="invalid_token")
    # Only a request that carries cookies builds Litestar's cookie parser (public API).
    cookie = ASGIConnection(scope).cookies.get(SESSION_COOKIE) if cookie_header else None
    if cookie:
        return cookie, True
    return None, False
