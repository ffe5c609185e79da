"""Units (districts, counties, the High-tech Zone) and departments."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import Base


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (
        CheckConstraint("kind IN ('district', 'county', 'zone')", name="kind"),
        CheckConstraint("population > 0", name="population_positive"),
    )

    code: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name_zh: Mapped[str] = mapped_column(String(40), unique=True)
    name_en: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    population: Mapped[int]
    population_note: Mapped[str] = mapped_column(String(200))
    center_lat: Mapped[float]
    center_lng: Mapped[float]
    sort_order: Mapped[int] = mapped_column(SmallInteger)


class Department(Base):
    """A city department (市卫健委 …) or a unit's territorial government (区/县政府, 高新区管委会)."""

    __tablename__ = "departments"
    __table_args__ = (
        CheckConstraint("kind IN ('city_department', 'unit_government')", name="kind"),
        CheckConstraint("(kind = 'unit_government') = (unit_code IS NOT NULL)", name="government_has_unit"),
    )

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(80), unique=True)
    short_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(24))
    unit_code: Mapped[int | None] = mapped_column(ForeignKey("units.code"), unique=True)
