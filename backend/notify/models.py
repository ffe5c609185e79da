"""The delivery log (and SMS queue), and the counters behind the SMS caps, budget and rate.

``notify_deliveries`` has one row per event, person and channel: the person's history ("已通过短信
通知"), the admins' counts, and — for SMS — the queue itself. ``UNIQUE (event_id, account_id,
channel)`` is what makes "exactly one SMS per event per person" hold across processes and restarts:
the fan-out inserts the SMS row once (ON CONFLICT DO NOTHING), and a sender claims it with
``FOR UPDATE SKIP LOCKED`` and marks it ``sending`` in a committed transaction before the provider
is called.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import Base, created_at

CHANNELS = ("websocket", "push", "sms", "wechat")  # wechat: subscription messages (notify/wechat_channel.py)
STATUSES = ("waiting", "queued", "sending", "sent", "failed", "acknowledged", "skipped")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class NotifyDelivery(Base):
    """One event to one person over one channel, and where it stands.

    ``waiting``: an SMS fallback that fires at ``due_at`` unless a display acknowledgement comes first;
    ``queued``: due (or to retry at ``due_at``); ``sending``: claimed by a sender until ``due_at`` (its
    lease); ``sent``; ``failed`` (``detail`` says why: invalid_number, daily_cap, budget, ...);
    ``acknowledged`` (the device showed it, or the person opened the SMS link); ``skipped`` (not needed:
    ``detail`` acknowledged_elsewhere, sms_off, no_phone)."""

    __tablename__ = "notify_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "account_id", "channel", name="uq_notify_deliveries_once"),
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        Index(
            "ix_notify_deliveries_due",
            "due_at",
            postgresql_where=text("status IN ('waiting', 'queued', 'sending')"),
        ),
        Index("ix_notify_deliveries_account_id", "account_id", "id"),
        Index("ix_notify_deliveries_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("events.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(String(64))
    due_at: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"), default=0)
    # The SMS's short link (/n/<token>): random, carries no id; opening it counts as acknowledgement.
    link_token: Mapped[str | None] = mapped_column(String(16), unique=True)
    provider_serial: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=text("now()"))


class SmsCounter(Base):
    """SMS sent per Beijing day: ``scope`` is ``city`` (the budget) or an account id (the cap)."""

    __tablename__ = "sms_counters"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    used: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class SmsRateBucket(Base):
    """The token bucket every process takes its provider requests from (SMS_MAX_QPS): it holds at most
    ``burst`` tokens and refills at ``SMS_MAX_QPS - burst`` per second, so no window of one second —
    wherever it starts — sees more than SMS_MAX_QPS requests begin."""

    __tablename__ = "sms_rate_buckets"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    tokens: Mapped[float] = mapped_column(Double)
    refilled_at: Mapped[dt.datetime]
