"""A local SMS gateway for the tests: Tencent Cloud SMS and Alibaba Cloud SMS, as documented.

It answers the providers' ``SendSms`` as their APIs do, so the official SDKs — pointed here with their
own endpoint settings (``SMS_ENDPOINT``) — run their real signing, transport and parsing:

* **Tencent Cloud SMS, API 2021-01-11.** ``POST /`` with ``X-TC-Action: SendSms``,
  ``X-TC-Version: 2021-01-11``, a JSON body (``PhoneNumberSet``, ``SmsSdkAppId``, ``SignName``,
  ``TemplateId``, ``TemplateParamSet``) and ``Authorization: TC3-HMAC-SHA256 Credential=…,
  SignedHeaders=content-type;host, Signature=…``, which is verified (canonical request, the derived
  ``TC3``+key → date → service → ``tc3_request`` key, a timestamp within five minutes). Answers:
  ``{"Response": {"SendStatusSet": [{"Code": "Ok", …}], "RequestId": …}}``, or ``{"Response": {"Error":
  {"Code", "Message"}, "RequestId"}}``.
* **Alibaba Cloud Dysmsapi 2017-05-25.** ``POST /?PhoneNumbers=…&SignName=…&TemplateCode=…&
  TemplateParam=…`` (RPC style) with ``x-acs-action: SendSms``, ``x-acs-version: 2017-05-25``,
  ``x-acs-content-sha256`` and ``Authorization: ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,
  Signature=…``, verified (canonical request over the signed headers and the sorted, RFC 3986 encoded
  query). Answers ``{"Code": "OK", "BizId", "Message", "RequestId"}`` or an error ``Code``.

A bad signature is refused (Tencent ``AuthFailure.SignatureFailure``, Alibaba ``SignatureDoesNotMatch``)
and counted in ``bad_signatures``. ``script[phone]`` lists what to answer to that number's next
requests: ``ok``, ``5xx``, ``rate``, ``invalid_number``, ``template``, ``balance`` (then ``ok``);
``delay_s`` holds every answer back (the bench's provider latency; a test's "slow gateway").
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote

from aiohttp import web

from tests.live import free_port

SECRET_ID = "AKIDdaqingTEST0000000000000000000000"
SECRET_KEY = "daqing-sms-test-secret-key-000000000"
SDK_APP_ID = "1400000001"
SIGN_NAME = "大庆托育"
TEMPLATE_SIGN_IN = "2000001"
TEMPLATE_URGENT = "2000002"


@dataclass
class Received:
    provider: str
    phone: str  # 11 digits, without +86
    template: str
    params: dict[str, str] | list[str]
    sign_name: str
    at: float
    answer: str
    wall: float = 0.0  # time.time() when the request arrived (SMS_MAX_QPS counts wall-clock seconds)


@dataclass
class SmsGateway:
    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    script: dict[str, list[str]] = field(default_factory=dict)
    delay_s: float = 0.0
    bad_signatures: int = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, backend: str = "tencent") -> dict[str, str]:
        """The app's settings for this gateway."""
        return {
            "SMS_BACKEND": backend,
            "SMS_ENDPOINT": self.endpoint,
            "SMS_SECRET_ID": SECRET_ID,
            "SMS_SECRET_KEY": SECRET_KEY,
            "SMS_SDK_APP_ID": SDK_APP_ID,
            "SMS_SIGN_NAME": SIGN_NAME,
            "SMS_TEMPLATE_SIGN_IN": TEMPLATE_SIGN_IN,
            "SMS_TEMPLATE_URGENT": TEMPLATE_URGENT,
        }

    def delivered(self, phone: str | None = None, template: str | None = None) -> list[Received]:
        """Messages the gateway accepted (answered ``ok``)."""
        return [
            r
            for r in self.received
            if r.answer == "ok" and (phone is None or r.phone == phone) and (template is None or r.template == template)
        ]

    async def wait_for(self, predicate: Any, timeout: float = 20.0) -> None:
        """Wait until ``predicate(gateway)`` holds (the gateway runs in its own thread)."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"the SMS gateway did not see it in {timeout}s: {len(self.received)} requests")
            await asyncio.sleep(0.02)

    def max_per_second(self) -> int:
        """The most requests that arrived within any window of one second (sliding, not calendar)."""
        times = sorted(r.wall for r in self.received)
        best, start = 0, 0
        for end, t in enumerate(times):
            while t - times[start] >= 1.0:
                start += 1
            best = max(best, end - start + 1)
        return best

    def _next(self, phone: str) -> str:
        steps = self.script.get(phone)
        return steps.pop(0) if steps else "ok"

    async def _record(self, item: Received) -> None:
        self.received.append(item)

    # ------------------------------------------------------------------------------------ dispatch

    async def handle(self, request: web.Request) -> web.Response:
        request["wall"] = time.time()
        body = await request.read()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if request.headers.get("X-TC-Action"):
            return await self._tencent(request, body)
        if request.headers.get("x-acs-action"):
            return await self._aliyun(request, body)
        return web.json_response({"error": "unknown API"}, status=400)

    # ------------------------------------------------------------------------------------ Tencent

    def _tencent_signature_ok(self, request: web.Request, body: bytes) -> bool:
        auth = request.headers.get("Authorization", "")
        try:
            algorithm, rest = auth.split(" ", 1)
            parts = dict(p.strip().split("=", 1) for p in rest.split(","))
            secret_id, date, service, terminal = parts["Credential"].split("/")
            signed_headers = parts["SignedHeaders"].split(";")
            timestamp = int(request.headers["X-TC-Timestamp"])
        except (ValueError, KeyError):
            return False
        if algorithm != "TC3-HMAC-SHA256" or secret_id != SECRET_ID or terminal != "tc3_request" or service != "sms":
            return False
        if abs(time.time() - timestamp) > 300:
            return False
        if dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d") != date:
            return False
        canonical_headers = "".join(f"{h}:{request.headers.get(h, '').strip()}\n" for h in signed_headers)
        canonical = "\n".join(
            [
                request.method,
                request.path,
                request.query_string,
                canonical_headers,
                ";".join(signed_headers),
                hashlib.sha256(body).hexdigest(),
            ]
        )
        to_sign = "\n".join(
            [algorithm, str(timestamp), f"{date}/{service}/tc3_request", hashlib.sha256(canonical.encode()).hexdigest()]
        )

        def mac(key: bytes, msg: str) -> bytes:
            return hmac.new(key, msg.encode(), hashlib.sha256).digest()

        key = mac(mac(mac(("TC3" + SECRET_KEY).encode(), date), service), "tc3_request")
        return hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), parts["Signature"])

    async def _tencent(self, request: web.Request, body: bytes) -> web.Response:
        request_id = str(uuid.uuid4())

        def answer(payload: dict[str, Any], status: int = 200) -> web.Response:
            return web.Response(
                status=status,
                body=json.dumps({"Response": {**payload, "RequestId": request_id}}).encode(),
                headers={"Content-Type": "application/json"},
            )

        def error(code: str, message: str) -> web.Response:
            return answer({"Error": {"Code": code, "Message": message}})

        if not self._tencent_signature_ok(request, body):
            self.bad_signatures += 1
            return error("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
        if (request.headers["X-TC-Action"], request.headers.get("X-TC-Version")) != ("SendSms", "2021-01-11"):
            return error("InvalidAction", "The action requested is invalid.")
        try:
            data = json.loads(body)
            (number,) = data["PhoneNumberSet"]
            template, params, sign = data["TemplateId"], data.get("TemplateParamSet", []), data["SignName"]
            assert data["SmsSdkAppId"] == SDK_APP_ID
        except (ValueError, KeyError, AssertionError, TypeError):
            return error("InvalidParameter", "The parameters are invalid.")
        phone = number.removeprefix("+86")
        step = self._next(phone)
        if not (number.startswith("+861") and len(number) == 14 and number[1:].isdigit()):
            step = "invalid_number"
        await self._record(Received("tencent", phone, template, params, sign, time.monotonic(), step, request["wall"]))
        if step == "5xx":
            return web.Response(status=502, text="Bad Gateway")
        if step == "rate":
            return error("RequestLimitExceeded", "Your current request rate exceeds the limit.")
        if step == "balance":
            return error("FailedOperation.InsufficientBalanceInSmsPackage", "The SMS package balance is insufficient.")
        if step == "template":
            return error("FailedOperation.TemplateIncorrectOrUnapproved", "The template is not approved.")
        code = {"ok": "Ok", "invalid_number": "InvalidParameterValue.IncorrectPhoneNumber"}[step]
        return answer(
            {
                "SendStatusSet": [
                    {
                        "SerialNo": f"5000:{uuid.uuid4().int % 10**20}",
                        "PhoneNumber": number,
                        "Fee": 1 if step == "ok" else 0,
                        "SessionContext": data.get("SessionContext", ""),
                        "Code": code,
                        "Message": "send success" if step == "ok" else "incorrect phone number",
                        "IsoCode": "CN",
                    }
                ]
            }
        )

    # ------------------------------------------------------------------------------------ Alibaba

    def _aliyun_signature_ok(self, request: web.Request, body: bytes) -> bool:
        auth = request.headers.get("Authorization", "")
        try:
            algorithm, rest = auth.split(" ", 1)
            parts = dict(p.strip().split("=", 1) for p in rest.split(","))
            signed_headers = parts["SignedHeaders"].split(";")
        except (ValueError, KeyError):
            return False
        if algorithm != "ACS3-HMAC-SHA256" or parts.get("Credential") != SECRET_ID:
            return False
        if request.headers.get("x-acs-content-sha256") != hashlib.sha256(body).hexdigest():
            return False
        if not {"host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce"} <= set(signed_headers):
            return False
        query = sorted(parse_qsl(request.query_string, keep_blank_values=True))
        canonical_query = "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in query)
        canonical_headers = "".join(
            f"{h}:{','.join(sorted(v.strip() for v in request.headers.getall(h, [])))}\n" for h in signed_headers
        )
        canonical = "\n".join(
            [
                request.method,
                request.path or "/",
                canonical_query,
                canonical_headers,
                ";".join(signed_headers),
                request.headers["x-acs-content-sha256"],
            ]
        )
        to_sign = f"{algorithm}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        expected = hmac.new(SECRET_KEY.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, parts.get("Signature", ""))

    async def _aliyun(self, request: web.Request, body: bytes) -> web.Response:
        request_id = str(uuid.uuid4()).upper()

        def answer(code: str, message: str, status: int = 200, **extra: Any) -> web.Response:
            return web.json_response(
                {"Code": code, "Message": message, "RequestId": request_id, **extra}, status=status
            )

        if not self._aliyun_signature_ok(request, body):
            self.bad_signatures += 1
            return answer("SignatureDoesNotMatch", "Specified signature is not matched with our calculation.", 400)
        if (request.headers["x-acs-action"], request.headers.get("x-acs-version")) != ("SendSms", "2017-05-25"):
            return answer("InvalidAction.NotFound", "Specified api is not found.", 404)
        q = request.query
        try:
            phone, template, sign = q["PhoneNumbers"], q["TemplateCode"], q["SignName"]
            params = json.loads(q.get("TemplateParam", "{}"))
        except (KeyError, ValueError):
            return answer("MissingParameter", "A required parameter is missing.", 400)
        step = self._next(phone)
        if not (len(phone) == 11 and phone.isdigit() and phone.startswith("1")):
            step = "invalid_number"
        await self._record(Received("aliyun", phone, template, params, sign, time.monotonic(), step, request["wall"]))
        if step == "5xx":
            return answer("ServiceUnavailable", "The request has failed due to a temporary failure of the server.", 503)
        codes = {
            "rate": ("isv.BUSINESS_LIMIT_CONTROL", "业务限流"),
            "balance": ("isv.AMOUNT_NOT_ENOUGH", "账户余额不足"),
            "template": ("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板"),
            "invalid_number": ("isv.MOBILE_NUMBER_ILLEGAL", "手机号码格式错误"),
        }
        if step in codes:
            return answer(*codes[step])
        return answer("OK", "OK", BizId=f"{uuid.uuid4().int % 10**18}^0")


def _serve(gateway: SmsGateway, ready: threading.Event, stop: list[Any]) -> None:
    """The gateway's own thread and event loop: a test that blocks (waiting for a process) never
    stalls the provider, as a real provider would not stall."""
    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_post("/", gateway.handle)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", gateway.port).start())
    done = asyncio.Event()
    stop.append((loop, done))
    ready.set()
    loop.run_until_complete(done.wait())
    with contextlib.suppress(Exception):
        loop.run_until_complete(asyncio.wait_for(runner.cleanup(), timeout=5))
    loop.close()


@contextlib.contextmanager
def running_gateway() -> Any:
    """``sms_gateway`` for synchronous fixtures: the same gateway on its own thread."""
    gateway = SmsGateway()
    ready, stop = threading.Event(), []
    thread = threading.Thread(target=_serve, args=(gateway, ready, stop), daemon=True, name="sms-gateway")
    thread.start()
    assert ready.wait(10), "the SMS gateway did not start"
    try:
        yield gateway
    finally:
        loop, done = stop[0]
        loop.call_soon_threadsafe(done.set)
        thread.join(10)


@contextlib.asynccontextmanager
async def sms_gateway() -> Any:
    gateway = SmsGateway()
    ready, stop = threading.Event(), []
    thread = threading.Thread(target=_serve, args=(gateway, ready, stop), daemon=True, name="sms-gateway")
    thread.start()
    await asyncio.to_thread(ready.wait, 10)
    try:
        yield gateway
    finally:
        loop, done = stop[0]
        loop.call_soon_threadsafe(done.set)
        await asyncio.to_thread(thread.join, 10)
