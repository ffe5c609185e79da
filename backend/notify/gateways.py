"""SMS gateways: Tencent Cloud SMS and Alibaba Cloud SMS through their official SDKs.

Both implement ``accounts.sms.SmsSender``: a sign-in code (``send_sign_in_code``) and an urgent
notice (``send_notice``: a short title and a link into the app). Every provider answer becomes an
``SmsOutcome``:

* ``sent``: the provider accepted the message (its serial number is kept for support questions);
* ``retry``: rate-limited (the API's own throttling or the per-number frequency limits) or a
  provider-side failure (HTTP 5xx, ``InternalError``/``isp.SYSTEM_ERROR``, timeouts, network errors):
  the pipeline tries again with back-off;
* ``failed``: the number is invalid, the template or signature is not approved, the balance is
  exhausted, the credentials are refused — trying again cannot help.

Balance exhausted and refused credentials also raise an alert: a log line at ERROR starting with
``SMS ALERT`` and every hook in ``ALERT_HOOKS`` (metrics wire in there; see ``add_alert_hook``).
``OUTCOME_HOOKS`` hear every outcome (provider, kind, status, code) for counters.

Logs name the masked number (``138****0001``) and the provider's code, never the number, never a
sign-in code, never the message text.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from backend.core import metrics
from backend.core.notify_settings import NotifySettings

log = logging.getLogger("backend.sms")

Status = Literal["sent", "retry", "failed"]


@dataclass(frozen=True, slots=True)
class SmsOutcome:
    status: Status
    code: str  # machine code: ok, rate_limited, provider_error, invalid_number, template_not_approved, ...
    provider_code: str = ""  # the provider's own code, e.g. FailedOperation.InsufficientBalanceInSmsPackage
    retry_after_s: float | None = None
    serial: str = ""


AlertHook = Callable[[str, str, str], None]  # (alert kind, provider, provider code)
OutcomeHook = Callable[[str, str, SmsOutcome], None]  # (provider, message kind, outcome)
ALERT_HOOKS: list[AlertHook] = []
OUTCOME_HOOKS: list[OutcomeHook] = []


def add_alert_hook(hook: AlertHook) -> None:
    """Call ``hook(kind, provider, provider_code)`` on every gateway alert (e.g. a metrics counter)."""
    ALERT_HOOKS.append(hook)


def add_outcome_hook(hook: OutcomeHook) -> None:
    """Call ``hook(provider, message_kind, outcome)`` after every send (e.g. counters per outcome)."""
    OUTCOME_HOOKS.append(hook)


def _count_outcome(_provider: str, _kind: str, outcome: SmsOutcome) -> None:
    metrics.delivery_outcome("sms", outcome.status)  # sent, retry, failed (the code is in the log)


def _count_alert(kind: str, _provider: str, _provider_code: str) -> None:
    metrics.delivery_alert("sms", kind)


# Every SMS outcome and alert is counted in /metrics (dq_delivery_outcomes, dq_delivery_alerts).
add_outcome_hook(_count_outcome)
add_alert_hook(_count_alert)


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


ALERT_CODES = {"balance_exhausted", "auth_failure"}

# The SDKs' own loggers write whole requests (numbers, codes, texts) at DEBUG, and httpx writes URLs at
# INFO: they are held at WARNING whatever the app's LOG_LEVEL.
SDK_LOGGERS = ("tencentcloud_sdk_common", "httpx", "httpcore", "alibabacloud_tea_openapi", "darabonba", "urllib3")


def _quiet_sdk_loggers() -> None:
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def report(provider: str, kind: str, phone: str, outcome: SmsOutcome) -> None:
    """Log the outcome (masked number, codes only) and tell the hooks; alert where a person must act."""
    if outcome.code in ALERT_CODES:
        log.error(
            "SMS ALERT %s: %s (%s); SMS cannot be sent until this is fixed",
            provider,
            outcome.code,
            outcome.provider_code,
        )
        for alert in ALERT_HOOKS:
            with contextlib.suppress(Exception):
                alert(outcome.code, provider, outcome.provider_code)
    level = logging.INFO if outcome.status == "sent" else logging.WARNING
    log.log(level, "SMS %s to %s via %s: %s %s", kind, mask_phone(phone), provider, outcome.status, outcome.code)
    for hook in OUTCOME_HOOKS:
        with contextlib.suppress(Exception):
            hook(provider, kind, outcome)


# ---------------------------------------------------------------------------------------------- codes

_TENCENT_INVALID_NUMBER = {
    "InvalidParameterValue.IncorrectPhoneNumber",
    "FailedOperation.PhoneNumberParseFail",
    "FailedOperation.PhoneNumberInBlacklist",
    "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber",
    "UnsupportedOperation.UnsupportedRegion",
}
_TENCENT_TEMPLATE = {
    "FailedOperation.TemplateIncorrectOrUnapproved",
    "FailedOperation.TemplateUnapprovedOrNotExist",
    "FailedOperation.TemplateIdNotExist",
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
    "FailedOperation.SignatureIncorrectOrUnapproved",
    "FailedOperation.MissingSignature",
    "InvalidParameterValue.TemplateParameterFormatError",
    "InvalidParameterValue.TemplateParameterLengthLimit",
    "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
}
_TENCENT_BALANCE = {"FailedOperation.InsufficientBalanceInSmsPackage"}
# Rate and frequency limits that pass (unlike the per-number daily limit, which fails for today).
_TENCENT_RATE = {
    "RequestLimitExceeded",
    "RequestLimitExceeded.GlobalRegionUinLimit",
    "RequestLimitExceeded.UinLimit",
    "LimitExceeded.GlobalSmsSendingRateLimit",
    "LimitExceeded.DeliveryFrequencyLimit",
    "LimitExceeded.PhoneNumberThirtySecondLimit",
    "LimitExceeded.PhoneNumberOneHourLimit",
}


def classify_tencent(code: str) -> SmsOutcome:
    if code == "Ok":
        return SmsOutcome("sent", "ok", code)
    if code in _TENCENT_RATE:
        return SmsOutcome("retry", "rate_limited", code)
    if code.startswith("InternalError") or code in ("ServerNetworkError", "ClientNetworkError", "ResourceUnavailable"):
        return SmsOutcome("retry", "provider_error", code)
    if code in _TENCENT_INVALID_NUMBER:
        return SmsOutcome("failed", "invalid_number", code)
    if code in _TENCENT_TEMPLATE:
        return SmsOutcome("failed", "template_not_approved", code)
    if code in _TENCENT_BALANCE:
        return SmsOutcome("failed", "balance_exhausted", code)
    if code.startswith("AuthFailure"):
        return SmsOutcome("failed", "auth_failure", code)
    if code.startswith("LimitExceeded"):
        return SmsOutcome("failed", "limit_exceeded", code)
    return SmsOutcome("failed", "rejected", code)


_ALIYUN_INVALID_NUMBER = {"isv.MOBILE_NUMBER_ILLEGAL", "isv.MOBILE_COUNT_OVER_LIMIT", "isv.BLACK_KEY_CONTROL_LIMIT"}
_ALIYUN_TEMPLATE = {
    "isv.SMS_TEMPLATE_ILLEGAL",
    "isv.SMS_SIGNATURE_ILLEGAL",
    "isv.TEMPLATE_MISSING_PARAMETERS",
    "isv.INVALID_PARAMETERS",
    "isv.PARAM_LENGTH_LIMIT",
    "isv.SMS_SIGN_ILLEGAL",
    "isv.TEMPLATE_PARAMS_ILLEGAL",
}
_ALIYUN_BALANCE = {"isv.AMOUNT_NOT_ENOUGH", "isv.OUT_OF_SERVICE", "isv.ACCOUNT_ABNORMAL"}
_ALIYUN_RATE = {
    "isv.BUSINESS_LIMIT_CONTROL",
    "Throttling",
    "Throttling.User",
    "Throttling.Api",
    "isv.DAY_LIMIT_CONTROL",
}


def classify_aliyun(code: str) -> SmsOutcome:
    if code == "OK":
        return SmsOutcome("sent", "ok", code)
    if code in _ALIYUN_RATE or code.startswith("Throttling"):
        if code == "isv.DAY_LIMIT_CONTROL":
            return SmsOutcome("failed", "limit_exceeded", code)
        return SmsOutcome("retry", "rate_limited", code)
    if code.startswith("isp.") or code in ("ServiceUnavailable", "InternalError"):
        return SmsOutcome("retry", "provider_error", code)
    if code in _ALIYUN_INVALID_NUMBER:
        return SmsOutcome("failed", "invalid_number", code)
    if code in _ALIYUN_TEMPLATE:
        return SmsOutcome("failed", "template_not_approved", code)
    if code in _ALIYUN_BALANCE:
        return SmsOutcome("failed", "balance_exhausted", code)
    if code in ("InvalidAccessKeyId.NotFound", "SignatureDoesNotMatch", "IncompleteSignature", "Forbidden.RAM"):
        return SmsOutcome("failed", "auth_failure", code)
    return SmsOutcome("failed", "rejected", code)


# ---------------------------------------------------------------------------------------------- senders


class _Gateway:
    provider = ""

    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings
        _quiet_sdk_loggers()

    def _params(self, names: tuple[str, ...], values: dict[str, str]) -> list[tuple[str, str]]:
        return [(name, values.get(name, "")) for name in names]

    async def _bounded(self, phone: str, template: str, params: list[tuple[str, str]], ref: str) -> SmsOutcome:
        try:
            async with asyncio.timeout(self.settings.sms_timeout_s + 2):
                return await self._send(phone, template, params, ref)
        except TimeoutError:
            return SmsOutcome("retry", "timeout", "Timeout")
        except (httpx.HTTPError, OSError) as exc:
            return SmsOutcome("retry", "network", type(exc).__name__)

    async def _send(self, phone: str, template: str, params: list[tuple[str, str]], ref: str) -> SmsOutcome:
        raise NotImplementedError

    async def send_notice(self, phone: str, title: str, link: str, ref: str = "") -> SmsOutcome:
        params = self._params(self.settings.sms_template_urgent_params, {"title": title, "link": link})
        outcome = await self._bounded(phone, self.settings.sms_template_urgent, params, ref)
        report(self.provider, "notice", phone, outcome)
        return outcome

    async def send_sign_in_code(self, phone: str, code: str, ttl_seconds: int) -> None:
        """A few quick tries for passing trouble (the person is waiting); then a clear 503."""
        from backend.core.errors import Unavailable

        params = self._params(
            self.settings.sms_template_sign_in_params, {"code": code, "minutes": str(max(1, ttl_seconds // 60))}
        )
        outcome = SmsOutcome("failed", "not_sent")
        for attempt in range(3):
            outcome = await self._bounded(phone, self.settings.sms_template_sign_in, params, "")
            report(self.provider, "sign_in", phone, outcome)
            if outcome.status != "retry":
                break
            await asyncio.sleep(min(outcome.retry_after_s or 0.3 * 3**attempt, 2.0))
        if outcome.status == "sent":
            return
        if outcome.code == "invalid_number":
            from backend.core.errors import RuleViolation

            raise RuleViolation(
                "The SMS provider refused this phone number",
                detail_zh="该手机号无法接收短信，请检查号码",
                code="phone_not_reachable",
            )
        raise Unavailable("The sign-in code could not be sent; try again later", detail_zh="验证码发送失败，请稍后重试")

    async def close(self) -> None:  # pragma: no cover - overridden where there is something to close
        return None


def _endpoint(settings: NotifySettings) -> tuple[str, str]:
    """SMS_ENDPOINT as (scheme, host[:port]); ('https', '') when unset."""
    if not settings.sms_endpoint:
        return "https", ""
    parts = urlsplit(settings.sms_endpoint if "://" in settings.sms_endpoint else "https://" + settings.sms_endpoint)
    return parts.scheme, parts.netloc


class TencentSms(_Gateway):
    """Tencent Cloud SMS, API 2021-01-11 ``SendSms`` (TC3-HMAC-SHA256), with the SDK's async client."""

    provider = "tencent"

    def __init__(self, settings: NotifySettings) -> None:
        super().__init__(settings)
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client_async

        scheme, host = _endpoint(settings)
        http = HttpProfile(protocol=scheme, endpoint=host or None, reqTimeout=int(settings.sms_timeout_s) or 1)
        http.keepAlive = True
        profile = ClientProfile(httpProfile=http, disable_region_breaker=True)
        cred = credential.Credential(settings.sms_secret_id, settings.sms_secret_key)
        self._client = sms_client_async.SmsClient(cred, settings.sms_region, profile)

    async def _send(self, phone: str, template: str, params: list[tuple[str, str]], ref: str) -> SmsOutcome:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models

        req = models.SendSmsRequest()
        req.PhoneNumberSet = ["+86" + phone]
        req.SmsSdkAppId = self.settings.sms_sdk_app_id
        req.SignName = self.settings.sms_sign_name
        req.TemplateId = template
        req.TemplateParamSet = [value for _name, value in params]
        if ref:
            req.SessionContext = ref
        try:
            resp = await self._client.SendSms(req)
        except TencentCloudSDKException as exc:
            return classify_tencent(exc.get_code() or "")
        statuses = resp.SendStatusSet or []
        if not statuses:
            return SmsOutcome("retry", "provider_error", "EmptySendStatusSet")
        outcome = classify_tencent(statuses[0].Code or "")
        return SmsOutcome(outcome.status, outcome.code, outcome.provider_code, serial=statuses[0].SerialNo or "")

    async def close(self) -> None:
        await self._client.close()


class AliyunSms(_Gateway):
    """Alibaba Cloud SMS, Dysmsapi 2017-05-25 ``SendSms`` (RPC style, ACS3-HMAC-SHA256), async client."""

    provider = "aliyun"

    def __init__(self, settings: NotifySettings) -> None:
        super().__init__(settings)
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi.utils_models import Config

        scheme, host = _endpoint(settings)
        config = Config(
            access_key_id=settings.sms_secret_id,
            access_key_secret=settings.sms_secret_key,
            region_id=settings.sms_region,
            endpoint=host or "dysmsapi.aliyuncs.com",
            protocol=scheme.upper(),
            read_timeout=int(settings.sms_timeout_s * 1000),
            connect_timeout=int(settings.sms_timeout_s * 1000),
        )
        self._client = Client(config)

    async def _send(self, phone: str, template: str, params: list[tuple[str, str]], ref: str) -> SmsOutcome:
        from alibabacloud_dysmsapi20170525 import models
        from alibabacloud_tea_openapi.exceptions import AlibabaCloudException, ServerException, ThrottlingException
        from darabonba.exceptions import DaraException

        req = models.SendSmsRequest(
            phone_numbers=phone,
            sign_name=self.settings.sms_sign_name,
            template_code=template,
            template_param=json.dumps(dict(params), ensure_ascii=False),
            out_id=ref or None,
        )
        try:
            resp = await self._client.send_sms_async(req)
        except ThrottlingException as exc:
            return SmsOutcome("retry", "rate_limited", str(exc.code), retry_after_s=_seconds(exc.retry_after))
        except ServerException as exc:
            return SmsOutcome("retry", "provider_error", f"HTTP {exc.status_code}")
        except AlibabaCloudException as exc:
            return classify_aliyun(str(exc.code or ""))
        except DaraException as exc:  # transport trouble, wrapped by the SDK
            return SmsOutcome("retry", "network", type(exc).__name__)
        body = resp.body
        outcome = classify_aliyun(body.code or "")
        return SmsOutcome(outcome.status, outcome.code, outcome.provider_code, serial=body.biz_id or "")


def _seconds(value: Any) -> float | None:
    with contextlib.suppress(TypeError, ValueError):
        ms = float(value)
        return max(1.0, ms / 1000) if ms > 100 else max(1.0, ms)
    return None


def gateway(settings: NotifySettings) -> TencentSms | AliyunSms:
    if settings.sms_backend == "tencent":
        return TencentSms(settings)
    if settings.sms_backend == "aliyun":
        return AliyunSms(settings)
    raise ValueError(f"no gateway for SMS backend {settings.sms_backend!r}")
