"""Import runs (the history: who imported what, when, with what result) and the imported population.

An ``ImportRun`` is created by a dry run (status ``checked``) with the file itself, its report and
counts; applying it sets ``applied_at``/``applied_by`` in the same transaction as the writes, once
(``WHERE status = 'checked'``). Population figures are per unit (``street = ''``) or per street /
community, per year; the units table keeps its approximate demo population as the fallback.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, LargeBinary, SmallInteger, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import Base, created_at, updated_at, uuid_pk

IMPORT_KINDS = ("institutions", "rooms", "population")


class ImportRun(Base):
    __tablename__ = "import_runs"
    __table_args__ = (
        CheckConstraint("kind IN ('institutions', 'rooms', 'population')", name="kind"),
        CheckConstraint("file_format IN ('xlsx', 'csv')", name="file_format"),
        CheckConstraint("crs IN ('wgs84', 'gcj02', 'bd09')", name="crs"),
        CheckConstraint("status IN ('checked', 'applied')", name="status"),
        CheckConstraint("(status = 'applied') = (applied_at IS NOT NULL)", name="applied_at_when_applied"),
        CheckConstraint("via IN ('web', 'cli')", name="via"),
        Index("ix_import_runs_created_at", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(200))
    file_format: Mapped[str] = mapped_column(String(8))
    crs: Mapped[str] = mapped_column(String(8))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    row_count: Mapped[int] = mapped_column(Integer)
    error_count: Mapped[int] = mapped_column(Integer)
    warning_count: Mapped[int] = mapped_column(Integer)
    problems: Mapped[list[Any]] = mapped_column(JSONB)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB)  # from the dry run; replaced by the applied counts
    status: Mapped[str] = mapped_column(String(8), default="checked", server_default="checked")
    via: Mapped[str] = mapped_column(String(4))
    # No foreign keys: the history outlives accounts (like the audit log).
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[dt.datetime] = created_at()
    applied_by: Mapped[uuid.UUID | None]
    applied_at: Mapped[dt.datetime | None]


class PopulationArea(Base):
    """Residents and children aged 0-3 of a unit (``street = ''``) or of a street / community."""

    __tablename__ = "population_areas"
    __table_args__ = (
        UniqueConstraint("unit_code", "street", "year", name="uq_population_areas_area_year"),
        CheckConstraint("residents > 0", name="residents_positive"),
        CheckConstraint("children_0_3 >= 0 AND children_0_3 <= residents", name="children_within_residents"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    unit_code: Mapped[int] = mapped_column(ForeignKey("units.code"))
    street: Mapped[str] = mapped_column(String(60), default="", server_default="")
    year: Mapped[int] = mapped_column(SmallInteger)
    residents: Mapped[int] = mapped_column(Integer)
    children_0_3: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()
