"""Enrolment and bookings: applications and waitlists, hourly/temporary slots and bookings, the event
outbox and idempotency keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

Classes now count places three ways. The old ``enrolled_count`` becomes ``offline_count`` (children
enrolled outside the platform, entered by staff); ``offered_count`` and a new ``enrolled_count``
count applications. Their sum stays within capacity (CHECK).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('events',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('subject_type', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.UUID(), nullable=False),
    sa.Column('account_ids', postgresql.ARRAY(sa.UUID()), server_default='{}', nullable=False),
    sa.Column('institution_id', sa.UUID(), nullable=True),
    sa.Column('department_codes', postgresql.ARRAY(sa.String(length=32)), server_default='{}', nullable=False),
    sa.Column('unit_code', sa.Integer(), nullable=True),
    sa.Column('urgency', sa.String(length=8), server_default='normal', nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.CheckConstraint("urgency IN ('normal', 'high')", name=op.f('ck_events_urgency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    op.create_index('ix_events_account_ids', 'events', ['account_ids'], unique=False, postgresql_using='gin')
    op.create_index('ix_events_institution_id', 'events', ['institution_id', 'id'], unique=False)
    op.create_index('ix_events_subject', 'events', ['subject_type', 'subject_id', 'id'], unique=False)
    op.create_table('idempotency_keys',
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('status_code', sa.SmallInteger(), nullable=True),
    sa.Column('response', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_idempotency_keys_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_table('bookings',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('child_id', sa.UUID(), nullable=False),
    sa.Column('booked_by', sa.UUID(), nullable=False),
    sa.Column('institution_id', sa.UUID(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('band', sa.String(length=16), nullable=False),
    sa.Column('start_min', sa.SmallInteger(), nullable=False),
    sa.Column('end_min', sa.SmallInteger(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('price_fen', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='booked', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('attendance_marked_at', sa.DateTime(timezone=True), nullable=True),
    postgresql.ExcludeConstraint((sa.column('child_id'), '='), (sa.text('tstzrange(starts_at, ends_at)'), '&&'), where=sa.text("status <> 'cancelled'"), using='gist', name='ex_bookings_child_overlap'),
    sa.CheckConstraint("band IN ('infant', 'toddler', 'older_toddler')", name=op.f('ck_bookings_band')),
    sa.CheckConstraint("mode IN ('hourly', 'temporary')", name=op.f('ck_bookings_mode')),
    sa.CheckConstraint("status IN ('booked', 'cancelled', 'attended', 'no_show')", name=op.f('ck_bookings_status')),
    sa.CheckConstraint('start_min < end_min AND ends_at > starts_at', name=op.f('ck_bookings_time_order')),
    sa.ForeignKeyConstraint(['booked_by'], ['accounts.id'], name=op.f('fk_bookings_booked_by_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_bookings_child_id_children'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_bookings_institution_id_institutions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings'))
    )
    op.create_index('ix_bookings_child_id', 'bookings', ['child_id'], unique=False)
    op.create_index('ix_bookings_institution_day', 'bookings', ['institution_id', 'day'], unique=False)
    op.create_table('slots',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('institution_id', sa.UUID(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('band', sa.String(length=16), nullable=False),
    sa.Column('start_min', sa.SmallInteger(), nullable=False),
    sa.Column('end_min', sa.SmallInteger(), nullable=False),
    sa.Column('capacity', sa.SmallInteger(), nullable=False),
    sa.Column('booked', sa.SmallInteger(), server_default=sa.text('0'), nullable=False),
    postgresql.ExcludeConstraint((sa.column('institution_id'), '='), (sa.column('day'), '='), (sa.column('band'), '='), (sa.text('int4range(start_min, end_min)'), '&&'), using='gist', name='ex_slots_grid'),
    sa.CheckConstraint("band IN ('infant', 'toddler', 'older_toddler')", name=op.f('ck_slots_band')),
    sa.CheckConstraint('capacity >= 0 AND booked >= 0 AND booked <= capacity', name=op.f('ck_slots_booked_within_capacity')),
    sa.CheckConstraint('end_min - start_min IN (30, 60)', name=op.f('ck_slots_granularity')),
    sa.CheckConstraint('start_min >= 0 AND end_min <= 1440 AND start_min % 30 = 0', name=op.f('ck_slots_within_day')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_slots_institution_id_institutions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slots'))
    )
    op.create_table('applications',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('seq', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('child_id', sa.UUID(), nullable=False),
    sa.Column('applicant_id', sa.UUID(), nullable=False),
    sa.Column('institution_id', sa.UUID(), nullable=False),
    sa.Column('class_id', sa.UUID(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.SmallInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('priority_reason', sa.String(length=200), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('offer_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(status = 'offered') = (offer_expires_at IS NOT NULL)", name=op.f('ck_applications_offer_has_expiry')),
    sa.CheckConstraint("mode IN ('full_day', 'half_day')", name=op.f('ck_applications_mode')),
    sa.CheckConstraint("status IN ('accepted', 'ended', 'enrolled', 'expired', 'offered', 'rejected', 'submitted', 'waitlisted', 'withdrawn')", name=op.f('ck_applications_status')),
    sa.ForeignKeyConstraint(['applicant_id'], ['accounts.id'], name=op.f('fk_applications_applicant_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_applications_child_id_children'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['class_id'], ['classes.id'], name=op.f('fk_applications_class_id_classes'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_applications_institution_id_institutions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applications')),
    sa.UniqueConstraint('seq', name=op.f('uq_applications_seq'))
    )
    op.create_index('ix_applications_institution_id', 'applications', ['institution_id', 'status'], unique=False)
    op.create_index('ix_applications_offer_expires_at', 'applications', ['offer_expires_at'], unique=False, postgresql_where=sa.text("status = 'offered'"))
    op.create_index('ix_applications_queue', 'applications', ['class_id', 'status', sa.literal_column('priority DESC'), 'seq'], unique=False)
    op.create_index('uq_applications_active', 'applications', ['child_id', 'institution_id'], unique=True, postgresql_where=sa.text("status IN ('accepted', 'enrolled', 'offered', 'submitted', 'waitlisted')"))
    op.create_index('uq_applications_one_place', 'applications', ['child_id'], unique=True, postgresql_where=sa.text("status IN ('accepted', 'enrolled')"))
    op.drop_constraint(op.f('ck_classes_enrolled_within_capacity'), 'classes', type_='check')
    op.alter_column('classes', 'enrolled_count', new_column_name='offline_count')
    op.add_column('classes', sa.Column('offered_count', sa.SmallInteger(), server_default=sa.text('0'), nullable=False))
    op.add_column('classes', sa.Column('enrolled_count', sa.SmallInteger(), server_default=sa.text('0'), nullable=False))
    op.create_check_constraint(
        op.f('ck_classes_counts_nonnegative'), 'classes', 'offline_count >= 0 AND offered_count >= 0 AND enrolled_count >= 0'
    )
    op.create_check_constraint(
        op.f('ck_classes_places_within_capacity'), 'classes', 'offline_count + offered_count + enrolled_count <= capacity'
    )


def downgrade() -> None:
    op.drop_constraint(op.f('ck_classes_places_within_capacity'), 'classes', type_='check')
    op.drop_constraint(op.f('ck_classes_counts_nonnegative'), 'classes', type_='check')
    op.execute("UPDATE classes SET offline_count = offline_count + offered_count + enrolled_count")
    op.drop_column('classes', 'enrolled_count')
    op.drop_column('classes', 'offered_count')
    op.alter_column('classes', 'offline_count', new_column_name='enrolled_count')
    op.create_check_constraint(op.f('ck_classes_enrolled_within_capacity'), 'classes', 'enrolled_count BETWEEN 0 AND capacity')
    op.drop_index('uq_applications_one_place', table_name='applications', postgresql_where=sa.text("status IN ('accepted', 'enrolled')"))
    op.drop_index('uq_applications_active', table_name='applications', postgresql_where=sa.text("status IN ('accepted', 'enrolled', 'offered', 'submitted', 'waitlisted')"))
    op.drop_index('ix_applications_queue', table_name='applications')
    op.drop_index('ix_applications_offer_expires_at', table_name='applications', postgresql_where=sa.text("status = 'offered'"))
    op.drop_index('ix_applications_institution_id', table_name='applications')
    op.drop_table('applications')
    op.drop_table('slots')
    op.drop_index('ix_bookings_institution_day', table_name='bookings')
    op.drop_index('ix_bookings_child_id', table_name='bookings')
    op.drop_table('bookings')
    op.drop_table('idempotency_keys')
    op.drop_index('ix_events_subject', table_name='events')
    op.drop_index('ix_events_institution_id', table_name='events')
    op.drop_index('ix_events_account_ids', table_name='events', postgresql_using='gin')
    op.drop_table('events')
