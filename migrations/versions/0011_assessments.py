"""Quality assessments (WS/T 821-2023): scores per dimension, DB-computed total and grade, rectification items.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The standard as it was when this migration was written (backend/assessments/standard.py).
DIMENSIONS = (
    ("facilities", 100),
    ("staff", 120),
    ("care", 200),
    ("health", 120),
    ("parenting", 80),
    ("safety", 180),
    ("management", 100),
    ("cooperation", 50),
    ("disclosure", 50),
)
CUTOFFS = (("A", 900), ("B", 750), ("C", 600))
TOTAL = " + ".join(f"score_{key}" for key, _ in DIMENSIONS)
GRADE = "CASE " + " ".join(f"WHEN ({TOTAL}) >= {floor} THEN '{g}'" for g, floor in CUTOFFS) + " ELSE 'D' END"


def upgrade() -> None:
    op.create_table(
        "assessments",
        sa.Column("id", postgresql.UUID(as_uuid=True), server_default=sa.func.gen_random_uuid(), nullable=False),
        sa.Column("institution_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("assessors", postgresql.ARRAY(sa.String(50)), nullable=False),
        *(sa.Column(f"score_{key}", sa.Numeric(4, 1), nullable=False) for key, _ in DIMENSIONS),
        sa.Column("total", sa.Numeric(5, 1), sa.Computed(TOTAL, persisted=True), nullable=False),
        sa.Column("grade", sa.String(1), sa.Computed(GRADE, persisted=True), nullable=False),
        sa.Column("summary", sa.String(200), nullable=False),
        sa.Column("findings", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("status", sa.String(16), server_default=sa.text("'draft'"), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("created_by", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("status IN ('draft', 'published')", name=op.f("ck_assessments_status")),
        sa.CheckConstraint(
            "(status = 'published') = (published_at IS NOT NULL)",
            name=op.f("ck_assessments_published_at_iff_published"),
        ),
        sa.CheckConstraint("cardinality(assessors) BETWEEN 1 AND 10", name=op.f("ck_assessments_assessors_count")),
        sa.CheckConstraint("length(btrim(summary)) > 0", name=op.f("ck_assessments_summary_not_blank")),
        *(
            sa.CheckConstraint(f"score_{key} BETWEEN 0 AND {top}", name=op.f(f"ck_assessments_score_{key}_range"))
            for key, top in DIMENSIONS
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_assessments_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["published_by"], ["accounts.id"], name=op.f("fk_assessments_published_by_accounts"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["accounts.id"], name=op.f("fk_assessments_created_by_accounts"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
    )
    op.create_index("ix_assessments_institution_id", "assessments", ["institution_id", "assessed_on"])
    op.create_index(
        "ix_assessments_latest_published",
        "assessments",
        ["institution_id", sa.text("assessed_on DESC"), sa.text("published_at DESC"), sa.text("id DESC")],
        postgresql_where=sa.text("status = 'published'"),
    )
    op.create_table(
        "assessment_items",
        sa.Column("id", postgresql.UUID(as_uuid=True), server_default=sa.func.gen_random_uuid(), nullable=False),
        sa.Column("assessment_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), server_default=sa.text("'open'"), nullable=False),
        sa.Column("followup_note", sa.String(1000), nullable=True),
        sa.Column("followed_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("followed_up_by", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("response_note", sa.String(1000), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("responded_by", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("status IN ('open', 'rectified')", name=op.f("ck_assessment_items_status")),
        sa.CheckConstraint(
            "status = 'open' OR followed_up_at IS NOT NULL", name=op.f("ck_assessment_items_rectified_is_followed_up")
        ),
        sa.CheckConstraint("length(btrim(description)) > 0", name=op.f("ck_assessment_items_description_not_blank")),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_assessment_items_assessment_id_assessments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["followed_up_by"],
            ["accounts.id"],
            name=op.f("fk_assessment_items_followed_up_by_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["responded_by"],
            ["accounts.id"],
            name=op.f("fk_assessment_items_responded_by_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_items")),
        sa.UniqueConstraint("assessment_id", "position", name=op.f("uq_assessment_items_assessment_id_position")),
    )


def downgrade() -> None:
    op.drop_table("assessment_items")
    op.drop_table("assessments")
