"""A local WeChat API server for the tests: the documented requests and answers of an official account.

It implements, at ``http://127.0.0.1:<port>``:

* ``GET /connect/oauth2/authorize`` (WeChat's authorize page, normally at open.weixin.qq.com): the
  person agrees (or, with ``decline_userinfo``, declines) and the browser is sent to ``redirect_uri``
  with ``code`` and ``state``; the redirect_uri's host must be the trusted domain (网页授权域名);
* ``GET /sns/oauth2/access_token``, ``GET /sns/userinfo``;
* ``GET /cgi-bin/token`` (each call invalidates the previous token), ``GET /cgi-bin/ticket/getticket``;
* ``POST /cgi-bin/message/subscribe/bizsend``.

Parameters are checked as WeChat checks them and errors answer with WeChat's ``errcode``/``errmsg``.
Tests steer it through the attributes (who the person is, what they subscribed to, failures to inject)
and read what it saw (``token_calls``, ``sent``).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

APP_ID = "wx0123456789abcdef"
APP_SECRET = "0123456789abcdef0123456789abcdef"


@dataclass
class Person:
    openid: str
    unionid: str | None = None
    nickname: str = "微信用户"


@dataclass
class WeChatState:
    app_id: str = APP_ID
    app_secret: str = APP_SECRET
    trusted_domain: str = ""  # host[:port] of redirect_uri ('' accepts any: set it in tests that check)
    person: Person = field(default_factory=lambda: Person("o" + secrets.token_hex(13)))
    decline_userinfo: bool = False
    templates: set[str] = field(default_factory=set)
    # openid -> template ids the person accepted (long-term subscription)
    subscriptions: dict[str, set[str]] = field(default_factory=dict)
    token_expires_in: int = 7200
    token_delay_s: float = 0.0  # latency of cgi-bin/token (so that concurrent callers overlap)
    fail_next_bizsend: list[int] = field(default_factory=list)  # errcodes to answer next
    # what it saw / holds
    token_calls: int = 0
    ticket_calls: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    codes: dict[str, tuple[Person, str, bool]] = field(default_factory=dict)  # code -> (person, scope, used)
    sns_tokens: dict[str, tuple[str, str]] = field(default_factory=dict)  # token -> (openid, scope)
    access_token: str | None = None
    access_token_expires: float = 0.0
    old_tokens: set[str] = field(default_factory=set)
    ticket: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def expire_access_token(self) -> None:
        """As if 7,200 s had passed: WeChat answers 42001 to the current token."""
        with self.lock:
            self.access_token_expires = 0.0

    def token_status(self, token: str | None) -> int:
        if not token or token in self.old_tokens or token != self.access_token:
            return 40001
        if time.time() >= self.access_token_expires:
            return 42001
        return 0


_ERRMSG = {
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40029: "invalid code",
    40037: "invalid template_id",
    40125: "invalid appsecret",
    40163: "code been used",
    41001: "access_token missing",
    42001: "access_token expired",
    43101: "user refuse to accept the msg",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
    47001: "data format error",
    47003: "argument invalid! data.thing1.value invalid",
    48001: "api unauthorized",
}


def _error(code: int) -> dict[str, Any]:
    return {"errcode": code, "errmsg": _ERRMSG.get(code, "error") + f" rid: {secrets.token_hex(6)}"}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _json(self, body: dict[str, Any]) -> None:
        raw = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(200)  # WeChat answers errors with HTTP 200 too
        self.send_header("Content-Type", "application/json; encoding=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        st = self.server.state
        route = {
            "/connect/oauth2/authorize": self._authorize,
            "/sns/oauth2/access_token": self._sns_token,
            "/sns/userinfo": self._userinfo,
            "/cgi-bin/token": self._token,
            "/cgi-bin/ticket/getticket": self._ticket,
        }.get(parts.path)
        if route is None:
            self.send_error(404)
            return
        route(st, q)

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if parts.path != "/cgi-bin/message/subscribe/bizsend":
            self.send_error(404)
            return
        self._bizsend(self.server.state, q, body)

    # --- web authorisation -------------------------------------------------------------------------

    def _authorize(self, st: WeChatState, q: dict[str, str]) -> None:
        redirect = q.get("redirect_uri", "")
        ok = (
            q.get("appid") == st.app_id
            and q.get("response_type") == "code"
            and q.get("scope") in ("snsapi_base", "snsapi_userinfo")
            and redirect.startswith(("http://", "https://"))
            and (not st.trusted_domain or urlsplit(redirect).netloc == st.trusted_domain)
        )
        if not ok:  # WeChat shows an error page ("redirect_uri 参数错误" and the like)
            self.send_response(400)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.end_headers()
            self.wfile.write("参数错误".encode())
            return
        params = {"state": q.get("state", "")}
        if not (q["scope"] == "snsapi_userinfo" and st.decline_userinfo):
            code = secrets.token_hex(16)
            with st.lock:
                st.codes[code] = (st.person, q["scope"], False)
            params = {"code": code, **params}
        self.send_response(302)
        self.send_header("Location", redirect + ("&" if "?" in redirect else "?") + urlencode(params))
        self.end_headers()

    def _sns_token(self, st: WeChatState, q: dict[str, str]) -> None:
        if q.get("appid") != st.app_id:
            return self._json(_error(40013))
        if q.get("secret") != st.app_secret:
            return self._json(_error(40125))
        if q.get("grant_type") != "authorization_code":
            return self._json(_error(40002))
        with st.lock:
            entry = st.codes.get(q.get("code", ""))
            if entry is None:
                return self._json(_error(40029))
            person, scope, used = entry
            if used:
                return self._json(_error(40163))
            st.codes[q["code"]] = (person, scope, True)
            token = secrets.token_hex(20)
            st.sns_tokens[token] = (person.openid, scope)
        body: dict[str, Any] = {
            "access_token": token,
            "expires_in": 7200,
            "refresh_token": secrets.token_hex(20),
            "openid": person.openid,
            "scope": scope,
        }
        if person.unionid:
            body["unionid"] = person.unionid
        self._json(body)

    def _userinfo(self, st: WeChatState, q: dict[str, str]) -> None:
        entry = st.sns_tokens.get(q.get("access_token", ""))
        if entry is None:
            return self._json(_error(40001))
        openid, scope = entry
        if q.get("openid") != openid:
            return self._json(_error(40003))
        if scope != "snsapi_userinfo":
            return self._json(_error(48001))
        p = st.person
        body: dict[str, Any] = {
            "openid": openid,
            "nickname": p.nickname,
            "sex": 0,
            "province": "",
            "city": "",
            "country": "",
            "headimgurl": "",
            "privilege": [],
        }
        if p.unionid:
            body["unionid"] = p.unionid
        self._json(body)

    # --- the account's credentials -----------------------------------------------------------------

    def _token(self, st: WeChatState, q: dict[str, str]) -> None:
        if q.get("grant_type") != "client_credential":
            return self._json(_error(40002))
        if q.get("appid") != st.app_id:
            return self._json(_error(40013))
        if q.get("secret") != st.app_secret:
            return self._json(_error(40001))
        with st.lock:
            st.token_calls += 1
        if st.token_delay_s:
            time.sleep(st.token_delay_s)  # the server's latency, not a synchronisation
        with st.lock:
            if st.access_token:
                st.old_tokens.add(st.access_token)  # a new token invalidates the previous one
            st.access_token = secrets.token_urlsafe(48)
            st.access_token_expires = time.time() + st.token_expires_in
            token = st.access_token
        self._json({"access_token": token, "expires_in": st.token_expires_in})

    def _ticket(self, st: WeChatState, q: dict[str, str]) -> None:
        status = st.token_status(q.get("access_token"))
        if status:
            return self._json(_error(status))
        if q.get("type") != "jsapi":
            return self._json(_error(40002))
        with st.lock:
            st.ticket_calls += 1
            st.ticket = secrets.token_urlsafe(64)
        self._json({"errcode": 0, "errmsg": "ok", "ticket": st.ticket, "expires_in": 7200})

    # --- subscription messages ---------------------------------------------------------------------

    def _bizsend(self, st: WeChatState, q: dict[str, str], raw: bytes) -> None:
        if "access_token" not in q:
            return self._json(_error(41001))
        status = st.token_status(q.get("access_token"))
        if status:
            return self._json(_error(status))
        try:
            body = json.loads(raw)
        except ValueError:
            return self._json(_error(47001))
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            return self._json(_error(47001))
        with st.lock:
            if st.fail_next_bizsend:
                return self._json(_error(st.fail_next_bizsend.pop(0)))
        known = {st.person.openid, *st.subscriptions}
        if body.get("touser") not in known:
            return self._json(_error(40003))
        if body.get("template_id") not in st.templates:
            return self._json(_error(40037))
        for value in body["data"].values():
            if not isinstance(value, dict) or not isinstance(value.get("value"), str) or len(value["value"]) > 40:
                return self._json(_error(47003))
        if body["template_id"] not in st.subscriptions.get(body["touser"], set()):
            return self._json(_error(43101))
        with st.lock:
            st.sent.append(body)
        self._json({"errcode": 0, "errmsg": "ok"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: WeChatState


@contextmanager
def wechat_server(**state: Any) -> Iterator[tuple[str, WeChatState]]:
    """Serve on a free port in a thread; yields the base URL and the state to steer and inspect."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = WeChatState(**state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.state
    finally:
        server.shutdown()
        server.server_close()
