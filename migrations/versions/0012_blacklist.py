"""Blacklist (黑名单) entries for institutions and people, and institutions' staff rosters.

People are identified only by a keyed hash (HMAC-SHA256 under ID_HASH_KEY) of their resident ID
number and its last four characters. Partial unique indexes allow one active (unrevoked) entry per
institution and per person.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "blacklist_entries",
        sa.Column("id", postgresql.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("institution_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("id_hash", sa.LargeBinary(), nullable=True),
        sa.Column("person_name", sa.String(40), nullable=True),
        sa.Column("id_last4", sa.String(4), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("department_code", sa.String(32), nullable=False),
        sa.Column("decision_no", sa.String(60), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_until", sa.Date(), nullable=True),
        sa.Column("created_by", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('institution', 'person')", name=op.f("ck_blacklist_entries_kind")),
        sa.CheckConstraint(
            "CASE kind"
            " WHEN 'institution' THEN institution_id IS NOT NULL AND id_hash IS NULL AND person_name IS NULL"
            " AND id_last4 IS NULL"
            " ELSE institution_id IS NULL AND id_hash IS NOT NULL AND person_name IS NOT NULL END",
            name=op.f("ck_blacklist_entries_subject_matches_kind"),
        ),
        sa.CheckConstraint("octet_length(id_hash) = 32", name=op.f("ck_blacklist_entries_id_hash_length")),
        sa.CheckConstraint("id_last4 ~ '^[0-9]{3}[0-9X]$'", name=op.f("ck_blacklist_entries_id_last4_format")),
        sa.CheckConstraint("length(btrim(person_name)) > 0", name=op.f("ck_blacklist_entries_person_name_not_blank")),
        sa.CheckConstraint(
            "length(btrim(reason)) BETWEEN 1 AND 2000", name=op.f("ck_blacklist_entries_reason_not_blank")
        ),
        sa.CheckConstraint("length(btrim(decision_no)) > 0", name=op.f("ck_blacklist_entries_decision_no_not_blank")),
        sa.CheckConstraint(
            "effective_until IS NULL OR effective_until > effective_from",
            name=op.f("ck_blacklist_entries_until_after_from"),
        ),
        sa.CheckConstraint(
            "(revoked_at IS NULL) = (revoked_by IS NULL) AND (revoked_at IS NULL) = (revoke_reason IS NULL)",
            name=op.f("ck_blacklist_entries_revocation_complete"),
        ),
        sa.CheckConstraint(
            "length(btrim(revoke_reason)) > 0", name=op.f("ck_blacklist_entries_revoke_reason_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_blacklist_entries_institution_id_institutions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["department_code"], ["departments.code"], name=op.f("fk_blacklist_entries_department_code_departments")
        ),
        sa.ForeignKeyConstraint(["created_by"], ["accounts.id"], name=op.f("fk_blacklist_entries_created_by_accounts")),
        sa.ForeignKeyConstraint(["revoked_by"], ["accounts.id"], name=op.f("fk_blacklist_entries_revoked_by_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blacklist_entries")),
    )
    op.create_index(
        "uq_blacklist_entries_active_institution",
        "blacklist_entries",
        ["institution_id"],
        unique=True,
        postgresql_where=sa.text("revoked_at IS NULL AND institution_id IS NOT NULL"),
    )
    op.create_index(
        "uq_blacklist_entries_active_person",
        "blacklist_entries",
        ["id_hash"],
        unique=True,
        postgresql_where=sa.text("revoked_at IS NULL AND id_hash IS NOT NULL"),
    )
    op.create_index("ix_blacklist_entries_created_at", "blacklist_entries", ["created_at"])

    op.create_table(
        "staff_members",
        sa.Column("id", postgresql.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("institution_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("display_name", sa.String(40), nullable=False),
        sa.Column("staff_role", sa.String(16), nullable=False),
        sa.Column("id_hash", sa.LargeBinary(), nullable=False),
        sa.Column("id_last4", sa.String(4), nullable=False),
        sa.Column("phone", sa.String(11), nullable=True),
        sa.Column("account_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("grant_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("created_by", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(
            "staff_role IN ('head', 'carer', 'health_worker', 'guard', 'cook', 'other')",
            name=op.f("ck_staff_members_staff_role"),
        ),
        sa.CheckConstraint("length(btrim(display_name)) > 0", name=op.f("ck_staff_members_display_name_not_blank")),
        sa.CheckConstraint("octet_length(id_hash) = 32", name=op.f("ck_staff_members_id_hash_length")),
        sa.CheckConstraint("id_last4 ~ '^[0-9]{3}[0-9X]$'", name=op.f("ck_staff_members_id_last4_format")),
        sa.CheckConstraint("phone ~ '^1[3-9][0-9]{9}$'", name=op.f("ck_staff_members_phone_format")),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_staff_members_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_staff_members_account_id_accounts"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"], ["role_grants.id"], name=op.f("fk_staff_members_grant_id_role_grants"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["accounts.id"], name=op.f("fk_staff_members_created_by_accounts"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_members")),
        sa.UniqueConstraint("institution_id", "id_hash", name=op.f("uq_staff_members_institution_id_id_hash")),
    )
    op.create_index("ix_staff_members_id_hash", "staff_members", ["id_hash"])


def downgrade() -> None:
    op.drop_table("staff_members")
    op.drop_table("blacklist_entries")
