"""Demo parenting guidance (育儿指导): upcoming events in several units, hosted by the demo
institution 230602-0, the first institution of 让胡路区 and (fictional) health centres, and past
events with attendance so that "families reached" is not zero for recent months.

Idempotent: an upcoming event's id includes its ISO week and a past event's its month, so seeding
again on the same day (or week, or month) adds nothing, and a later seeding keeps events upcoming.
Past events are attended by fictional demo families (accounts without a password: they cannot sign
in) and by the two demo parents.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.models import Account, RoleGrant
from backend.core.clock import local_instant, local_today
from backend.demo.data import DEMO_MARK, build_institutions, demo_id, indexed
from backend.guidance.models import GuidanceEvent, GuidanceRegistration

FAMILIES = 24  # fictional families who attended past events

# (key, host: institution key or (health-centre name, unit), kind, title, days ahead, HH:MM, minutes, capacity)
UPCOMING: list[tuple[str, Any, str, str, int, str, int, int]] = [
    ("feeding", "230602-0", "parent_class", "婴幼儿辅食添加与科学喂养家长课堂", 3, "09:30", 90, 30),
    ("books", "230602-0", "parent_child_activity", "亲子绘本共读会", 6, "15:00", 60, 12),
    (
        "illness",
        ("萨尔图区妇幼保健计划生育服务中心", 230602),
        "parent_class",
        "婴幼儿常见病预防与家庭护理",
        4,
        "14:00",
        120,
        50,
    ),
    (
        "newborn",
        ("肇州县妇幼保健计划生育服务中心", 230621),
        "home_visit",
        "新生儿家庭访视（入户指导）",
        2,
        "08:30",
        480,
        10,
    ),
    (
        "games",
        ("让胡路区妇幼保健计划生育服务中心", 230604),
        "parent_child_activity",
        "婴幼儿早期发展亲子游戏",
        8,
        "09:00",
        90,
        20,
    ),
    ("sleep", ("龙凤区卧里屯社区卫生服务中心", 230603), "parent_class", "科学育儿：睡眠与作息", 10, "19:00", 60, 40),
    ("sensory", "230604-0", "parent_child_activity", "感统游戏亲子开放日", 5, "10:00", 90, 15),
    ("language", ("高新区社区卫生服务中心", 230671), "parent_class", "0-3岁语言发展与家庭互动", 12, "10:00", 90, 30),
]

# Past events, this month (those already held) and each of the three months before: (key, host, kind, title, day of month, attended, no-shows)
PAST: list[tuple[str, Any, str, str, int, int, int]] = [
    ("p-feeding", "230602-0", "parent_class", "婴幼儿营养与喂养家长课堂", 12, 9, 2),
    ("p-centre", ("萨尔图区妇幼保健计划生育服务中心", 230602), "parent_class", "婴幼儿疫苗接种常识讲座", 18, 14, 3),
    ("p-visit", ("肇州县妇幼保健计划生育服务中心", 230621), "home_visit", "新生儿家庭访视（入户指导）", 8, 6, 1),
    ("p-play", ("让胡路区妇幼保健计划生育服务中心", 230604), "parent_child_activity", "亲子运动会", 22, 11, 2),
]


def _month_back(today: dt.date, months: int, day: int) -> dt.date:
    y, m = divmod(today.month - 1 - months, 12)
    return dt.date(today.year + y, m + 1, day)


# long: demo rows written out one by one
async def seed_guidance(db: AsyncSession, unit_centres: dict[int, tuple[str, float, float]]) -> dict[str, int]:
    institutions = {f"{i.unit_code}-{n}": i for n, i in indexed(build_institutions(unit_centres))}
    today = local_today()
    year, week, _ = today.isocalendar()

    families = []
    for n in range(1, FAMILIES + 1):
        account_id = demo_id("account", f"guidance_family_{n}")
        families.append(account_id)
        await db.execute(
            insert(Account)
            .values(
                id=account_id,
                email=f"guidance.family{n:02d}@demo.daqing.example",
                display_name=f"演示家庭{n:02d}",
                is_demo=True,
            )
            .on_conflict_do_nothing()
        )
        await db.execute(
            insert(RoleGrant)
            .values(id=demo_id("grant", f"guidance_family_{n}:parent"), account_id=account_id, role="parent")
            .on_conflict_do_nothing()
        )
    families += [demo_id("account", "parent"), demo_id("account", "parent2")]

    def host(spec: Any) -> dict[str, Any]:
        if isinstance(spec, str):
            inst = institutions[spec]
            return {
                "host_institution_id": inst.id,
                "host_name": inst.name,
                "unit_code": inst.unit_code,
                "address": inst.address,
                "lat": inst.lat,
                "lng": inst.lng,
            }
        name, unit = spec
        unit_name, lat, lng = unit_centres[unit]
        return {
            "host_institution_id": None,
            "host_name": name,
            "unit_code": unit,
            "address": f"大庆市{unit_name}（演示地址）",
            "lat": lat,
            "lng": lng,
        }

    added = 0
    for key, spec, kind, title, days, hhmm, minutes, capacity in UPCOMING:
        day = today + dt.timedelta(days=days)
        h, m = map(int, hhmm.split(":"))
        starts = local_instant(day, h * 60 + m)
        added += await _event(
            db,
            demo_id("guidance_event", f"{key}:{year}-W{week}"),
            host(spec),
            kind,
            title,
            starts,
            minutes,
            capacity,
        )

    attendances = 0
    for months in (0, 1, 2, 3):
        for n, (key, spec, kind, title, dom, attended, no_show) in enumerate(PAST):
            day = _month_back(today, months, dom)
            if day >= today:
                continue  # this month: only the events already held
            starts = local_instant(day, 9 * 60 + 30)
            event_id = demo_id("guidance_event", f"{key}:{day:%Y-%m}")
            count = attended + no_show - (months + n) % 3  # a little variety
            inserted = await _event(
                db, event_id, host(spec), kind, title, starts, 90, max(count + 5, 10), registered=count
            )
            if not inserted:
                continue
            rows = []
            for k in range(count):
                account_id = families[(k + months * 5 + n * 7) % len(families)]
                status = "attended" if k < count - no_show else "no_show"
                rows.append(
                    {
                        "id": demo_id("guidance_registration", f"{event_id}:{k}"),
                        "event_id": event_id,
                        "account_id": account_id,
                        "status": status,
                        "created_at": starts - dt.timedelta(days=5),
                        "attended_at": starts + dt.timedelta(minutes=10) if status == "attended" else None,
                        "attendance_marked_at": starts + dt.timedelta(minutes=10),
                    }
                )
            await db.execute(insert(GuidanceRegistration).values(rows).on_conflict_do_nothing())
            attendances += sum(r["status"] == "attended" for r in rows)
    return {"new_guidance_events": added, "new_guidance_attendances": attendances}


async def _event(
    db: AsyncSession,
    event_id: uuid.UUID,
    host: dict[str, Any],
    kind: str,
    title: str,
    starts: dt.datetime,
    minutes: int,
    capacity: int,
    *,
    registered: int = 0,
) -> int:
    inserted = await db.scalar(
        insert(GuidanceEvent)
        .values(
            id=event_id,
            **host,
            kind=kind,
            title=title,
            description=f"{DEMO_MARK} {title}。由专业人员讲解与示范，欢迎家长报名参加。",
            starts_at=starts,
            ends_at=starts + dt.timedelta(minutes=minutes),
            capacity=capacity,
            registered=registered,
        )
        .on_conflict_do_nothing()
        .returning(GuidanceEvent.id)
    )
    return 0 if inserted is None else 1
