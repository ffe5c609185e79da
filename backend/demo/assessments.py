"""Demo quality assessments: published results for about two thirds of the demo institutions (a spread
of grades A-D), one with open rectification items (one overdue) at the demo centre the demo staff
work at, and one draft for the 肇州县 health officer. All fictional: summaries start with 【演示】 and the
assessors are 演示专家. Idempotent (fixed ids, inserted only when missing)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.assessments.models import Assessment, RectificationItem
from backend.assessments.standard import DIMENSIONS, column, grade_for
from backend.core.clock import local_today, utcnow
from backend.demo.data import build_institutions, demo_id

MARK = "【演示】"
ASSESSORS = ["演示专家甲", "演示专家乙"]
SUMMARIES = {
    "A": "办托条件完善，保育照护与卫生保健规范，安全管理到位。",
    "B": "总体良好；保育照护较规范，部分制度执行记录需完善。",
    "C": "基本合格；托育队伍配备与安全巡查需加强。",
    "D": "存在较多问题，须限期整改并复评。",
}
FEATURED = "230602-0"  # the demo staff's centre: open rectification items


def _scores(total: float) -> dict[str, float]:
    """Per-dimension scores in proportion to the maxima, adjusted on 保育照护 so they add up to ``total``."""
    values = {column(d.key): round(d.max_points * total / 1000, 1) for d in DIMENSIONS}
    values[column("care")] = round(values[column("care")] + total - sum(values.values()), 1)
    return values


def _total(key: str) -> float:
    """A fixed total for each institution, spread over the grades (mostly A and B, some C, a few D)."""
    h = int(demo_id("assessment-total", key).hex[:6], 16)
    band = h % 10
    base = 905 if band < 4 else 760 if band < 7 else 610 if band < 9 else 540
    return base + (h // 10) % 80 + ((h // 800) % 10) / 10


def _indexed(institutions: list[Any]) -> list[tuple[str, Any]]:
    seen: dict[int, int] = {}
    out = []
    for inst in institutions:
        n = seen.get(inst.unit_code, 0)
        seen[inst.unit_code] = n + 1
        out.append((f"{inst.unit_code}-{n}", inst))
    return out


async def seed_assessments(db: AsyncSession, units: dict[int, tuple[str, float, float]]) -> dict[str, int]:
    today = local_today()
    now = utcnow()
    added = 0
    for key, inst in _indexed(build_institutions(units)):
        featured = key == FEATURED
        if not featured and int(demo_id("assessment-pick", key).hex[:2], 16) % 3 == 0:
            continue  # about a third have no published assessment yet
        total = 812.5 if featured else _total(key)
        assessed_on = today - dt.timedelta(days=60 if featured else 30 + int(demo_id("d", key).hex[:2], 16) % 200)
        assessment_id = demo_id("assessment", key)
        inserted = await db.scalar(
            insert(Assessment)
            .values(
                id=assessment_id,
                institution_id=inst.id,
                assessed_on=assessed_on,
                assessors=ASSESSORS,
                summary=MARK + SUMMARIES[grade_for(total)],
                findings=MARK + "虚构评估，仅用于演示。A fictional assessment for demonstration only.",
                status="published",
                published_at=now,
                **_scores(total),
            )
            .on_conflict_do_nothing()
            .returning(Assessment.id)
        )
        if inserted is None:
            continue
        added += 1
        if featured:
            items = [
                ("晨检记录不完整，补齐近三个月晨检与全日健康观察记录。", assessed_on + dt.timedelta(days=30), "open"),
                ("消防安全巡查每日记录缺失，建立并落实巡查制度。", today + dt.timedelta(days=20), "open"),
                ("保育人员健康证过期一人，补办健康证。", assessed_on + dt.timedelta(days=15), "rectified"),
            ]
            for n, (description, deadline, status) in enumerate(items):
                await db.execute(
                    insert(RectificationItem)
                    .values(
                        id=demo_id("assessment-item", f"{key}:{n}"),
                        assessment_id=assessment_id,
                        position=n,
                        description=MARK + description,
                        deadline=deadline,
                        status=status,
                        followup_note=MARK + "现场复查，已整改。" if status == "rectified" else None,
                        followed_up_at=now if status == "rectified" else None,
                    )
                    .on_conflict_do_nothing()
                )
    # A draft for the 肇州县 health officer to finish and publish.
    zz = next((inst for key, inst in _indexed(build_institutions(units)) if key == "230621-0"), None)
    if zz is not None:
        await db.execute(
            insert(Assessment)
            .values(
                id=demo_id("assessment", "draft:230621-0"),
                institution_id=zz.id,
                assessed_on=today - dt.timedelta(days=2),
                assessors=ASSESSORS,
                summary=MARK + "复评草稿，待发布。",
                findings=MARK + "虚构评估草稿。",
                status="draft",
                **_scores(868),
            )
            .on_conflict_do_nothing()
        )
    return {"new_assessments": added}
