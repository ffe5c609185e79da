from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from backend.core.schemas import Input, Output

CategoryName = Literal["enrolment", "bookings", "notices", "complaints"]
B64Url = r"^[A-Za-z0-9_-]+=*$"


class Ticket(Output):
    ticket: str
    expires_at: dt.datetime
    url: str


class VapidKey(Output):
    public_key: str


class SubscriptionKeys(Input):
    p256dh: Annotated[str, msgspec.Meta(min_length=80, max_length=120, pattern=B64Url)]
    auth: Annotated[str, msgspec.Meta(min_length=16, max_length=40, pattern=B64Url)]


class SubscriptionIn(Input):
    """What ``PushManager.subscribe()`` returns in the browser (``subscription.toJSON()``)."""

    endpoint: Annotated[
        str,
        msgspec.Meta(min_length=12, max_length=1024, pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$"),
    ]
    keys: SubscriptionKeys
    expirationTime: int | None = None


class SubscriptionOut(Output):
    id: uuid.UUID
    endpoint: str
    created_at: dt.datetime


class UnsubscribeIn(Input):
    endpoint: Annotated[str, msgspec.Meta(min_length=12, max_length=1024)]


class Preference(Input):
    category: CategoryName
    websocket: bool
    push: bool
    # Critical news by SMS when no push reaches the phone (docs/notifications.md). Left out of a change,
    # it stays as it was; answers always give it.
    sms: bool | None = None
    # WeChat subscription messages (if the person bound WeChat and subscribed to the kind); same rule.
    wechat: bool | None = None


class Preferences(Output):
    preferences: list[Preference]


class PreferencesIn(Input):
    """Categories to change; the others stay as they are."""

    preferences: Annotated[list[Preference], msgspec.Meta(max_length=4)]
