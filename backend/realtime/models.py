"""Live delivery: Web Push subscriptions and their delivery queue, notification preferences, and the
cursor of the push fan-out."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import Base, created_at, uuid_pk

CATEGORIES = ("enrolment", "bookings", "notices", "complaints")


class PushSubscription(Base):
    """A browser's push subscription (one per device), owned by an account."""

    __tablename__ = "push_subscriptions"
    __table_args__ = (Index("ix_push_subscriptions_account_id", "account_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    endpoint: Mapped[str] = mapped_column(String(1024), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = created_at()


class PushDelivery(Base):
    """One event to send to one subscription. Workers claim due rows with FOR UPDATE SKIP LOCKED and
    lease them (``next_attempt_at`` moves forward), so a worker that dies mid-send loses nothing."""

    __tablename__ = "push_deliveries"
    __table_args__ = (Index("ix_push_deliveries_due", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("push_subscriptions.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("events.id", ondelete="CASCADE"))
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"), default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(server_default=text("now()"))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = created_at()


class DeliveryCursor(Base):
    """How far a fan-out has read the outbox (by event position)."""

    __tablename__ = "delivery_cursors"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger)


class NotificationPreference(Base):
    """Per account and category: may this reach the account over WebSocket, over Web Push, by SMS, by WeChat?"""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        CheckConstraint("category IN (" + ", ".join(f"'{c}'" for c in CATEGORIES) + ")", name="category"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(16), primary_key=True)
    websocket: Mapped[bool] = mapped_column(server_default=text("true"), default=True)
    push: Mapped[bool] = mapped_column(server_default=text("true"), default=True)
    sms: Mapped[bool] = mapped_column(server_default=text("true"), default=True)  # critical news only (notify/)
    wechat: Mapped[bool] = mapped_column(server_default=text("true"), default=True)  # subscription messages
