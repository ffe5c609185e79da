"""Every route declares its action (one rule per action); every declared action is reachable."""

from litestar.routes import HTTPRoute

from backend.core.authz import ACTIONS


def _handlers(app):
    for route in app.routes:
        handlers = getattr(route, "route_handlers", None) or [getattr(route, "route_handler", None)]
        for handler in filter(None, handlers):
            if getattr(handler, "http_methods", None) == {"OPTIONS"}:
                continue  # Litestar's automatic OPTIONS handler: describes the route, performs nothing
            yield route, handler


def test_every_route_declares_a_known_action(app):
    missing = [
        f"{sorted(getattr(h, 'http_methods', ['WS']))} {route.path}"
        for route, h in _handlers(app)
        if h.opt.get("action") not in ACTIONS
    ]
    assert missing == []


def test_every_declared_action_is_used_by_a_route(app):
    used = {h.opt.get("action") for _, h in _handlers(app)}
    unused = sorted(set(ACTIONS) - used)
    assert unused == []


def test_write_routes_are_never_public_except_sign_in(app):
    public_writes = sorted(
        f"{m} {route.path}"
        for route, h in _handlers(app)
        if isinstance(route, HTTPRoute)
        for m in h.http_methods
        if m in {"POST", "PUT", "PATCH", "DELETE"} and ACTIONS[h.opt["action"]].public
    )
    # Besides sign-in: anyone may file a complaint (anonymous reporting) and follow one by its code
    # (sent in the body), or add photos to it with that code (when storage was down at filing), and
    # Open311 filing is open to the route guard but needs a registered client's api_key, checked by
    # the handler before anything is written. Binding WeChat is sign-in too: it needs the pending
    # binding's cookie from WeChat's authorisation and an SMS code.
    # A service worker acknowledges a shown notification with the keyed token its (end-to-end encrypted)
    # push payload carried: no session, nothing written without it.
    assert public_writes == [
        "POST /api/auth/code",
        "POST /api/auth/code/verify",
        "POST /api/auth/login",
        "POST /api/complaints",
        "POST /api/complaints/track",
        "POST /api/complaints/track/photos",
        "POST /api/notify/ack",
        "POST /api/wechat/bind",
        "POST /open311/v2/requests.json",
    ]
