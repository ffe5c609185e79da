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

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.crypto import EncryptedText
from backend.core.db import Base, created_at, updated_at, uuid_pk


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
    """An item for the institution's staff: a child whose growth needs attention (beyond ±2 SD, or
    crossing two centile lines), an entry check due at the end of a grace period, or a catch-up
    vaccination due by a deadline. ``reasons`` (encrypted JSON list of codes) says which."""

    __tablename__ = "health_follow_ups"
    __table_args__ = (
        _encrypted("reasons"),
        CheckConstraint("kind IN ('growth', 'entry_check', 'vaccination')", name="kind"),
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
    due_on: Mapped[dt.date | None] = mapped_column(Date)  # entry check (grace period), catch-up deadline


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


class EntryHealthCheck(Base):
    """入托体检: the date and the result in clear (the gate and the statistics count them); the hospital,
    the reasons of a failed check and the examined items encrypted in ``record``. The report (an image or
    a PDF) is an upload attached to the row (subject ``entry_health_check``)."""

    __tablename__ = "entry_health_checks"
    __table_args__ = (
        _encrypted("record"),
        CheckConstraint("source IN ('guardian', 'staff')", name="source"),
        Index("ix_entry_health_checks_child_id", "child_id", "examined_on"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    institution_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("institutions.id", ondelete="SET NULL"))
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(16))
    examined_on: Mapped[dt.date] = mapped_column(Date)
    passed: Mapped[bool]
    record: Mapped[str] = mapped_column(EncryptedText("entry_health_checks.record"))
    created_at: Mapped[dt.datetime] = created_at()


class VaccinationCheck(Base):
    """查验预防接种证: complete, or missing doses (encrypted JSON list of vaccine codes and dose numbers of
    ``schedule.SCHEDULE``) with a catch-up deadline."""

    __tablename__ = "vaccination_checks"
    __table_args__ = (
        _encrypted("missing"),
        CheckConstraint("status IN ('complete', 'missing')", name="status"),
        CheckConstraint("(status = 'missing') = (catch_up_deadline IS NOT NULL)", name="deadline_when_missing"),
        Index("ix_vaccination_checks_child_id", "child_id", "checked_on"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    institution_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("institutions.id", ondelete="SET NULL"))
    checked_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    checked_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    missing: Mapped[str] = mapped_column(EncryptedText("vaccination_checks.missing"))
    catch_up_deadline: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = created_at()


class InstitutionHealthSetting(Base):
    """What happens when a full-day or half-day place starts without a current (``valid_days``) passed
    entry check: ``refuse``, or ``grace`` — care starts, the check is due within ``grace_days``."""

    __tablename__ = "institution_health_settings"
    __table_args__ = (
        CheckConstraint("entry_check_policy IN ('refuse', 'grace')", name="entry_check_policy"),
        CheckConstraint("grace_days BETWEEN 0 AND 90", name="grace_days"),
        CheckConstraint("valid_days BETWEEN 1 AND 365", name="valid_days"),
    )

    institution_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), primary_key=True
    )
    entry_check_policy: Mapped[str] = mapped_column(String(8))
    grace_days: Mapped[int] = mapped_column(SmallInteger)
    valid_days: Mapped[int] = mapped_column(SmallInteger)
    updated_at: Mapped[dt.datetime] = updated_at()
