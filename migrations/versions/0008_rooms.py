"""Mother-and-baby rooms: rooms with opening hours, exceptions and amenities (GiST index for nearby
search), their managers, revisions, ratings and suggested corrections; complaints may target a room.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Is a room open at an instant? Local time is UTC+8 all year (China keeps no daylight saving). A
# dated exception replaces the weekly hours for its day: closed, or its own hours.
ROOM_OPEN_AT = """
CREATE FUNCTION room_open_at(hours jsonb, exceptions jsonb, at timestamptz) RETURNS boolean
LANGUAGE sql STABLE AS $$
    WITH l AS (SELECT (at AT TIME ZONE 'UTC') + interval '8 hours' AS t),
    x AS (
        SELECT e FROM jsonb_array_elements(exceptions) AS e, l WHERE (e->>'date')::date = l.t::date LIMIT 1
    )
    SELECT CASE
        WHEN EXISTS (SELECT 1 FROM x) THEN (
            SELECT NOT coalesce((x.e->>'closed')::boolean, false)
                AND x.e->>'opens' IS NOT NULL
                AND to_char(l.t, 'HH24:MI') >= x.e->>'opens'
                AND to_char(l.t, 'HH24:MI') < x.e->>'closes'
            FROM x, l)
        ELSE EXISTS (
            SELECT 1 FROM jsonb_array_elements(hours) AS h, l
            WHERE h->'days' @> to_jsonb(extract(isodow FROM l.t)::int)
              AND to_char(l.t, 'HH24:MI') >= h->>'opens'
              AND to_char(l.t, 'HH24:MI') < h->>'closes')
    END
$$
"""


def upgrade() -> None:
    op.execute(ROOM_OPEN_AT)
    op.drop_constraint(op.f("ck_uploads_purpose"), "uploads", type_="check")
    op.create_check_constraint(
        op.f("ck_uploads_purpose"), "uploads", "purpose IN ('notice_image', 'complaint_photo', 'room_photo')"
    )
    op.create_table('rooms',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('venue', sa.String(length=100), nullable=False),
    sa.Column('venue_type', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('location_hint', sa.String(length=100), nullable=True),
    sa.Column('unit_code', sa.Integer(), nullable=True),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('lng', sa.Double(), nullable=False),
    sa.Column('opening_hours', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('exceptions', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('amenities', postgresql.ARRAY(sa.String(length=20)), server_default='{}', nullable=False),
    sa.Column('area_m2', sa.SmallInteger(), nullable=True),
    sa.Column('independent', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('managing_body', sa.String(length=100), nullable=True),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('verified', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('verified_on', sa.Date(), nullable=True),
    sa.Column('is_demo', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('version', sa.SmallInteger(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("amenities <@ ARRAY['air_conditioning', 'baby_bed', 'call_button', 'changing_table', 'diaper_vending', 'hot_water_sink', 'lockable_door', 'nursing_chair', 'power_socket', 'wheelchair_access']::varchar[]", name=op.f('ck_rooms_amenities')),
    sa.CheckConstraint("venue_type IN ('transport_hub', 'commercial_centre', 'tourist_area', 'hospital', 'government_hall', 'park', 'other')", name=op.f('ck_rooms_venue_type')),
    sa.CheckConstraint('area_m2 IS NULL OR area_m2 BETWEEN 1 AND 1000', name=op.f('ck_rooms_area_range')),
    sa.CheckConstraint('lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180', name=op.f('ck_rooms_wgs84_range')),
    sa.CheckConstraint('length(btrim(name)) > 0', name=op.f('ck_rooms_name_not_blank')),
    sa.ForeignKeyConstraint(['unit_code'], ['units.code'], name=op.f('fk_rooms_unit_code_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rooms'))
    )
    op.create_index('ix_rooms_earth', 'rooms', [sa.literal_column('ll_to_earth(lat, lng)')], unique=False, postgresql_using='gist')
    op.create_index('ix_rooms_lat_lng', 'rooms', ['lat', 'lng'], unique=False)
    op.create_table('room_managers',
    sa.Column('room_id', sa.UUID(), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_room_managers_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_room_managers_room_id_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('room_id', 'account_id', name=op.f('pk_room_managers'))
    )
    op.create_table('room_ratings',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('room_id', sa.UUID(), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('stars', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden_by', sa.UUID(), nullable=True),
    sa.Column('hidden_reason', sa.String(length=200), nullable=True),
    sa.CheckConstraint('(hidden_at IS NULL) = (hidden_reason IS NULL)', name=op.f('ck_room_ratings_hidden_with_reason')),
    sa.CheckConstraint('stars BETWEEN 1 AND 5', name=op.f('ck_room_ratings_stars')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_room_ratings_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['hidden_by'], ['accounts.id'], name=op.f('fk_room_ratings_hidden_by_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_room_ratings_room_id_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_room_ratings')),
    sa.UniqueConstraint('room_id', 'account_id', name='uq_room_ratings_one_per_user')
    )
    op.create_table('room_suggestions',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('number', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('room_id', sa.UUID(), nullable=True),
    sa.Column('base_version', sa.SmallInteger(), nullable=True),
    sa.Column('changes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('suggested_by', sa.UUID(), nullable=True),
    sa.Column('status', sa.String(length=10), server_default='pending', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.UUID(), nullable=True),
    sa.Column('decision_note', sa.String(length=500), nullable=True),
    sa.CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name=op.f('ck_room_suggestions_decided_when_not_pending')),
    sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name=op.f('ck_room_suggestions_status')),
    sa.ForeignKeyConstraint(['decided_by'], ['accounts.id'], name=op.f('fk_room_suggestions_decided_by_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_room_suggestions_room_id_rooms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['suggested_by'], ['accounts.id'], name=op.f('fk_room_suggestions_suggested_by_accounts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_room_suggestions')),
    sa.UniqueConstraint('number', name=op.f('uq_room_suggestions_number'))
    )
    op.create_index('ix_room_suggestions_pending', 'room_suggestions', ['room_id'], unique=False, postgresql_where=sa.text("status = 'pending'"))
    op.create_table('room_revisions',
    sa.Column('room_id', sa.UUID(), nullable=False),
    sa.Column('version', sa.SmallInteger(), nullable=False),
    sa.Column('facts', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('changed_by', sa.UUID(), nullable=True),
    sa.Column('suggestion_id', sa.UUID(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['changed_by'], ['accounts.id'], name=op.f('fk_room_revisions_changed_by_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_room_revisions_room_id_rooms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['suggestion_id'], ['room_suggestions.id'], name=op.f('fk_room_revisions_suggestion_id_room_suggestions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('room_id', 'version', name=op.f('pk_room_revisions'))
    )
    op.drop_constraint(op.f("ck_complaints_target_type"), "complaints", type_="check")
    op.create_check_constraint(
        op.f("ck_complaints_target_type"), "complaints", "target_type IN ('institution', 'place', 'room')"
    )
    op.add_column('complaints', sa.Column('room_id', sa.UUID(), nullable=True))
    op.create_foreign_key(op.f('fk_complaints_room_id_rooms'), 'complaints', 'rooms', ['room_id'], ['id'], ondelete='RESTRICT')

    op.create_check_constraint(op.f("ck_complaints_room_target"), "complaints", "(target_type = 'room') = (room_id IS NOT NULL)")

def downgrade() -> None:
    op.execute("DELETE FROM uploads WHERE purpose = 'room_photo'")
    op.drop_constraint(op.f("ck_uploads_purpose"), "uploads", type_="check")
    op.create_check_constraint(op.f("ck_uploads_purpose"), "uploads", "purpose IN ('notice_image', 'complaint_photo')")
    op.execute("DROP FUNCTION IF EXISTS room_open_at(jsonb, jsonb, timestamptz)")
    op.drop_constraint(op.f("ck_complaints_room_target"), "complaints", type_="check")
    op.execute("DELETE FROM complaints WHERE target_type = 'room'")
    op.drop_constraint(op.f("ck_complaints_target_type"), "complaints", type_="check")
    op.create_check_constraint(op.f("ck_complaints_target_type"), "complaints", "target_type IN ('institution', 'place')")
    op.drop_constraint(op.f('fk_complaints_room_id_rooms'), 'complaints', type_='foreignkey')
    op.drop_column('complaints', 'room_id')
    op.drop_table('room_revisions')
    op.drop_index('ix_room_suggestions_pending', table_name='room_suggestions', postgresql_where=sa.text("status = 'pending'"))
    op.drop_table('room_suggestions')
    op.drop_table('room_ratings')
    op.drop_table('room_managers')
    op.drop_index('ix_rooms_lat_lng', table_name='rooms')
    op.drop_index('ix_rooms_earth', table_name='rooms', postgresql_using='gist')
    op.drop_table('rooms')
