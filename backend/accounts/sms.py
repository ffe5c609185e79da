"""Sending SMS, behind one small interface: sign-in codes and urgent notices.

``SMS_BACKEND`` picks the sender: ``tencent`` (Tencent Cloud SMS) or ``aliyun`` (Alibaba Cloud SMS),
both through their official SDKs (``backend/notify/gateways.py``), or ``log`` for development, which
writes the message to the application log (number masked) — including the sign-in code, by design,
so a developer can sign in. ``APP_ENV=production`` refuses ``log``; the real gateways never log a
code, a full number or a message text.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from backend.notify.gateways import SmsOutcome, gateway, mask_phone, report

if TYPE_CHECKING:
    from backend.core.config import Settings

log = logging.getLogger("backend.sms")

__all__ = ["LogSmsSender", "SmsSender", "mask_phone", "sms_sender"]


class SmsSender(Protocol):
    provider: str

    async def send_sign_in_code(self, phone: str, code: str, ttl_seconds: int) -> None: ...

    async def send_notice(self, phone: str, title: str, link: str, ref: str = "") -> SmsOutcome: ...

    async def close(self) -> None: ...


class LogSmsSender:
    """Development sender: the message appears in the server log, e.g. ``SMS to 138****0001: 123456``."""

    provider = "log"

    async def send_sign_in_code(self, phone: str, code: str, ttl_seconds: int) -> None:
        log.warning(
            "SMS to %s: 【大庆托育】您的登录验证码是 %s，%d分钟内有效。 (sign-in code %s, valid %d min)",
            mask_phone(phone),
            code,
            ttl_seconds // 60,
            code,
            ttl_seconds // 60,
        )

    async def send_notice(self, phone: str, title: str, link: str, ref: str = "") -> SmsOutcome:
        outcome = SmsOutcome("sent", "ok", "log")
        log.warning("SMS to %s: 【大庆托育】%s，请打开 %s 查看。", mask_phone(phone), title, link)
        report(self.provider, "notice", phone, outcome)
        return outcome

    async def close(self) -> None:
        return None


def sms_sender(settings: Settings) -> SmsSender:
    if settings.notify.sms_backend == "log":
        return LogSmsSender()
    return gateway(settings.notify)
