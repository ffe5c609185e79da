"""Demo blacklist and staff roster. All fictional: two extra demo institutions (clearly marked, in no
real place) on the blacklist, two fictional people with invented ID numbers (valid check digits) on
it, and a small staff roster at the demo centre 230602-0. Idempotent (fixed ids)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.blacklist import idnumber
from backend.blacklist.models import BlacklistEntry
from backend.core.clock import local_today
from backend.core.config import Settings
from backend.demo.data import DEMO_MARK, build_institutions, demo_id
from backend.institutions.models import Institution
from backend.institutions.rules import uscc_check_char
from backend.staff.models import StaffMember


def _uscc(org: str, unit_code: int) -> str:
    first17 = f"91{unit_code}{org}"
    return first17 + uscc_check_char(first17)


def _id_number(first17: str) -> str:
    return first17 + idnumber.check_char(first17)


# (key, name, unit, address, lat, lng, reason, decision number, days ago decided)
INSTITUTIONS = [
    (
        "bl-1",
        "【演示】星星点点托育工作室（虚构）",
        230602,
        "大庆市萨尔图区演示路1号（虚构地址）",
        46.598,
        125.040,
        "【演示】无证照开展托育服务并拒不整改，发生婴幼儿受伤事件后隐瞒不报。",
        "演示卫健罚〔2026〕1号",
        40,
    ),
    (
        "bl-2",
        "【演示】小太阳看护点（虚构）",
        230604,
        "大庆市让胡路区演示街8号（虚构地址）",
        46.652,
        124.880,
        "【演示】经公安机关查实存在虐待婴幼儿行为，责令停止托育服务。",
        "演示庆公决字〔2026〕7号",
        12,
    ),
]

# Fictional people: (key, name, ID number's first 17 digits, department, decision number, days ago).
PERSONS = [
    ("bp-1", "演示人员甲", "23060219850317201", "police", "演示庆公决字〔2026〕9号", 20),
    ("bp-2", "演示人员乙", "23062119900704342", "health", "演示卫健罚〔2026〕5号", 60),
]

# The roster of the demo centre 230602-0: (key, name, role, ID number's first 17 digits, phone).
ROSTER = [
    ("s-1", "演示园长 周", "head", "23060219800102101", None),
    ("s-2", "演示保育员 孙", "carer", "23060219920511202", "13900000002"),  # the demo staff account
    ("s-3", "演示保育员 吴", "carer", "23060419950823303", None),
    ("s-4", "演示保健医 郑", "health_worker", "23060319880930404", None),
    ("s-5", "演示厨师 冯", "cook", "23060219790214505", None),
]

# For trying the screens: numbers that are (or are not) on the demo blacklist.
DEMO_BLACKLISTED_ID_NUMBERS = [_id_number(p[2]) for p in PERSONS]


# long: demo rows written out one by one
async def seed_blacklist(
    db: AsyncSession, settings: Settings, units: dict[int, tuple[str, float, float]]
) -> dict[str, int]:
    today = local_today()
    account_ids = {
        key: demo_id("account", key) for key in ("health_officer", "police_officer", "inst_staff", "inst_admin")
    }
    officer = account_ids["health_officer"]
    for key, name, unit, address, lat, lng, reason, decision_no, days in INSTITUTIONS:
        inst_id = demo_id("institution", key)
        await db.execute(
            insert(Institution)
            .values(
                id=inst_id,
                name=name,
                legal_form="for_profit",
                registration_no=_uscc(f"DEMB{unit % 10}000{key[-1]}", unit),
                filing_status="unfiled",
                unit_code=unit,
                address=address,
                lat=lat,
                lng=lng,
                phone="0459-0000000",
                ownership="private",
                description=f"{DEMO_MARK}虚构的黑名单示例机构，仅用于演示。",
                is_demo=True,
            )
            .on_conflict_do_nothing()
        )
        decided = today - dt.timedelta(days=days)
        await db.execute(
            insert(BlacklistEntry)
            .values(
                id=demo_id("blacklist", key),
                kind="institution",
                institution_id=inst_id,
                reason=reason,
                department_code="health" if "卫健" in decision_no else "police",
                decision_no=decision_no,
                decided_on=decided,
                effective_from=decided,
                created_by=officer,
            )
            .on_conflict_do_nothing()
        )
    for key, name, first17, department, decision_no, days in PERSONS:
        h, last4 = idnumber.digest(settings, _id_number(first17))
        decided = today - dt.timedelta(days=days)
        await db.execute(
            insert(BlacklistEntry)
            .values(
                id=demo_id("blacklist", key),
                kind="person",
                id_hash=h,
                id_last4=last4,
                person_name=name,
                reason="【演示】虚构人员：经查实存在虐待婴幼儿行为。",
                department_code=department,
                decision_no=decision_no,
                decided_on=decided,
                effective_from=decided,
                created_by=account_ids["police_officer" if department == "police" else "health_officer"],
            )
            .on_conflict_do_update(index_elements=["id"], set_={"id_hash": h, "id_last4": last4})
        )
    centre = next(i for i in build_institutions(units) if i.unit_code == 230602).id  # 230602-0
    for key, name, role, first17, phone in ROSTER:
        h, last4 = idnumber.digest(settings, _id_number(first17))
        await db.execute(
            insert(StaffMember)
            .values(
                id=demo_id("staff", key),
                institution_id=centre,
                display_name=name,
                staff_role=role,
                id_hash=h,
                id_last4=last4,
                phone=phone,
                account_id=account_ids["inst_staff"] if phone else None,  # already staff there: no new grant
                created_by=account_ids["inst_admin"],
            )
            .on_conflict_do_update(index_elements=["id"], set_={"id_hash": h, "id_last4": last4})
        )
    return {"blacklist_entries": len(INSTITUTIONS) + len(PERSONS), "staff_members": len(ROSTER)}
