"""Favourites (收藏): an account's favourite institutions, one row per pair.

Revision ID: 0035_pwa_favourites
Revises: 0034_wechat_identities
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035_pwa_favourites"
down_revision: str | None = "0034_wechat_identities"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "favourites",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_favourites_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_favourites_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "institution_id", name=op.f("pk_favourites")),
    )
    op.create_index(op.f("ix_favourites_institution_id"), "favourites", ["institution_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_favourites_institution_id"), table_name="favourites")
    op.drop_table("favourites")
