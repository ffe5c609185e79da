"""WeChat: identities bound to accounts, subscriptions, the shared token cache, sign-in states.

* ``wechat_identities``: one per account; openid and unionid unique (an identity signs in one account).
* ``wechat_subscriptions``: the event kinds a person accepted in WeChat's subscription dialog.
* ``wechat_credentials``: the access_token and jsapi_ticket shared by all processes; both rows are
  created here so that a refresh always has a row to lock.
* ``wechat_oauth_states`` and ``wechat_pending_bindings``: short-lived, single-use, stored as digests.

Revision ID: 0034_wechat_identities
Revises: 0033_sms
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034_wechat_identities"
down_revision: str | None = "0033_sms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "wechat_identities",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("openid", sa.String(64), nullable=False),
        sa.Column("unionid", sa.String(64), nullable=True),
        sa.Column("nickname", sa.String(64), nullable=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("created_at", _TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("last_sign_in_at", _TS, nullable=True),
        sa.Column("channel_on", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("channel_off_reason", sa.String(64), nullable=True),
        sa.Column("channel_off_at", _TS, nullable=True),
        sa.CheckConstraint("scope IN ('snsapi_base', 'snsapi_userinfo')", name=op.f("ck_wechat_identities_scope")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_wechat_identities_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_wechat_identities")),
        sa.UniqueConstraint("openid", name=op.f("uq_wechat_identities_openid")),
        sa.UniqueConstraint("unionid", name=op.f("uq_wechat_identities_unionid")),
    )
    op.create_table(
        "wechat_subscriptions",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("event_kind", sa.String(16), nullable=False),
        sa.Column("created_at", _TS, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "event_kind IN ('enrolment', 'bookings', 'notices', 'complaints')",
            name=op.f("ck_wechat_subscriptions_event_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["wechat_identities.account_id"],
            name=op.f("fk_wechat_subscriptions_account_id_wechat_identities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "event_kind", name=op.f("pk_wechat_subscriptions")),
    )
    op.create_table(
        "wechat_credentials",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("expires_at", _TS, nullable=True),
        sa.Column("refreshed_at", _TS, nullable=True),
        sa.Column("refresh_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint("kind IN ('access_token', 'jsapi_ticket')", name=op.f("ck_wechat_credentials_kind")),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_wechat_credentials")),
    )
    op.execute("INSERT INTO wechat_credentials (kind) VALUES ('access_token'), ('jsapi_ticket')")
    op.create_table(
        "wechat_oauth_states",
        sa.Column("state_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("browser_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("next_path", sa.String(200), nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("used_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_wechat_oauth_states")),
    )
    op.create_index("ix_wechat_oauth_states_expires_at", "wechat_oauth_states", ["expires_at"])
    op.create_table(
        "wechat_pending_bindings",
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("openid", sa.String(64), nullable=False),
        sa.Column("unionid", sa.String(64), nullable=True),
        sa.Column("nickname", sa.String(64), nullable=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("next_path", sa.String(200), nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("used_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_wechat_pending_bindings")),
    )
    op.create_index("ix_wechat_pending_bindings_expires_at", "wechat_pending_bindings", ["expires_at"])


def downgrade() -> None:
    op.drop_table("wechat_pending_bindings")
    op.drop_table("wechat_oauth_states")
    op.drop_table("wechat_credentials")
    op.drop_table("wechat_subscriptions")
    op.drop_table("wechat_identities")
