"""Settings of the notification pipeline and the SMS gateways (read from the environment).

Kept apart from ``core/config.py``, which holds one ``NotifySettings`` as ``Settings.notify``; in
``core/`` because the settings are core's (core imports no domain: see the import-linter contracts). Every variable is described in docs/notifications.md.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Literal

SmsBackend = Literal["log", "tencent", "aliyun"]
SMS_BACKENDS = ("log", "tencent", "aliyun")


class NotifyConfigError(RuntimeError):
    """The environment describes an SMS or notification configuration the app refuses."""


def _get(name: str, default: str = "") -> str:
    value = os.environ.get(name)
    return default if value is None or not value.strip() else value.strip()


def _int(name: str, default: int) -> int:
    raw = _get(name)
    try:
        return int(raw) if raw else default
    except ValueError as exc:
        raise NotifyConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _float(name: str, default: float) -> float:
    raw = _get(name)
    try:
        return float(raw) if raw else default
    except ValueError as exc:
        raise NotifyConfigError(f"{name} must be a number, got {raw!r}") from exc


def _bool(name: str, default: bool) -> bool:
    raw = _get(name).lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise NotifyConfigError(f"{name} must be true or false, got {raw!r}")


def _params(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = _get(name)
    return tuple(p.strip() for p in raw.split(",") if p.strip()) if raw else default


def parse_quiet_hours(raw: str) -> tuple[dt.time, dt.time] | None:
    """``22:00-07:00`` (Beijing time; may wrap midnight); ``off`` or '' for none."""
    if raw.lower() in ("", "off", "none"):
        return None
    try:
        start, end = (dt.time.fromisoformat(part.strip()) for part in raw.split("-"))
    except ValueError as exc:
        raise NotifyConfigError(f"NOTIFY_QUIET_HOURS must look like 22:00-07:00 or off, got {raw!r}") from exc
    return start, end


@dataclass(frozen=True, slots=True)
class NotifySettings:
    # ---- SMS gateway
    sms_backend: SmsBackend = "log"
    sms_secret_id: str = field(default="", repr=False)  # Tencent SecretId / Alibaba AccessKey ID
    sms_secret_key: str = field(default="", repr=False)  # Tencent SecretKey / Alibaba AccessKey secret
    sms_region: str = ""  # Tencent: ap-guangzhou; Alibaba: cn-hangzhou
    sms_sdk_app_id: str = ""  # Tencent SmsSdkAppId (Alibaba has none)
    sms_sign_name: str = ""  # 签名, e.g. 大庆托育
    sms_template_sign_in: str = ""
    sms_template_urgent: str = ""
    # Names of the template's parameters in order (Alibaba uses the names, Tencent the order).
    sms_template_sign_in_params: tuple[str, ...] = ("code", "minutes")
    sms_template_urgent_params: tuple[str, ...] = ("title", "link")
    sms_endpoint: str = ""  # override, e.g. http://127.0.0.1:8241 (tests); '' = the provider's own
    sms_timeout_s: float = 10.0
    # ---- the pipeline
    notify_worker: bool = True
    notify_poll_interval_s: float = 1.0
    sms_fallback_after_s: float = 600.0  # SMS_FALLBACK_AFTER: a critical event unacknowledged this long goes by SMS
    sms_max_qps: int = 100  # requests per second across all processes (under the provider's limit)
    sms_daily_cap_per_account: int = 10
    sms_daily_budget: int = 20000  # city-wide SMS per day (Beijing calendar day)
    sms_max_attempts: int = 6
    sms_retry_base_s: float = 5.0
    sms_lease_s: int = 60
    quiet_hours: tuple[dt.time, dt.time] | None = (dt.time(22, 0), dt.time(7, 0))
    offer_expiring_notice_h: int = 24  # "offer about to expire" this many hours before the deadline

    @classmethod
    def from_env(cls, env: str) -> NotifySettings:
        backend = _get("SMS_BACKEND", "log")
        if backend not in SMS_BACKENDS:
            raise NotifyConfigError(f"SMS_BACKEND must be one of {', '.join(SMS_BACKENDS)}, got {backend!r}")
        s = cls(
            sms_backend=backend,  # type: ignore[arg-type]
            sms_secret_id=_get("SMS_SECRET_ID"),
            sms_secret_key=_get("SMS_SECRET_KEY"),
            sms_region=_get("SMS_REGION", "ap-guangzhou" if backend == "tencent" else "cn-hangzhou"),
            sms_sdk_app_id=_get("SMS_SDK_APP_ID"),
            sms_sign_name=_get("SMS_SIGN_NAME"),
            sms_template_sign_in=_get("SMS_TEMPLATE_SIGN_IN"),
            sms_template_urgent=_get("SMS_TEMPLATE_URGENT"),
            sms_template_sign_in_params=_params("SMS_TEMPLATE_SIGN_IN_PARAMS", ("code", "minutes")),
            sms_template_urgent_params=_params("SMS_TEMPLATE_URGENT_PARAMS", ("title", "link")),
            sms_endpoint=_get("SMS_ENDPOINT").rstrip("/"),
            sms_timeout_s=_float("SMS_TIMEOUT_S", 10.0),
            notify_worker=_bool("NOTIFY_WORKER", True),
            notify_poll_interval_s=_float("NOTIFY_POLL_INTERVAL_S", 1.0),
            sms_fallback_after_s=_float("SMS_FALLBACK_AFTER", 600.0),
            sms_max_qps=_int("SMS_MAX_QPS", 100),
            sms_daily_cap_per_account=_int("SMS_DAILY_CAP_PER_ACCOUNT", 10),
            sms_daily_budget=_int("SMS_DAILY_BUDGET", 20000),
            sms_max_attempts=_int("SMS_MAX_ATTEMPTS", 6),
            sms_retry_base_s=_float("SMS_RETRY_BASE_S", 5.0),
            sms_lease_s=_int("SMS_LEASE_S", 60),
            quiet_hours=parse_quiet_hours(_get("NOTIFY_QUIET_HOURS", "22:00-07:00")),
            offer_expiring_notice_h=_int("OFFER_EXPIRING_NOTICE_H", 24),
        )
        problems = s.problems(production=env == "production")
        if problems:
            raise NotifyConfigError(
                ("refusing to start in production: " if env == "production" else "") + "; ".join(problems)
            )
        return s

    def problems(self, *, production: bool) -> list[str]:
        out = []
        if production and self.sms_backend == "log":
            out.append("SMS_BACKEND must be tencent or aliyun ('log' writes sign-in codes to the log)")
        if production and self.sms_endpoint.startswith("http://") and not _loopback(self.sms_endpoint):
            # Plain http may only reach this machine (an egress proxy beside the app, the tests' gateway).
            out.append("SMS_ENDPOINT must be https in production, or http on this machine (127.0.0.1, ::1, localhost)")
        if self.sms_backend != "log":
            missing = [
                name
                for name, value in (
                    ("SMS_SECRET_ID", self.sms_secret_id),
                    ("SMS_SECRET_KEY", self.sms_secret_key),
                    ("SMS_SIGN_NAME", self.sms_sign_name),
                    ("SMS_TEMPLATE_SIGN_IN", self.sms_template_sign_in),
                    ("SMS_TEMPLATE_URGENT", self.sms_template_urgent),
                    *([("SMS_SDK_APP_ID", self.sms_sdk_app_id)] if self.sms_backend == "tencent" else []),
                )
                if not value
            ]
            if missing:
                out.append(f"SMS_BACKEND={self.sms_backend} needs " + ", ".join(missing))
        if self.sms_max_qps < 1:
            out.append("SMS_MAX_QPS must be at least 1")
        return out


def _loopback(url: str) -> bool:
    import ipaddress
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
