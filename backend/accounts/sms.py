"""Sending sign-in codes by SMS, behind one small interface.

Only the development sender exists so far: it writes the code to the application log (phone number
masked). A production gateway (e.g. Aliyun or Tencent Cloud SMS) implements the same protocol;
``APP_ENV=production`` refuses to start until one is chosen explicitly (see config).
"""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger("backend.sms")


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:]


class SmsSender(Protocol):
    async def send_sign_in_code(self, phone: str, code: str, ttl_seconds: int) -> None: ...


class LogSmsSender:
    """Development sender: the code appears in the server log, e.g. ``SMS to 138****0001: 123456``."""

    async def send_sign_in_code(self, phone: str, code: str, ttl_seconds: int) -> None:
        log.warning(
            "SMS to %s: 【大庆托育】您的登录验证码是 %s，%d分钟内有效。 (sign-in code %s, valid %d min)",
            mask_phone(phone),
            code,
            ttl_seconds // 60,
            code,
            ttl_seconds // 60,
        )


def sms_sender(backend: str) -> SmsSender:
    if backend == "log":
        return LogSmsSender()
    raise ValueError(f"unknown SMS backend {backend!r}")
