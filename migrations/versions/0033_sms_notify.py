"""Notifications: the delivery log and SMS queue, SMS counters, an SMS preference per category.

* ``notify_deliveries``: one row per event, person and channel (websocket, push, sms; wechat later),
  with ``UNIQUE (event_id, account_id, channel)`` — exactly one SMS per event per person.
* ``sms_counters``: SMS per Beijing day, city-wide (``city``) and per account (the daily cap).
* ``sms_rate_buckets``: the token bucket of provider requests, shared by all processes (SMS_MAX_QPS).
* ``notification_preferences.sms``: may critical news of this category reach the person by SMS.
* the ``notify`` cursor of ``delivery_cursors`` starts at the current end of the outbox.

Revision ID: 0033_sms
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033_sms"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notify_deliveries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=64), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("link_token", sa.String(length=16), nullable=True),
        sa.Column("provider_serial", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "channel IN ('websocket', 'push', 'sms', 'wechat')", name=op.f("ck_notify_deliveries_channel")
        ),
        sa.CheckConstraint(
            "status IN ('waiting', 'queued', 'sending', 'sent', 'failed', 'acknowledged', 'skipped')",
            name=op.f("ck_notify_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_notify_deliveries_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_notify_deliveries_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_deliveries")),
        sa.UniqueConstraint("event_id", "account_id", "channel", name="uq_notify_deliveries_once"),
        sa.UniqueConstraint("link_token", name=op.f("uq_notify_deliveries_link_token")),
    )
    op.create_index(
        "ix_notify_deliveries_due",
        "notify_deliveries",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('waiting', 'queued', 'sending')"),
    )
    op.create_index("ix_notify_deliveries_account_id", "notify_deliveries", ["account_id", "id"], unique=False)
    op.create_index("ix_notify_deliveries_created_at", "notify_deliveries", ["created_at"], unique=False)
    op.create_table(
        "sms_counters",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("used", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("day", "scope", name=op.f("pk_sms_counters")),
    )
    op.create_table(
        "sms_rate_buckets",
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("tokens", sa.Double(), nullable=False),
        sa.Column("refilled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sms_rate_buckets")),
    )
    op.execute("INSERT INTO sms_rate_buckets (name, tokens, refilled_at) VALUES ('sms', 0, now())")
    op.add_column(
        "notification_preferences", sa.Column("sms", sa.Boolean(), server_default=sa.text("true"), nullable=False)
    )
    op.execute("INSERT INTO delivery_cursors (name, position) SELECT 'notify', coalesce(max(position), 0) FROM events")


def downgrade() -> None:
    op.execute("DELETE FROM delivery_cursors WHERE name = 'notify'")
    op.drop_column("notification_preferences", "sms")
    op.drop_table("sms_rate_buckets")
    op.drop_table("sms_counters")
    op.drop_index("ix_notify_deliveries_created_at", table_name="notify_deliveries")
    op.drop_index("ix_notify_deliveries_account_id", table_name="notify_deliveries")
    op.drop_index(
        "ix_notify_deliveries_due",
        table_name="notify_deliveries",
        postgresql_where=sa.text("status IN ('waiting', 'queued', 'sending')"),
    )
    op.drop_table("notify_deliveries")
