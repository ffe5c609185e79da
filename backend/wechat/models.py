"""WeChat identities bound to accounts, their subscriptions, the shared token cache, sign-in states."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.config import WECHAT_EVENT_KINDS
from backend.core.db import Base, created_at

CREDENTIAL_KINDS = ("access_token", "jsapi_ticket")


class WeChatIdentity(Base):
    """One account's WeChat identity in the city's official account: at most one per account, and an
    openid (or unionid) belongs to at most one account. ``channel_on`` is the subscription-message
    channel: WeChat's "user refused / not subscribed" answer turns it off."""

    __tablename__ = "wechat_identities"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    unionid: Mapped[str | None] = mapped_column(String(64), unique=True)
    nickname: Mapped[str | None] = mapped_column(String(64))  # only after snsapi_userinfo
    scope: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = created_at()
    last_sign_in_at: Mapped[dt.datetime | None]
    channel_on: Mapped[bool] = mapped_column(server_default=text("true"), default=True)
    channel_off_reason: Mapped[str | None] = mapped_column(String(64))
    channel_off_at: Mapped[dt.datetime | None]

    __table_args__ = (CheckConstraint("scope IN ('snsapi_base', 'snsapi_userinfo')", name="scope"),)


class WeChatSubscription(Base):
    """An event kind the person subscribed to (accepted in WeChat's subscription dialog)."""

    __tablename__ = "wechat_subscriptions"
    __table_args__ = (
        CheckConstraint("event_kind IN (" + ", ".join(f"'{k}'" for k in WECHAT_EVENT_KINDS) + ")", name="event_kind"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("wechat_identities.account_id", ondelete="CASCADE"), primary_key=True
    )
    event_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    created_at: Mapped[dt.datetime] = created_at()


class WeChatCredential(Base):
    """The access_token and the JS-SDK jsapi_ticket, shared by every app process. Both rows exist from
    the migration on; a refresh locks its row (SELECT ... FOR UPDATE), so only one process refreshes."""

    __tablename__ = "wechat_credentials"
    __table_args__ = (CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in CREDENTIAL_KINDS) + ")", name="kind"),)

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[dt.datetime | None]
    refreshed_at: Mapped[dt.datetime | None]
    refresh_count: Mapped[int] = mapped_column(server_default=text("0"), default=0)


class WeChatOAuthState(Base):
    """A web-authorisation ``state``: stored as a digest, bound to the browser that started the flow
    (a cookie's digest), single use and valid ten minutes."""

    __tablename__ = "wechat_oauth_states"
    __table_args__ = (Index("ix_wechat_oauth_states_expires_at", "expires_at"),)

    state_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    browser_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    next_path: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class WeChatPendingBinding(Base):
    """A WeChat identity seen at sign-in but bound to no account yet: it waits (ten minutes, in a cookie
    of the same browser) for the phone number to be verified by SMS code."""

    __tablename__ = "wechat_pending_bindings"
    __table_args__ = (Index("ix_wechat_pending_bindings_expires_at", "expires_at"),)

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    openid: Mapped[str] = mapped_column(String(64))
    unionid: Mapped[str | None] = mapped_column(String(64))
    nickname: Mapped[str | None] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(16))
    next_path: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
