"""WeChat subscription messages as a channel of the notification pipeline.

* ``notification_preferences.wechat``: per account and category, may news reach the person as a WeChat
  subscription message (default yes; WeChat's own subscription dialog still decides per event kind).

The ``wechat`` rows of ``notify_deliveries`` (already allowed by its channel check) are the queue.

Revision ID: 0037_channels_wechat
Revises: 0036_complaint_numbers
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0037_channels_wechat"
down_revision: str | None = "0036_complaint_numbers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "notification_preferences", sa.Column("wechat", sa.Boolean(), server_default=sa.text("true"), nullable=False)
    )


def downgrade() -> None:
    op.drop_column("notification_preferences", "wechat")
