"""Children's health records (医育结合): the health profile (with the guardian's consent), growth
measurements and follow-up items.

Everything that says something about a child's health is encrypted at the application layer like
the child's name and birth date (``backend/core/crypto.py``; CHECK constraints admit only
ciphertexts): the sex in the profile, the measured readings, the follow-up reasons. What stays in
clear is what the statistics count — dates, ids, statuses — never a value.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, String, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.crypto import EncryptedText
from backend.core.db import Base, created_at, uuid_pk


def _encrypted(column: str) -> CheckConstraint:
    return CheckConstraint(f"octet_length({column}) >= 30 AND get_byte({column}, 0) = 1", name=f"{column}_encrypted")


class ChildHealthProfile(Base):
    """A guardian's consent to the processing of the child's health data, and the child's sex (which
    the growth standards need). Staff record nothing about a child without it."""

    __tablename__ = "child_health_profiles"
    __table_args__ = (
        _encrypted("sex"),
        CheckConstraint("policy_version ~ '^[0-9]{4}-[0-9]{2}$'", name="policy_version_format"),
    )

    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"), primary_key=True)
    sex: Mapped[str] = mapped_column(EncryptedText("child_health_profiles.sex"))
    policy_version: Mapped[str] = mapped_column(String(16))
    consented_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    consented_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class GrowthMeasurement(Base):
    """One measurement session: length/height, weight, head circumference (any of them; at least one),
    encrypted together as JSON in ``readings``."""

    __tablename__ = "growth_measurements"
    __table_args__ = (
        _encrypted("readings"),
        Index("ix_growth_measurements_child_id", "child_id", "measured_on"),
        Index("ix_growth_measurements_institution_id", "institution_id", "measured_on"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    institution_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("institutions.id", ondelete="SET NULL"))
    measured_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    measured_on: Mapped[dt.date] = mapped_column(Date)
    readings: Mapped[str] = mapped_column(EncryptedText("growth_measurements.readings"))
    created_at: Mapped[dt.datetime] = created_at()


class HealthFollowUp(Base):
    """An item for the institution's staff: a child whose values need attention (beyond ±2 SD, or
    crossing two centile lines). ``reasons`` (encrypted JSON list of codes) says which."""

    __tablename__ = "health_follow_ups"
    __table_args__ = (
        _encrypted("reasons"),
        CheckConstraint("kind IN ('growth')", name="kind"),
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="closed_has_time"),
        Index("ix_health_follow_ups_open", "institution_id", "created_at", postgresql_where=text("status = 'open'")),
        Index("ix_health_follow_ups_child_id", "child_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    measurement_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("growth_measurements.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), server_default="growth")
    reasons: Mapped[str] = mapped_column(EncryptedText("health_follow_ups.reasons"))
    status: Mapped[str] = mapped_column(String(8), server_default="open")
    created_at: Mapped[dt.datetime] = created_at()
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))


SYMPTOMS = ("fever", "rash", "cough", "diarrhoea", "other")
OUTCOMES = ("stay", "send_home", "isolation")


class DailyHealthCheck(Base):
    """One child's morning or afternoon check (晨午检). ``findings`` (encrypted JSON: symptoms,
    temperature, note) holds what was seen; ``well`` and ``outcome`` stay in clear for the counts of
    illness absences per class and day."""

    __tablename__ = "daily_health_checks"
    __table_args__ = (
        _encrypted("findings"),
        CheckConstraint("session IN ('morning', 'afternoon')", name="session"),
        CheckConstraint("outcome IN ('stay', 'send_home', 'isolation')", name="outcome"),
        CheckConstraint("well = (outcome = 'stay') OR NOT well", name="well_stays"),
        UniqueConstraint("child_id", "check_date", "session"),
        Index("ix_daily_health_checks_class_id", "class_id", "check_date"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    class_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))
    check_date: Mapped[dt.date] = mapped_column(Date)
    session: Mapped[str] = mapped_column(String(16))
    well: Mapped[bool]
    outcome: Mapped[str] = mapped_column(String(16))
    findings: Mapped[str] = mapped_column(EncryptedText("daily_health_checks.findings"))
    checked_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at()


class HealthClusterAlert(Base):
    """≥ 3 children of one class with the same symptom within 3 days: an alert for the institution's
    staff (its health worker) and the county's health officers. Counts only; no child data."""

    __tablename__ = "health_cluster_alerts"
    __table_args__ = (
        CheckConstraint("symptom IN ('fever', 'rash', 'cough', 'diarrhoea', 'other')", name="symptom"),
        CheckConstraint("child_count >= 3", name="child_count"),
        Index("ix_health_cluster_alerts_class_id", "class_id", "symptom", "last_day"),
        Index("ix_health_cluster_alerts_unit_code", "unit_code", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    class_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))
    unit_code: Mapped[int]
    symptom: Mapped[str] = mapped_column(String(16))
    first_day: Mapped[dt.date] = mapped_column(Date)
    last_day: Mapped[dt.date] = mapped_column(Date)
    child_count: Mapped[int]
    created_at: Mapped[dt.datetime] = created_at()
