from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from backend.core.schemas import Input, Output

AckToken = Annotated[str, msgspec.Meta(min_length=20, max_length=120, pattern=r"^[0-9]+\.[0-9a-f]{32}\.[0-9a-f]{32}$")]


class AckIn(Input):
    """What the service worker sends after showing a notification: the token its push payload carried."""

    token: AckToken


class SeenIn(Input):
    """The open app saw an event (over the WebSocket): it counts as acknowledged."""

    event: Annotated[int, msgspec.Meta(ge=1, le=2**62)]  # the event's position (a message's ``id``)


class AckOut(Output):
    acknowledged: bool
    sms: Literal["cancelled", "already_sent", "not_planned"]


class Channels(Output):
    """What can reach this person, as the server sees it (the PWA adds what the browser can do)."""

    push_devices: int
    phone_masked: str | None
    sms_enabled: bool  # an SMS gateway is configured (false: development's log sender)
    fallback_after_s: float
    quiet_hours: str | None  # "22:00-07:00", Beijing time
    sms_today: int
    sms_daily_cap: int


class LogEntry(Output):
    event: int  # position
    event_type: str
    title_zh: str
    url: str
    channel: str
    status: str
    status_zh: str
    detail: str | None
    at: dt.datetime


class LinkOut(Output):
    url: str


class ChannelDayCount(Output):
    day: dt.date
    channel: str
    status: str
    count: int


class Stats(Output):
    days: int
    counts: list[ChannelDayCount]
    sms_budget_today: int
    sms_used_today: int
