"""The SMS gateways through the providers' official SDKs against the local gateway (tests/smsgateway.py),
which verifies their signatures: every documented answer becomes the right outcome, and no log line
holds a phone number, a sign-in code or a message text."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from backend.core.errors import RuleViolation, Unavailable
from backend.core.notify_settings import NotifySettings
from backend.notify import gateways
from backend.notify.gateways import AliyunSms, TencentSms
from tests.core.test_metrics import sample, scrape
from tests.smsgateway import SIGN_NAME, TEMPLATE_SIGN_IN, TEMPLATE_URGENT, sms_gateway

PHONE = "13912345678"


def settings_for(gw, backend: str, **changes) -> NotifySettings:
    env = gw.env(backend)
    values = dict(
        sms_backend=backend,
        sms_endpoint=env["SMS_ENDPOINT"],
        sms_secret_id=env["SMS_SECRET_ID"],
        sms_secret_key=env["SMS_SECRET_KEY"],
        sms_sdk_app_id=env["SMS_SDK_APP_ID"],
        sms_sign_name=env["SMS_SIGN_NAME"],
        sms_template_sign_in=env["SMS_TEMPLATE_SIGN_IN"],
        sms_template_urgent=env["SMS_TEMPLATE_URGENT"],
        sms_region="ap-guangzhou" if backend == "tencent" else "cn-hangzhou",
        sms_timeout_s=5,
    )
    return dataclasses.replace(NotifySettings(), **{**values, **changes})


def sender(settings: NotifySettings):
    return TencentSms(settings) if settings.sms_backend == "tencent" else AliyunSms(settings)


@pytest.mark.parametrize("backend", ["tencent", "aliyun"])
async def test_outcomes_of_every_documented_answer(backend, caplog):
    caplog.set_level(logging.DEBUG)
    alerts: list[tuple[str, str, str]] = []

    def hook(*a: str) -> None:
        alerts.append(a)

    gateways.add_alert_hook(hook)
    try:
        async with sms_gateway() as gw:
            sms = sender(settings_for(gw, backend))
            try:
                gw.script[PHONE] = ["ok", "5xx", "rate", "invalid_number", "template", "balance"]
                outcomes = [
                    await sms.send_notice(PHONE, "紧急通知", "https://t.example/n/AbC", ref="n1") for _ in range(6)
                ]
            finally:
                await sms.close()
    finally:
        gateways.ALERT_HOOKS.remove(hook)  # the metrics hook stays
    assert [(o.status, o.code) for o in outcomes] == [
        ("sent", "ok"),
        ("retry", "provider_error"),
        ("retry", "rate_limited"),
        ("failed", "invalid_number"),
        ("failed", "template_not_approved"),
        ("failed", "balance_exhausted"),
    ]
    assert outcomes[0].serial
    assert gw.bad_signatures == 0 and len(gw.received) == 6
    first = gw.received[0]
    assert (first.phone, first.template, first.sign_name) == (PHONE, TEMPLATE_URGENT, SIGN_NAME)
    expected_params = ["紧急通知", "https://t.example/n/AbC"]
    assert (first.params if backend == "tencent" else [first.params["title"], first.params["link"]]) == expected_params
    assert alerts == [("balance_exhausted", backend, outcomes[5].provider_code)]
    text = caplog.text
    assert "SMS ALERT" in text and "balance_exhausted" in text
    assert PHONE not in text and "139****5678" in text
    assert "https://t.example/n/AbC" not in text and "紧急通知" not in text


async def test_sms_outcomes_and_alerts_are_counted_in_metrics(app):
    """The gateways' outcome and alert hooks feed /metrics: dq_delivery_outcomes{channel="sms"} and
    dq_delivery_alerts{channel="sms",kind="balance_exhausted"}."""

    def counts(body: str) -> tuple[float, ...]:
        return (
            sample(body, "dq_delivery_outcomes_total", channel="sms", outcome="sent"),
            sample(body, "dq_delivery_outcomes_total", channel="sms", outcome="retry"),
            sample(body, "dq_delivery_outcomes_total", channel="sms", outcome="failed"),
            sample(body, "dq_delivery_alerts_total", channel="sms", kind="balance_exhausted"),
        )

    before = counts((await scrape(app)).text)
    async with sms_gateway() as gw:
        sms = sender(settings_for(gw, "tencent"))
        try:
            gw.script[PHONE] = ["ok", "ok", "rate", "balance"]
            for _ in range(4):
                await sms.send_notice(PHONE, "紧急通知", "https://t.example/n/AbC", ref="n1")
        finally:
            await sms.close()
    after = (await scrape(app)).text
    assert tuple(a - b for a, b in zip(counts(after), before, strict=True)) == (2, 1, 1, 1)
    assert PHONE not in after


@pytest.mark.parametrize("backend", ["tencent", "aliyun"])
async def test_a_wrong_key_is_refused_by_the_gateway_signature_check(backend):
    async with sms_gateway() as gw:
        sms = sender(settings_for(gw, backend, sms_secret_key="not-the-key"))
        try:
            outcome = await sms.send_notice(PHONE, "紧急通知", "https://t.example/n/x")
        finally:
            await sms.close()
    assert (outcome.status, outcome.code) == ("failed", "auth_failure")
    assert gw.bad_signatures == 1 and gw.received == []


@pytest.mark.parametrize("backend", ["tencent", "aliyun"])
async def test_sign_in_code_retries_passing_trouble_and_never_logs_the_code(backend, caplog):
    caplog.set_level(logging.DEBUG)
    async with sms_gateway() as gw:
        sms = sender(settings_for(gw, backend))
        try:
            gw.script[PHONE] = ["5xx", "rate"]
            await sms.send_sign_in_code(PHONE, "864209", 300)
            gw.script["13900000002"] = ["invalid_number"]
            with pytest.raises(RuleViolation):
                await sms.send_sign_in_code("13900000002", "864210", 300)
            gw.script[PHONE] = ["5xx", "5xx", "5xx"]
            with pytest.raises(Unavailable):
                await sms.send_sign_in_code(PHONE, "864211", 300)
        finally:
            await sms.close()
    delivered = gw.delivered(PHONE, TEMPLATE_SIGN_IN)
    assert len(delivered) == 1
    params = delivered[0].params
    assert (params if backend == "tencent" else [params["code"], params["minutes"]]) == ["864209", "5"]
    assert [r.answer for r in gw.received if r.phone == "13900000002"] == ["invalid_number"]  # not retried
    for code in ("864209", "864210", "864211"):
        assert code not in caplog.text
    assert PHONE not in caplog.text
