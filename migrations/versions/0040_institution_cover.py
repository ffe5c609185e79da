"""Institution cover photos: the upload purpose 'institution_cover'.

A cover is an upload attached to its institution (subject type 'institution_cover', position 0), so
no column is needed: the unique (subject_type, subject_id, position) index finds it.

Revision ID: 0040_institution_cover
Revises: 0037_channels_wechat
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0040_institution_cover"
down_revision: str | None = "0037_channels_wechat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = "purpose IN ('notice_image', 'complaint_photo', 'room_photo', 'filing_document')"
AFTER = "purpose IN ('notice_image', 'complaint_photo', 'room_photo', 'filing_document', 'institution_cover')"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_uploads_purpose"), "uploads", type_="check")
    op.create_check_constraint(op.f("ck_uploads_purpose"), "uploads", AFTER)


def downgrade() -> None:
    # The objects of deleted rows are left to storage; covers are public photos, not personal data.
    op.execute("DELETE FROM uploads WHERE purpose = 'institution_cover'")
    op.drop_constraint(op.f("ck_uploads_purpose"), "uploads", type_="check")
    op.create_check_constraint(op.f("ck_uploads_purpose"), "uploads", BEFORE)
