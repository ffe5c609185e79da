from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from backend.accounts.schemas import PhoneInput
from backend.core.schemas import Input, Output

EventKind = Literal["enrolment", "bookings", "notices", "complaints"]


class EventKindOut(Output):
    kind: EventKind
    label_zh: str
    template_id: str


class WeChatStatusOut(Output):
    """Whether WeChat sign-in and subscription messages are available (the PWA hides them if not)."""

    enabled: bool
    app_id: str | None
    event_kinds: list[EventKindOut]  # the kinds with a template: what the subscription dialog offers


class JsSdkConfigOut(Output):
    """For ``wx.config({appId, timestamp, nonceStr, signature, jsApiList})``."""

    app_id: str
    timestamp: int
    nonce_str: str
    signature: str
    url: str


class BindIn(Input):
    """Verify the phone once by SMS code (``POST /api/auth/code`` first) to bind this WeChat to it."""

    phone: PhoneInput
    code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$", description="The 6-digit code from the SMS")]


class MyWeChatOut(Output):
    """The caller's WeChat binding. The openid itself is never shown (it is in the data export)."""

    enabled: bool
    bound: bool
    nickname: str | None = None
    scope: str | None = None
    bound_at: dt.datetime | None = None
    channel_on: bool = False  # subscription messages reach you
    channel_off_reason: str | None = None
    subscriptions: list[EventKind] = msgspec.field(default_factory=list)


class SubscriptionsIn(Input):
    """The event kinds you accepted in WeChat's subscription dialog; empty revokes them all."""

    event_kinds: Annotated[list[EventKind], msgspec.Meta(max_length=4)]


class Unbound(Output):
    unbound: bool
