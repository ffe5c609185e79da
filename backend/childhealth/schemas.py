from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from backend.core.schemas import Input, Output

# The version of the health-data notice a guardian consents to (the PWA shows this text).
HEALTH_DATA_POLICY_VERSION = "2026-12"

Sex = Literal["male", "female"]
Indicator = Literal["wfa", "lhfa", "wflh", "bfa", "hcfa"]
LengthCm = Annotated[float, msgspec.Meta(ge=40, le=130, description="Length (under 24 months) or height, cm")]
WeightKg = Annotated[float, msgspec.Meta(ge=1, le=40, description="Weight, kg")]
HeadCm = Annotated[float, msgspec.Meta(ge=25, le=60, description="Head circumference, cm")]


class HealthConsentIn(Input):
    """The guardian's explicit consent to the processing of the child's health data (PIPL art. 28/31)."""

    policy_version: Annotated[
        str,
        msgspec.Meta(
            pattern=r"^[0-9]{4}-[0-9]{2}$",
            description=f"The version of the notice shown; currently {HEALTH_DATA_POLICY_VERSION}",
            examples=[HEALTH_DATA_POLICY_VERSION],
        ),
    ]
    accepted: bool


class HealthProfileIn(Input):
    sex: Sex
    consent: HealthConsentIn


class HealthProfileOut(Output):
    child_id: uuid.UUID
    sex: Sex
    policy_version: str
    consented_at: dt.datetime


class MeasurementIn(Input):
    measured_on: dt.date
    length_cm: LengthCm | None = None
    weight_kg: WeightKg | None = None
    head_cm: HeadCm | None = None


class GrowthScoreOut(Output):
    indicator: Indicator
    z: float
    percentile: float


class MeasurementOut(Output):
    id: uuid.UUID
    child_id: uuid.UUID
    measured_on: dt.date
    age_days: int
    length_cm: float | None
    weight_kg: float | None
    head_cm: float | None
    bmi: float | None
    measured_by_staff: bool
    scores: list[GrowthScoreOut]
    # Alert codes: "<indicator>_low"/"<indicator>_high" beyond ±2 SD, "<indicator>_crossed" for two centile lines.
    alerts: list[str]


XY = Annotated[list[float], msgspec.Meta(min_length=2, max_length=2, description="[x, y]")]


class CurveOut(Output):
    z: int
    points: list[XY]


class ChartPoint(Output):
    x: float
    y: float
    z: float
    percentile: float
    measured_on: dt.date


class ChartOut(Output):
    indicator: Indicator
    title_zh: str
    x_label_zh: str
    y_label_zh: str
    curves: list[CurveOut]
    points: list[ChartPoint]


class GrowthChartOut(Output):
    child_id: uuid.UUID
    sex: Sex | None  # None: no health profile yet (the guardian sets it and consents first)
    standard: str
    measurements: list[MeasurementOut]
    charts: list[ChartOut]


class FollowUpOut(Output):
    id: uuid.UUID
    child_id: uuid.UUID
    child_name: str
    kind: Literal["growth", "entry_check", "vaccination"]
    reasons: list[str]
    status: Literal["open", "closed"]
    created_at: dt.datetime
    measurement_id: uuid.UUID | None
    due_on: dt.date | None  # entry check: end of the grace period; vaccination: the catch-up deadline


# ---------------------------------------------------------------------------------------------- daily checks

Symptom = Literal["fever", "rash", "cough", "diarrhoea", "other"]
Session = Literal["morning", "afternoon"]
Outcome = Literal["stay", "send_home", "isolation"]
CheckNote = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f<>]+$")]


class DailyCheckIn(Input):
    """``well``: present and well (no symptoms, outcome ``stay``). Otherwise at least one symptom; a
    fever needs the temperature."""

    child_id: uuid.UUID
    well: bool
    session: Session = "morning"
    symptoms: Annotated[list[Symptom], msgspec.Meta(max_length=5)] = msgspec.field(default_factory=list)
    temperature_c: Annotated[float, msgspec.Meta(ge=34, le=43)] | None = None
    note: CheckNote | None = None
    outcome: Outcome = "stay"


class DailyCheckOut(Output):
    id: uuid.UUID
    child_id: uuid.UUID
    check_date: dt.date
    session: Session
    well: bool
    symptoms: list[Symptom]
    temperature_c: float | None
    note: str | None
    outcome: Outcome
    cluster_alert_ids: list[uuid.UUID]  # alerts this check raised (usually none)


class ClassChild(Output):
    child_id: uuid.UUID
    name: str
    age_months: int
    check: DailyCheckOut | None


class ClassChecksOut(Output):
    class_id: uuid.UUID
    class_name: str
    day: dt.date
    session: Session
    children: list[ClassChild]
    # Children not present-and-well per day of the last 3 days (illness absences counted per class and day).
    unwell_by_day: dict[str, int]


class ClusterAlertOut(Output):
    id: uuid.UUID
    institution_id: uuid.UUID
    institution_name: str
    class_id: uuid.UUID
    class_name: str
    unit_code: int
    symptom: Symptom
    first_day: dt.date
    last_day: dt.date
    child_count: int
    created_at: dt.datetime


class ClusterAccessIn(Input):
    reason: Annotated[str, msgspec.Meta(min_length=4, max_length=200, pattern=r"^[^\x00-\x1f\x7f<>]+$")]


class ClusterCheck(Output):
    child_id: uuid.UUID
    name: str
    check_date: dt.date
    session: Session
    symptoms: list[Symptom]
    temperature_c: float | None
    outcome: Outcome


class ClusterAccessOut(Output):
    alert: ClusterAlertOut
    checks: list[ClusterCheck]


# ---------------------------------------------------------------------------------------------- entry and vaccination

EntryText = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f<>]+$")]
VaccineCode = Literal["HepB", "BCG", "IPV", "bOPV", "DTaP", "MMR", "JE-L", "MPSV-A", "HepA-L"]


class EntryCheckIn(Input):
    examined_on: dt.date
    hospital: EntryText
    passed: bool  # 合格 / 不合格
    reasons: Annotated[list[EntryText], msgspec.Meta(max_length=10)] = msgspec.field(default_factory=list)
    items: Annotated[list[EntryText], msgspec.Meta(max_length=30)] = msgspec.field(default_factory=list)
    # Uploads of purpose health_report (POST /api/uploads/documents?purpose=health_report); required from guardians.
    report_upload_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=5)] = msgspec.field(default_factory=list)


class EntryCheckOut(Output):
    id: uuid.UUID
    child_id: uuid.UUID
    examined_on: dt.date
    hospital: str
    passed: bool
    reasons: list[str]
    items: list[str]
    source: Literal["guardian", "staff"]
    report_upload_ids: list[uuid.UUID]
    created_at: dt.datetime


class DoseIn(Input):
    vaccine: VaccineCode
    dose: Annotated[int, msgspec.Meta(ge=1, le=4)]


class MissingDose(Output):
    vaccine: str
    dose: int
    name_zh: str


class VaccinationCheckIn(Input):
    status: Literal["complete", "missing"]
    missing: Annotated[list[DoseIn], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)
    catch_up_deadline: dt.date | None = None


class VaccinationCheckOut(Output):
    id: uuid.UUID
    child_id: uuid.UUID
    checked_on: dt.date
    status: Literal["complete", "missing"]
    missing: list[MissingDose]
    catch_up_deadline: dt.date | None
    schedule_source: str
    created_at: dt.datetime


class HealthRecordsOut(Output):
    child_id: uuid.UUID
    entry_checks: list[EntryCheckOut]
    vaccination_checks: list[VaccinationCheckOut]


class HealthSettingIn(Input):
    entry_check_policy: Literal["refuse", "grace"]
    grace_days: Annotated[int, msgspec.Meta(ge=0, le=90)] = 0
    valid_days: Annotated[int, msgspec.Meta(ge=1, le=365)] = 90


class HealthSettingOut(Output):
    institution_id: uuid.UUID
    entry_check_policy: Literal["none", "refuse", "grace"]  # none: no setting, no gate
    grace_days: int
    valid_days: int
