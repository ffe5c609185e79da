"""Complaint evidence: uploads may have no owner (photos from anonymous reporters) and may be
complaint photos.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28

``owner_id`` keeps its foreign key (RESTRICT) and becomes nullable: NULL means "uploaded without an
account". ``purpose`` gains 'complaint_photo'. Downgrading refuses while uploads exist that the older
schema cannot hold (no owner, or a complaint photo): deleting them here would leave their stored
objects behind, and they are evidence. Remove them through the app first (complaints downgrade
before this revision).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column('uploads', 'owner_id', existing_type=sa.UUID(), nullable=True)
    op.drop_constraint(op.f('ck_uploads_purpose'), 'uploads', type_='check')
    op.create_check_constraint(op.f('ck_uploads_purpose'), 'uploads', "purpose IN ('notice_image', 'complaint_photo')")


def downgrade() -> None:
    left = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM uploads WHERE owner_id IS NULL OR purpose <> 'notice_image'")
    )
    if left:
        raise RuntimeError(
            f"cannot downgrade below 0006: {left} uploads have no owner or are complaint photos; delete them first"
        )
    op.drop_constraint(op.f('ck_uploads_purpose'), 'uploads', type_='check')
    op.create_check_constraint(op.f('ck_uploads_purpose'), 'uploads', "purpose IN ('notice_image')")
    op.alter_column('uploads', 'owner_id', existing_type=sa.UUID(), nullable=False)
