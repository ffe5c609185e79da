"""Imports: import runs (history and dry-run reports), population by area, rooms' source ids.

* ``import_runs``: one row per dry run of a spreadsheet (the file, its report, counts), marked
  applied in the same transaction as the writes (see ``backend/imports``).
* ``population_areas``: residents and children aged 0-3 per unit (street '') or street / community
  and year, from the statistics bureau's spreadsheets; the supply-gap statistics divide by these.
* ``institutions.street``: the street (街道/乡镇) an imported institution lies in, for the supply gap
  by street.
* ``rooms.source_id``: the stable id a register (trade union, women's federation) gives a room, so a
  re-import updates the same room.

Revision ID: 0038_import
Revises: 0040_institution_cover
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0038_import"
down_revision: str | None = "0040_institution_cover"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_runs",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("file_format", sa.String(length=8), nullable=False),
        sa.Column("crs", sa.String(length=8), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("warning_count", sa.Integer(), nullable=False),
        sa.Column("problems", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=8), server_default="checked", nullable=False),
        sa.Column("via", sa.String(length=4), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("applied_by", sa.Uuid(), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("(status = 'applied') = (applied_at IS NOT NULL)", name=op.f("ck_import_runs_applied_at_when_applied")),
        sa.CheckConstraint("crs IN ('wgs84', 'gcj02', 'bd09')", name=op.f("ck_import_runs_crs")),
        sa.CheckConstraint("file_format IN ('xlsx', 'csv')", name=op.f("ck_import_runs_file_format")),
        sa.CheckConstraint("kind IN ('institutions', 'rooms', 'population')", name=op.f("ck_import_runs_kind")),
        sa.CheckConstraint("status IN ('checked', 'applied')", name=op.f("ck_import_runs_status")),
        sa.CheckConstraint("via IN ('web', 'cli')", name=op.f("ck_import_runs_via")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_runs")),
    )
    op.create_index("ix_import_runs_created_at", "import_runs", ["created_at"], unique=False)
    op.create_table(
        "population_areas",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("unit_code", sa.Integer(), nullable=False),
        sa.Column("street", sa.String(length=60), server_default="", nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("residents", sa.Integer(), nullable=False),
        sa.Column("children_0_3", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("children_0_3 >= 0 AND children_0_3 <= residents", name=op.f("ck_population_areas_children_within_residents")),
        sa.CheckConstraint("residents > 0", name=op.f("ck_population_areas_residents_positive")),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_population_areas_year_range")),
        sa.ForeignKeyConstraint(["unit_code"], ["units.code"], name=op.f("fk_population_areas_unit_code_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_population_areas")),
        sa.UniqueConstraint("unit_code", "street", "year", name="uq_population_areas_area_year"),
    )
    op.add_column("rooms", sa.Column("source_id", sa.String(length=64), nullable=True))
    op.add_column("institutions", sa.Column("street", sa.String(length=60), nullable=True))
    op.create_unique_constraint(op.f("uq_rooms_source_id"), "rooms", ["source_id"])


def downgrade() -> None:
    op.drop_column("institutions", "street")
    op.drop_constraint(op.f("uq_rooms_source_id"), "rooms", type_="unique")
    op.drop_column("rooms", "source_id")
    op.drop_table("population_areas")
    op.drop_index("ix_import_runs_created_at", table_name="import_runs")
    op.drop_table("import_runs")
