"""Institutions (托育机构), the service modes they offer and their classes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import Base, created_at, updated_at, uuid_pk
from backend.core.errors import register_constraint_messages
from backend.institutions.rules import CLASS_RULES, MODE_PRICE_UNITS


def _in(column: str, values: Any) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


def _case_by_class_type(attr: str) -> str:
    whens = " ".join(f"WHEN '{t}' THEN {getattr(r, attr)}" for t, r in CLASS_RULES.items())
    return f"CASE class_type {whens} END"


MODE_UNIT_CHECK = " OR ".join(
    f"(mode = '{mode}' AND {_in('price_unit', sorted(units))})" for mode, units in MODE_PRICE_UNITS.items()
)


class Institution(Base):
    __tablename__ = "institutions"
    __table_args__ = (
        CheckConstraint("legal_form IN ('public_institution', 'social_organisation', 'for_profit')", name="legal_form"),
        CheckConstraint("filing_status IN ('unfiled', 'submitted', 'filed', 'returned')", name="filing_status"),
        # Set by a trigger when the status becomes 'filed', cleared when it leaves it (migration 0010).
        CheckConstraint("(filing_status = 'filed') = (filed_at IS NOT NULL)", name="filed_at_when_filed"),
        CheckConstraint("ownership IN ('public', 'private')", name="ownership"),
        CheckConstraint("lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180", name="wgs84_range"),
        CheckConstraint(
            "registration_no ~ '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$'", name="registration_no_format"
        ),
        CheckConstraint("jsonb_typeof(opening_hours) = 'array'", name="opening_hours_array"),
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
        CheckConstraint("NOT (is_home_based AND is_kindergarten_class)", name="one_kind"),
        Index("ix_institutions_earth", text("ll_to_earth(lat, lng)"), postgresql_using="gist"),
        Index("ix_institutions_unit_code", "unit_code"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(100))
    legal_form: Mapped[str] = mapped_column(String(24))
    registration_no: Mapped[str] = mapped_column(String(18), unique=True)
    filing_status: Mapped[str] = mapped_column(String(16), server_default=text("'unfiled'"), default="unfiled")
    filed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))  # 备案 approved (filing domain)
    unit_code: Mapped[int] = mapped_column(ForeignKey("units.code"))
    address: Mapped[str] = mapped_column(String(200))
    street: Mapped[str | None] = mapped_column(String(60))  # 街道（乡镇）, from imports: the supply gap by street
    lat: Mapped[float]
    lng: Mapped[float]
    phone: Mapped[str] = mapped_column(String(20))
    opening_hours: Mapped[list[Any]] = mapped_column(server_default=text("'[]'::jsonb"), default=list)
    description: Mapped[str] = mapped_column(Text, server_default=text("''"), default="")
    ownership: Mapped[str] = mapped_column(String(8))
    is_inclusive: Mapped[bool] = mapped_column(server_default=text("false"), default=False)  # 普惠
    is_demonstration: Mapped[bool] = mapped_column(server_default=text("false"), default=False)  # 示范
    is_employer_run: Mapped[bool] = mapped_column(server_default=text("false"), default=False)  # 用人单位举办
    is_community_run: Mapped[bool] = mapped_column(server_default=text("false"), default=False)  # 社区办
    is_kindergarten_class: Mapped[bool] = mapped_column(server_default=text("false"), default=False)  # 幼儿园托班
    is_home_based: Mapped[bool] = mapped_column(server_default=text("false"), default=False)  # 家庭托育点
    is_demo: Mapped[bool] = mapped_column(server_default=text("false"), default=False)
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()


class InstitutionMode(Base):
    """A service mode an institution offers (全日托/半日托/计时托/临时托) and its price in fen (分)."""

    __tablename__ = "institution_modes"
    __table_args__ = (
        CheckConstraint(_in("mode", ("full_day", "half_day", "hourly", "temporary")), name="mode"),
        CheckConstraint(MODE_UNIT_CHECK, name="price_unit_fits_mode"),
        CheckConstraint("price_fen BETWEEN 0 AND 10000000", name="price_range"),
    )

    institution_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), primary_key=True
    )
    mode: Mapped[str] = mapped_column(String(16), primary_key=True)
    price_fen: Mapped[int] = mapped_column(Integer)
    price_unit: Mapped[str] = mapped_column(String(16))


class CareClass(Base):
    """A class (乳儿班/托小班/托大班/混合班). Capacity and carers are checked against the national rules."""

    __tablename__ = "classes"
    __table_args__ = (
        CheckConstraint(_in("class_type", CLASS_RULES), name="class_type"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("carers >= 0", name="carers_nonnegative"),
        CheckConstraint(f"capacity <= {_case_by_class_type('max_children')}", name="class_cap"),
        CheckConstraint(f"capacity <= carers * {_case_by_class_type('children_per_carer')}", name="carer_ratio"),
        CheckConstraint("offline_count >= 0 AND offered_count >= 0 AND enrolled_count >= 0", name="counts_nonnegative"),
        CheckConstraint("offline_count + offered_count + enrolled_count <= capacity", name="places_within_capacity"),
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
        UniqueConstraint("institution_id", "name"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(40))
    class_type: Mapped[str] = mapped_column(String(16))
    capacity: Mapped[int] = mapped_column(SmallInteger)
    carers: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()
    # Places taken: children enrolled before or outside the platform (entered by staff), applications
    # holding an offer (offered or accepted), applications enrolled. Kept in step with the
    # applications table in the same transactions; the CHECK keeps their sum within capacity.
    offline_count: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"), default=0)
    offered_count: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"), default=0)
    enrolled_count: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"), default=0)

    @property
    def places_taken(self) -> int:
        return self.offline_count + self.offered_count + self.enrolled_count


register_constraint_messages(
    {
        "ck_classes_class_cap": (
            "class_cap_exceeded",
            "The class is larger than the national cap for its type",
            "班额超过国家规定上限",
        ),
        "ck_classes_carer_ratio": ("carer_ratio", "Too few carers for this many children", "保育人员配比不足"),
        "ck_classes_places_within_capacity": (
            "capacity_below_enrolled",
            "Capacity cannot go below the places already taken",
            "班额不能低于已入托人数",
        ),
        "uq_classes_institution_id_name": (
            "class_name_taken",
            "A class with this name already exists",
            "班级名称已存在",
        ),
        "uq_institutions_registration_no": (
            "registration_no_taken",
            "This registration number is already registered",
            "该统一社会信用代码已登记",
        ),
        "ck_institutions_one_kind": (
            "flags_conflict",
            "Cannot be both a home-based point and a kindergarten class",
            "家庭托育点与幼儿园托班不能同时选择",
        ),
        "ck_institutions_wgs84_range": (
            "coordinates_out_of_range",
            "Latitude or longitude out of range",
            "经纬度超出范围",
        ),
    }
)
