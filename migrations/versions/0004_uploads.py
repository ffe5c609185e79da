"""Uploads: one row per stored file (the bytes live in the storage backend, under a random key),
attached to at most one subject at one position of its ordered list.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28

``purpose`` starts with 'notice_image'; complaint photos (anonymous: ``owner_id`` will become
nullable) and filing documents will widen the check constraint. The three attachment columns are
all NULL (unattached: the maintenance job deletes the upload after 24 hours) or all set.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('uploads',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('owner_id', sa.UUID(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('byte_size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('subject_type', sa.String(length=32), nullable=True),
    sa.Column('subject_id', sa.UUID(), nullable=True),
    sa.Column('position', sa.SmallInteger(), nullable=True),
    sa.CheckConstraint("purpose IN ('notice_image')", name=op.f('ck_uploads_purpose')),
    sa.CheckConstraint('byte_size > 0 AND width > 0 AND height > 0', name=op.f('ck_uploads_sizes_positive')),
    sa.CheckConstraint('num_nulls(subject_type, subject_id, position) IN (0, 3)', name=op.f('ck_uploads_attachment_complete')),
    sa.CheckConstraint('position >= 0', name=op.f('ck_uploads_position_non_negative')),
    sa.CheckConstraint("subject_type ~ '^[a-z][a-z_]{0,31}$'", name=op.f('ck_uploads_subject_type_format')),
    sa.ForeignKeyConstraint(['owner_id'], ['accounts.id'], name=op.f('fk_uploads_owner_id_accounts'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_uploads')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_uploads_storage_key')),
    sa.UniqueConstraint('subject_type', 'subject_id', 'position', name=op.f('uq_uploads_subject_type_subject_id_position'))
    )
    op.create_index('ix_uploads_owner_id', 'uploads', ['owner_id'], unique=False)
    op.create_index('ix_uploads_unattached', 'uploads', ['created_at'], unique=False, postgresql_where=sa.text('subject_id IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_uploads_unattached', table_name='uploads', postgresql_where=sa.text('subject_id IS NULL'))
    op.drop_index('ix_uploads_owner_id', table_name='uploads')
    op.drop_table('uploads')
