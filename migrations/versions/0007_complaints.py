"""Complaints from the public: complaints (routed to departments, tracked by a digest of their code),
their history of status changes with public and internal notes, and registered Open311 clients.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('open311_clients',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('key_digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_open311_clients')),
    sa.UniqueConstraint('key_digest', name=op.f('uq_open311_clients_key_digest'))
    )
    op.create_table('complaints',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('number', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('tracking_digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('category', sa.String(length=24), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('target_type', sa.String(length=12), nullable=False),
    sa.Column('institution_id', sa.UUID(), nullable=True),
    sa.Column('place_name', sa.String(length=100), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lng', sa.Float(), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('unit_code', sa.Integer(), nullable=True),
    sa.Column('department_codes', postgresql.ARRAY(sa.String(length=32)), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='received', nullable=False),
    sa.Column('reporter_id', sa.UUID(), nullable=True),
    sa.Column('contact_name', sa.String(length=40), nullable=True),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('source', sa.String(length=8), server_default='app', nullable=False),
    sa.Column('open311_client_id', sa.UUID(), nullable=True),
    sa.Column('duplicate_of', sa.UUID(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('ack_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolve_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'duplicate') = (duplicate_of IS NOT NULL)", name=op.f('ck_complaints_duplicate_has_original')),
    sa.CheckConstraint("(target_type = 'institution') = (institution_id IS NOT NULL)", name=op.f('ck_complaints_institution_target')),
    sa.CheckConstraint("category IN ('child_safety', 'food_safety', 'fire_safety', 'health_hygiene', 'fees', 'unregistered', 'staff_conduct', 'kindergarten_class', 'nursing_room', 'other')", name=op.f('ck_complaints_category')),
    sa.CheckConstraint("source IN ('app', 'open311')", name=op.f('ck_complaints_source')),
    sa.CheckConstraint("status IN ('received', 'accepted', 'investigating', 'resolved', 'rejected', 'duplicate', 'referred')", name=op.f('ck_complaints_status')),
    sa.CheckConstraint("target_type IN ('institution', 'place')", name=op.f('ck_complaints_target_type')),
    sa.CheckConstraint('(lat IS NULL) = (lng IS NULL)', name=op.f('ck_complaints_lat_lng_together')),
    sa.CheckConstraint('duplicate_of <> id', name=op.f('ck_complaints_not_own_duplicate')),
    sa.CheckConstraint('lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180', name=op.f('ck_complaints_wgs84_range')),
    sa.CheckConstraint('lat IS NOT NULL OR address IS NOT NULL OR institution_id IS NOT NULL', name=op.f('ck_complaints_has_location')),
    sa.CheckConstraint('length(description) BETWEEN 1 AND 4000', name=op.f('ck_complaints_description_length')),
    sa.ForeignKeyConstraint(['duplicate_of'], ['complaints.id'], name=op.f('fk_complaints_duplicate_of_complaints')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_complaints_institution_id_institutions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['open311_client_id'], ['open311_clients.id'], name=op.f('fk_complaints_open311_client_id_open311_clients')),
    sa.ForeignKeyConstraint(['reporter_id'], ['accounts.id'], name=op.f('fk_complaints_reporter_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_code'], ['units.code'], name=op.f('fk_complaints_unit_code_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints')),
    sa.UniqueConstraint('number', name=op.f('uq_complaints_number')),
    sa.UniqueConstraint('tracking_digest', name=op.f('uq_complaints_tracking_digest'))
    )
    op.create_index('ix_complaints_created_at', 'complaints', ['created_at'], unique=False)
    op.create_index('ix_complaints_department_codes', 'complaints', ['department_codes'], unique=False, postgresql_using='gin')
    op.create_index('ix_complaints_earth', 'complaints', [sa.literal_column('ll_to_earth(lat, lng)')], unique=False, postgresql_using='gist', postgresql_where=sa.text('lat IS NOT NULL'))
    op.create_index('ix_complaints_institution_id', 'complaints', ['institution_id'], unique=False, postgresql_where=sa.text('institution_id IS NOT NULL'))
    op.create_index('ix_complaints_reporter_id', 'complaints', ['reporter_id'], unique=False, postgresql_where=sa.text('reporter_id IS NOT NULL'))
    op.create_table('complaint_updates',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('complaint_id', sa.UUID(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('previous_status', sa.String(length=16), nullable=True),
    sa.Column('public_note', sa.Text(), nullable=True),
    sa.Column('internal_note', sa.Text(), nullable=True),
    sa.Column('officer_id', sa.UUID(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_complaint_updates_complaint_id_complaints'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['officer_id'], ['accounts.id'], name=op.f('fk_complaint_updates_officer_id_accounts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_updates'))
    )
    op.create_index('ix_complaint_updates_complaint_id', 'complaint_updates', ['complaint_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_complaint_updates_complaint_id', table_name='complaint_updates')
    op.drop_table('complaint_updates')
    op.drop_index('ix_complaints_reporter_id', table_name='complaints', postgresql_where=sa.text('reporter_id IS NOT NULL'))
    op.drop_index('ix_complaints_institution_id', table_name='complaints', postgresql_where=sa.text('institution_id IS NOT NULL'))
    op.drop_index('ix_complaints_earth', table_name='complaints', postgresql_using='gist', postgresql_where=sa.text('lat IS NOT NULL'))
    op.drop_index('ix_complaints_department_codes', table_name='complaints', postgresql_using='gin')
    op.drop_index('ix_complaints_created_at', table_name='complaints')
    op.drop_table('complaints')
    op.drop_table('open311_clients')
