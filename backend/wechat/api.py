"""WeChat's HTTP API, as documented for official accounts (公众号/服务号), at ``WECHAT_API_BASE``.

Every answer is JSON; a failure carries ``errcode`` (non-zero) and ``errmsg``. Secrets, tokens and
openids are never logged (openids only masked, see ``mask_openid``).
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

from backend.core.config import WeChatSettings

log = logging.getLogger("backend.wechat")

# access_token invalid (40001, 40014) or expired (42001): refresh once and retry.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
# The person refused, or never accepted, this template (43101); the openid is not of this account (40003).
REFUSED_ERRORS = frozenset({43101, 40003})
# API call quotas: 45009 daily quota reached, 45011 per-minute quota ("must slower, retry next minute").
RATE_LIMIT_ERRORS = frozenset({45009, 45011, 45047})


def mask_openid(openid: str) -> str:
    """What logs may show of an openid: its first four characters."""
    return (openid[:4] + "…") if openid else ""


class WeChatError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatUnavailable(Exception):
    """WeChat could not be reached, or answered something that is not its documented JSON."""


class WeChatApi:
    """A thin client over one aiohttp session; ``async with WeChatApi(settings) as api``."""

    def __init__(self, settings: WeChatSettings) -> None:
        self.settings = settings
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> WeChatApi:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.settings.timeout_s))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.close()

    async def _call(self, method: str, path: str, params: dict[str, str], body: Any = None) -> dict[str, Any]:
        assert self._http is not None, "use WeChatApi as an async context manager"
        url = self.settings.api_base + path
        try:
            async with self._http.request(method, url, params=params, json=body) as resp:
                if resp.status != 200:
                    raise WeChatUnavailable(f"{path}: HTTP {resp.status}")
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise WeChatUnavailable(f"{path}: {type(exc).__name__}") from exc
        if not isinstance(data, dict):
            raise WeChatUnavailable(f"{path}: not a JSON object")
        errcode = data.get("errcode", 0)
        if errcode:
            log.info("WeChat %s answered errcode %s", path, errcode)
            raise WeChatError(int(errcode), str(data.get("errmsg", "")))
        return data

    # --- the account's own credentials -------------------------------------------------------------

    async def client_credential_token(self) -> tuple[str, int]:
        """``GET /cgi-bin/token``: a new access_token (the previous one stops working)."""
        s = self.settings
        data = await self._call(
            "GET", "/cgi-bin/token", {"grant_type": "client_credential", "appid": s.app_id, "secret": s.app_secret}
        )
        return _str(data, "access_token"), int(data.get("expires_in", 7200))

    async def jsapi_ticket(self, access_token: str) -> tuple[str, int]:
        """``GET /cgi-bin/ticket/getticket?type=jsapi``."""
        data = await self._call("GET", "/cgi-bin/ticket/getticket", {"access_token": access_token, "type": "jsapi"})
        return _str(data, "ticket"), int(data.get("expires_in", 7200))

    # --- web authorisation (网页授权) ----------------------------------------------------------------

    async def oauth_exchange(self, code: str) -> dict[str, Any]:
        """``GET /sns/oauth2/access_token``: the code from the redirect → openid (and unionid), scope."""
        s = self.settings
        data = await self._call(
            "GET",
            "/sns/oauth2/access_token",
            {"appid": s.app_id, "secret": s.app_secret, "code": code, "grant_type": "authorization_code"},
        )
        _str(data, "openid")
        _str(data, "access_token")
        return data

    async def userinfo(self, sns_access_token: str, openid: str) -> dict[str, Any]:
        """``GET /sns/userinfo`` (scope snsapi_userinfo only)."""
        return await self._call(
            "GET", "/sns/userinfo", {"access_token": sns_access_token, "openid": openid, "lang": "zh_CN"}
        )

    # --- subscription messages ---------------------------------------------------------------------

    async def bizsend(self, access_token: str, body: dict[str, Any]) -> None:
        """``POST /cgi-bin/message/subscribe/bizsend``: one subscription message of a 服务号."""
        await self._call("POST", "/cgi-bin/message/subscribe/bizsend", {"access_token": access_token}, body)


def _str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise WeChatUnavailable(f"answer without {key}")
    return value
