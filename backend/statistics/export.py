"""The statistics as CSV: a long table, one row per area × month × metric.

Columns: ``month`` (YYYY-MM, or ``current`` for today's occupancy), ``unit_code`` (empty for the
city), ``unit`` (Chinese name), ``metric`` (the JSON field name; ``places_<class type>`` and
``complaints_<category>`` for the breakdowns), ``metric_zh``, ``value`` (empty when not available),
``target`` and ``met`` (for the metrics with a target: places_per_1000 and demonstration). UTF-8 with a
byte-order mark so that Excel opens the Chinese text correctly; a long table pivots easily.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from backend.complaints.routing import CATEGORIES
from backend.statistics.schemas import AreaFigures, MonthFigures, Overview

HEADER = ["month", "unit_code", "unit", "metric", "metric_zh", "value", "target", "met"]
CLASS_TYPE_ZH = {"infant": "乳儿班", "toddler": "托小班", "older_toddler": "托大班", "mixed": "混合班"}

# (metric, Chinese label): plain fields of MonthFigures, in order.
MONTH_METRICS: list[tuple[str, str]] = [
    ("institutions", "托育机构数"),
    ("home_based", "家庭托育点数"),
    ("kindergarten_class", "幼儿园托班数"),
    ("inclusive_institutions", "普惠机构数"),
    ("demonstration", "示范性机构数"),
    ("places", "托位数"),
    *((f"places_{t}", f"托位数（{zh}）") for t, zh in CLASS_TYPE_ZH.items()),
    ("inclusive_places", "普惠托位数"),
    ("inclusive_share_pct", "普惠托位占比（%）"),
    ("population", "常住人口"),
    ("places_per_1000", "每千人口托位数"),
    ("filed", "已备案机构数"),
    ("filing_rate_pct", "备案率（%）"),
    ("slot_capacity", "计时/临时托可约名额"),
    ("slot_booked", "计时/临时托已约名额"),
    ("slot_use_pct", "计时/临时托使用率（%）"),
    ("complaints", "投诉举报数"),
    *((f"complaints_{code}", f"投诉举报数（{c.name_zh}）") for code, c in CATEGORIES.items()),
    ("complaints_resolved", "办结投诉数"),
    ("median_resolution_hours", "办结时长中位数（小时）"),
    ("families_reached", "育儿指导覆盖家庭数"),
    ("children_under3_in_care", "在托3岁以下婴幼儿数"),
    ("health_managed", "其中接受健康管理数"),
    ("health_management_rate_pct", "健康管理率（%，目标≥95）"),
    ("guidance_families", "在托婴幼儿家庭数"),
    ("guidance_families_reached", "其中接受育儿指导家庭数"),
    ("guidance_rate_pct", "科学育儿指导率（%，目标≥95）"),
]
CURRENT_METRICS = [
    ("occupancy_places", "全日托/半日托托位数（当前）"),
    ("occupancy_places_taken", "已占用托位数（当前）"),
    ("occupancy_pct", "托位使用率（%，当前）"),
]


def _value(m: MonthFigures, metric: str) -> Any:
    if metric.startswith("places_") and metric != "places_per_1000":
        return getattr(m.places_by_class_type, metric.removeprefix("places_"))
    if metric.startswith("complaints_") and metric != "complaints_resolved":
        return m.complaints_by_category[metric.removeprefix("complaints_")]
    return getattr(m, metric)


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def rows(overview: Overview) -> Iterator[list[str]]:
    areas: list[AreaFigures] = [*overview.units, *([overview.city] if overview.city else [])]
    for area in areas:
        code = "" if area.unit_code is None else str(area.unit_code)
        occ = area.occupancy
        for metric, zh, v in zip(
            (m for m, _ in CURRENT_METRICS),
            (z for _, z in CURRENT_METRICS),
            (occ.places, occ.places_taken, occ.occupancy_pct),
            strict=True,
        ):
            yield ["current", code, area.name_zh, metric, zh, _cell(v), "", ""]
        for m in area.months:
            for metric, zh in MONTH_METRICS:
                target = met = ""
                if metric == "places_per_1000":
                    target, met = _cell(overview.targets.places_per_1000), _cell(m.places_target_met)
                elif metric == "demonstration":
                    target, met = _cell(overview.targets.demonstration_per_unit), _cell(m.demonstration_met)
                yield [m.month, code, area.name_zh, metric, zh, _cell(_value(m, metric)), target, met]


def to_csv(overview: Overview) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows(overview))
    return "\ufeff".encode() + out.getvalue().encode("utf-8")
