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


class ScoreOut(Output):
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
    scores: list[ScoreOut]
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
    kind: Literal["growth"]
    reasons: list[str]
    status: Literal["open", "closed"]
    created_at: dt.datetime
    measurement_id: uuid.UUID | None
