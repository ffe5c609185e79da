"""``HEAD`` on every ``GET`` resource (RFC 9110 §9.3.2): caches, uptime probes and link checkers use it.

Litestar 2.x routes ``HEAD`` only to handlers declared for it, and a handler declared for ``HEAD``
may not return a body, so ``GET`` routes answered ``HEAD`` with 405. ``App`` serves a ``HEAD`` request
as the ``GET`` it stands for (same authorization, same status, same headers, ``Content-Length``
included) and sends no body. The OpenAPI document lists ``GET`` only: ``HEAD`` is implied by it.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.types import Message, Receive, Scope, Send


def _without_body(send: Send) -> Send:
    async def send_headers_only(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return send_headers_only


class App(Litestar):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "HEAD":
            scope = {**scope, "method": "GET"}  # type: ignore[typeddict-item]
            send = _without_body(send)
        await super().__call__(scope, receive, send)


__all__ = ["App"]
