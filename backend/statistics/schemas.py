"""Statistics (统计监测) response schemas: per unit and city-wide, by month, against the plan's targets."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from backend.core.schemas import Output


class Targets(Output):
    """The plan's targets the figures are measured against."""

    places_per_1000: Annotated[
        float, msgspec.Meta(description="托位 per 1,000 residents (national target for 2025).")
    ] = msgspec.field(default=4.5)
    demonstration_per_unit: Annotated[
        int, msgspec.Meta(description="示范性 institutions each unit (county/district) should have at least.")
    ] = msgspec.field(default=1)
    health_management_pct: Annotated[
        float, msgspec.Meta(description="健康管理率 of children under 3 in care, % (seed §二, 2025).")
    ] = msgspec.field(default=95.0)
    guidance_pct: Annotated[
        float, msgspec.Meta(description="科学育儿指导率 of their families, % (seed §二, 2025).")
    ] = msgspec.field(default=95.0)


class PlacesByClassType(Output):
    infant: int
    toddler: int
    older_toddler: int
    mixed: int


class MonthFigures(Output):
    """One unit's (or the city's) figures for one month. Stocks (institutions, places, filed) are as
    of the month's end; flows (slots, complaints, guidance) are those of the month."""

    month: Annotated[str, msgspec.Meta(description="YYYY-MM, local time (Asia/Shanghai).")]
    institutions: Annotated[int, msgspec.Meta(description="Institutions created by the month's end.")]
    home_based: Annotated[int, msgspec.Meta(description="Home-based points (家庭托育点) among them.")]
    kindergarten_class: Annotated[
        int, msgspec.Meta(description="Kindergarten nursery classes (幼儿园托班) among them.")
    ]
    inclusive_institutions: Annotated[
        int, msgspec.Meta(description="Inclusive (普惠) institutions among them (today's flag).")
    ]
    demonstration: Annotated[
        int, msgspec.Meta(description="Demonstration (示范性) institutions among them (today's flag).")
    ]
    demonstration_met: Annotated[
        bool, msgspec.Meta(description="A unit: at least one demonstration institution. The city: every unit has one.")
    ]
    units_meeting_demonstration: Annotated[
        int | None,
        msgspec.Meta(description="The city only: how many units have at least one demonstration institution."),
    ]
    places: Annotated[int, msgspec.Meta(description="托位: the sum of class capacities.")]
    places_by_class_type: Annotated[
        PlacesByClassType, msgspec.Meta(description="Places by class type (乳儿班, 托小班, 托大班, 混合班).")
    ]
    inclusive_places: Annotated[int, msgspec.Meta(description="Places in inclusive (普惠) institutions.")]
    inclusive_share_pct: Annotated[
        float | None, msgspec.Meta(description="普惠 places / places, in %; null without places.")
    ]
    population: Annotated[int, msgspec.Meta(description="Residents (units.population; the city: all units).")]
    places_per_1000: Annotated[float, msgspec.Meta(description="Places per 1,000 residents (2 decimals).")]
    places_target_met: Annotated[bool, msgspec.Meta(description="places_per_1000 >= the target (4.5).")]
    filed: Annotated[int, msgspec.Meta(description="Institutions filed (备案) by the month's end.")]
    filing_rate_pct: Annotated[
        float | None, msgspec.Meta(description="filed / institutions, in %; null without institutions.")
    ]
    slot_capacity: Annotated[
        int, msgspec.Meta(description="Hourly/temporary care: places published in the month's slots.")
    ]
    slot_booked: Annotated[int, msgspec.Meta(description="Hourly/temporary care: places booked in the month's slots.")]
    slot_use_pct: Annotated[
        float | None, msgspec.Meta(description="slot_booked / slot_capacity, in %; null without slots.")
    ]
    complaints: Annotated[int, msgspec.Meta(description="Complaints filed in the month.")]
    complaints_by_category: Annotated[
        dict[str, int], msgspec.Meta(description="Every category code (see /api/complaints/categories), 0 included.")
    ]
    complaints_resolved: Annotated[int, msgspec.Meta(description="Complaints resolved (办结) in the month.")]
    median_resolution_hours: Annotated[
        float | None,
        msgspec.Meta(
            description="Median hours from filing to resolution of those resolved in the month (percentile_cont 0.5)."
        ),
    ]
    families_reached: Annotated[
        int | None,
        msgspec.Meta(
            description="Distinct families (accounts) that attended a parenting-guidance event starting in the month; null while parenting guidance is not available (see ``notes``)."
        ),
    ]
    children_under3_in_care: Annotated[
        int,
        msgspec.Meta(description="Children under 3 enrolled (full/half day) by the month's end (today's enrolments)."),
    ] = 0
    health_managed: Annotated[
        int,
        msgspec.Meta(
            description="Of them: a passed entry health check by the month's end and a growth measurement in the "
            "expected interval (3 months under 1 year, 6 months from 1 to 3). docs/domain/health.md."
        ),
    ] = 0
    health_management_rate_pct: Annotated[
        float | None, msgspec.Meta(description="health_managed / children_under3_in_care, %; null without children.")
    ] = None
    health_management_target_met: Annotated[bool, msgspec.Meta(description="The rate is at least 95 %.")] = False
    guidance_families: Annotated[
        int, msgspec.Meta(description="Families (a child's guardians) of the children under 3 in care.")
    ] = 0
    guidance_families_reached: Annotated[
        int, msgspec.Meta(description="Of them: a guardian attended a parenting guidance event in the month.")
    ] = 0
    guidance_rate_pct: Annotated[
        float | None,
        msgspec.Meta(description="guidance_families_reached / guidance_families, %; null without families."),
    ] = None
    guidance_target_met: Annotated[bool, msgspec.Meta(description="The rate is at least 95 %.")] = False


class Occupancy(Output):
    """Full- and half-day places now (not historized): taken = offline + offered + enrolled."""

    places: int
    places_taken: int
    occupancy_pct: float | None


class AreaFigures(Output):
    """A unit, or the city (``unit_code`` null)."""

    unit_code: int | None
    name_zh: str
    name_en: str
    population: int
    occupancy: Occupancy
    months: list[MonthFigures]


class Overview(Output):
    """Statistics for a month range (at most 36 months)."""

    from_month: str
    to_month: str
    months: list[str]
    timezone: str
    generated_at: dt.datetime
    targets: Targets
    units: Annotated[
        list[AreaFigures],
        msgspec.Meta(
            description="The units you may see (all ten for city admins and city-wide officers), in the usual order."
        ),
    ]
    city: Annotated[
        AreaFigures | None,
        msgspec.Meta(
            description="City-wide figures: only for callers who see the whole city and did not ask for one unit."
        ),
    ]
    notes: Annotated[
        list[str], msgspec.Meta(description="Caveats, e.g. what is not historized or which figures are unavailable.")
    ]
