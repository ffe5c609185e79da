"""Parenting guidance (育儿指导): events hosted by institutions and health centres, and families'
registrations (places counted like hourly-care slots; one live registration per account and event).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "guidance_events",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("host_institution_id", sa.UUID(), nullable=True),
        sa.Column("host_name", sa.String(100), nullable=False),
        sa.Column("unit_code", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lng", sa.Float(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("registered", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("status", sa.String(16), server_default=sa.text("'published'"), nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('parent_class', 'parent_child_activity', 'home_visit')", name=op.f("ck_guidance_events_kind")
        ),
        sa.CheckConstraint("status IN ('published', 'cancelled')", name=op.f("ck_guidance_events_status")),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_guidance_events_capacity_positive")),
        sa.CheckConstraint(
            "registered >= 0 AND registered <= capacity", name=op.f("ck_guidance_events_registered_within_capacity")
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_guidance_events_time_order")),
        sa.CheckConstraint(
            "lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180", name=op.f("ck_guidance_events_wgs84_range")
        ),
        sa.ForeignKeyConstraint(
            ["host_institution_id"],
            ["institutions.id"],
            name=op.f("fk_guidance_events_host_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["unit_code"], ["units.code"], name=op.f("fk_guidance_events_unit_code_units")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["accounts.id"], name=op.f("fk_guidance_events_created_by_accounts"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guidance_events")),
    )
    op.create_index("ix_guidance_events_unit_starts", "guidance_events", ["unit_code", "starts_at"])
    op.create_index("ix_guidance_events_starts_at", "guidance_events", ["starts_at"])
    op.create_index("ix_guidance_events_host_institution_id", "guidance_events", ["host_institution_id", "starts_at"])
    op.create_table(
        "guidance_registrations",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("child_id", sa.UUID(), nullable=True),
        sa.Column("status", sa.String(16), server_default=sa.text("'registered'"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attendance_marked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('registered', 'cancelled', 'attended', 'no_show')",
            name=op.f("ck_guidance_registrations_status"),
        ),
        sa.CheckConstraint(
            "(status = 'cancelled') = (cancelled_at IS NOT NULL)", name=op.f("ck_guidance_registrations_cancelled_at")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["guidance_events.id"],
            name=op.f("fk_guidance_registrations_event_id_guidance_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_guidance_registrations_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_guidance_registrations_child_id_children"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guidance_registrations")),
    )
    op.create_index(
        "uq_guidance_registrations_active",
        "guidance_registrations",
        ["event_id", "account_id"],
        unique=True,
        postgresql_where=sa.text("status <> 'cancelled'"),
    )
    op.create_index("ix_guidance_registrations_account_id", "guidance_registrations", ["account_id", "created_at"])
    op.create_index("ix_guidance_registrations_child_id", "guidance_registrations", ["child_id"])


def downgrade() -> None:
    op.drop_table("guidance_registrations")
    op.drop_table("guidance_events")
