"""Daqing demo data: fictional institutions at plausible places, generated deterministically.

Everything here is *demo*: names are invented, positions are scattered around the approximate unit
centres in DOMAIN.md, prices and enrolment are made up. Every institution carries ``is_demo`` and
a description starting with 【演示数据 Demo data】.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from backend.institutions.rules import CLASS_RULES, ClassType, uscc_check_char

DEMO_NAMESPACE = uuid.UUID("5b0f1d1e-2c55-4a7e-9d83-6a1f5e0d2026")
DEMO_PASSWORD = "Daqing-demo-2026"  # noqa: S105 - demo accounts only; listed in README
DEMO_MARK = "【演示数据 Demo data】"

# Places in each unit, used for names and addresses.
PLACES: dict[int, list[str]] = {
    230602: [
        "会战大街",
        "东风新村",
        "友谊大街",
        "铁人大道",
        "火炬新街",
        "万宝",
        "东安",
        "拥军",
        "朝阳",
        "黎明",
        "新村",
        "保健路",
        "纬二路",
        "中央大街",
    ],
    230604: ["乘风", "银浪", "西宾", "庆新", "奋斗", "龙岗", "世纪大道", "喇嘛甸", "创业城", "让胡路"],
    230603: ["卧里屯", "东光", "三永", "龙政", "黄河路", "湿地", "兴化", "龙凤大街", "开发路"],
    230605: ["八百垧", "杏树岗", "解放", "创业", "红岗大街", "红岗"],
    230606: ["林源", "庆葡", "新华", "高台子", "大同镇", "宏伟"],
    230671: ["新风路", "学府街", "高新大道", "服务外包园", "博学大街", "纬五路", "高新开发区"],
    230621: ["肇州镇", "永乐", "丰乐", "兴城", "中兴街", "南坛路", "永胜"],
    230622: ["肇源镇", "茂兴", "三站", "新站", "沿江路", "鼓楼街", "民意"],
    230623: ["林甸镇", "红旗", "东兴", "花园", "林甸大街", "温泉路"],
    230624: ["泰康镇", "烟筒屯", "胡吉吐莫", "江湾", "一心", "连环湖"],
}

# How many institutions each unit gets (82 in all); urban districts more.
COUNTS = {
    230602: 14,
    230604: 11,
    230603: 10,
    230605: 6,
    230606: 6,
    230671: 8,
    230621: 7,
    230622: 7,
    230623: 6,
    230624: 7,
}

BRANDS = [
    "小星星",
    "童心",
    "阳光宝贝",
    "启航",
    "小橡树",
    "贝贝乐",
    "蒲公英",
    "七色花",
    "爱心",
    "小太阳",
    "彩虹",
    "萌芽",
    "育苗",
    "春芽",
    "金色童年",
    "小天使",
    "快乐宝贝",
    "乐成",
    "博雅",
    "童趣",
]

UNIT_SPREAD_KM = {
    230602: 3.5,
    230604: 4.0,
    230603: 3.0,
    230605: 3.0,
    230606: 2.5,
    230671: 2.5,
    230621: 2.0,
    230622: 2.0,
    230623: 1.8,
    230624: 1.8,
}


@dataclass
class DemoClass:
    name: str
    class_type: ClassType
    capacity: int
    carers: int
    enrolled: int


@dataclass
class DemoInstitution:
    id: uuid.UUID
    name: str
    legal_form: str
    registration_no: str
    filing_status: str
    unit_code: int
    address: str
    lat: float
    lng: float
    phone: str
    ownership: str
    opening_hours: list[dict[str, object]]
    description: str
    flags: dict[str, bool]
    classes: list[DemoClass] = field(default_factory=list)
    modes: dict[str, tuple[int, str]] = field(default_factory=dict)


def demo_id(kind: str, key: str) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, f"{kind}:{key}")


def _registration_no(rng: random.Random, legal_form: str, unit_code: int) -> str:
    prefix = {"public_institution": "12", "social_organisation": "52", "for_profit": "91"}[legal_form]
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    org = "".join(rng.choice(chars) for _ in range(9))
    first17 = f"{prefix}{unit_code}{org}"
    return first17 + uscc_check_char(first17)


def _offset(rng: random.Random, lat: float, lng: float, spread_km: float) -> tuple[float, float]:
    r = spread_km * math.sqrt(rng.random())
    theta = rng.random() * 2 * math.pi
    dlat = (r * math.cos(theta)) / 111.32
    dlng = (r * math.sin(theta)) / (111.32 * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lng + dlng, 6)


def _class(rng: random.Random, name: str, class_type: ClassType, *, full: bool, cap: int | None = None) -> DemoClass:
    rule = CLASS_RULES[class_type]
    capacity = cap or rng.randint(max(4, rule.max_children - 6), rule.max_children)
    carers = math.ceil(capacity / rule.children_per_carer) + rng.choice([0, 0, 1])
    enrolled = capacity if full else rng.randint(0, capacity - 1)
    return DemoClass(name, class_type, capacity, carers, enrolled)


WEEKDAYS = [1, 2, 3, 4, 5]


# long: the demo registry, institution by institution
def build_institutions(units: dict[int, tuple[str, float, float]]) -> list[DemoInstitution]:
    """``units`` maps code -> (name_zh, centre lat, centre lng), as stored in the database."""
    rng = random.Random(20261128)
    out: list[DemoInstitution] = []
    for unit_code, count in COUNTS.items():
        unit_name, clat, clng = units[unit_code]
        places = PLACES[unit_code]
        for i in range(count):
            place = places[i % len(places)]
            brand = BRANDS[(i * 7 + unit_code) % len(BRANDS)]
            # The first of each unit is its demonstration institution (seed §二: one per unit by 2021).
            kind = (
                "demonstration"
                if i == 0
                else rng.choices(["center", "community", "employer", "kindergarten", "home"], weights=[10, 3, 2, 3, 2])[
                    0
                ]
            )
            flags = {
                "inclusive": False,
                "demonstration": False,
                "employer_run": False,
                "community_run": False,
                "kindergarten_class": False,
                "home_based": False,
            }
            full_all = rng.random() < 0.15
            classes: list[DemoClass] = []
            if kind == "demonstration":
                name = f"{unit_name}示范性婴幼儿照护服务中心"
                legal_form, ownership = "public_institution", "public"
                flags.update(demonstration=True, inclusive=True)
                classes = [
                    _class(rng, "乳儿一班", ClassType.INFANT, full=full_all),
                    _class(rng, "托小一班", ClassType.TODDLER, full=full_all),
                    _class(rng, "托大一班", ClassType.OLDER_TODDLER, full=full_all),
                ]
            elif kind == "community":
                name = f"{place}社区婴幼儿照护服务站"
                legal_form, ownership = "social_organisation", "public"
                flags.update(community_run=True, inclusive=True)
                classes = [
                    _class(rng, "托小班", ClassType.TODDLER, full=full_all),
                    _class(rng, "混合班", ClassType.MIXED, full=full_all),
                ]
            elif kind == "employer":
                name = f"大庆油田{place}职工子女托育园"
                legal_form, ownership = "social_organisation", "public"
                flags.update(employer_run=True, inclusive=rng.random() < 0.5)
                classes = [
                    _class(rng, "托小班", ClassType.TODDLER, full=full_all),
                    _class(rng, "托大班", ClassType.OLDER_TODDLER, full=full_all),
                ]
            elif kind == "kindergarten":
                name = f"{unit_name}{place}{brand}幼儿园托班"
                legal_form, ownership = rng.choice([("public_institution", "public"), ("for_profit", "private")])
                flags.update(kindergarten_class=True, inclusive=ownership == "public")
                classes = [_class(rng, "托班一班", ClassType.OLDER_TODDLER, full=full_all)]
                if rng.random() < 0.5:
                    classes.append(_class(rng, "托班二班", ClassType.OLDER_TODDLER, full=full_all))
            elif kind == "home":
                name = f"{place}{brand}家庭托育点"
                legal_form, ownership = "for_profit", "private"
                flags.update(home_based=True)
                classes = [_class(rng, "家庭托育组", ClassType.MIXED, full=full_all, cap=5)]
                classes[0].carers = 2
            else:
                name = f"{unit_name}{place}{brand}托育中心"
                legal_form, ownership = "for_profit", "private"
                flags.update(inclusive=rng.random() < 0.35)
                types = rng.sample(
                    [ClassType.INFANT, ClassType.TODDLER, ClassType.OLDER_TODDLER, ClassType.MIXED], k=rng.randint(1, 3)
                )
                names = {
                    ClassType.INFANT: "乳儿班",
                    ClassType.TODDLER: "托小班",
                    ClassType.OLDER_TODDLER: "托大班",
                    ClassType.MIXED: "混合班",
                }
                classes = [_class(rng, names[t], t, full=full_all or rng.random() < 0.2) for t in types]

            modes: dict[str, tuple[int, str]] = {}
            base = rng.randint(18, 38) * 100 * 100  # monthly full-day price in fen: 1,800-3,800 yuan
            if flags["inclusive"]:
                base = min(base, 1600 * 100)
            if kind != "home" or rng.random() < 0.5:
                modes["full_day"] = (base, "month")
            if kind in ("center", "community", "demonstration", "kindergarten") and rng.random() < 0.7:
                modes["half_day"] = (int(base * 0.6) // 100 * 100, "month")
            if kind in ("center", "home", "community", "demonstration") and rng.random() < 0.6:
                modes["hourly"] = (rng.randint(25, 50) * 100, "hour")
            if kind in ("center", "home", "demonstration") and rng.random() < 0.5:
                modes["temporary"] = (rng.randint(12, 22) * 1000, rng.choice(["day", "half_day"]))
            if not modes:
                modes["full_day"] = (base, "month")

            lat, lng = _offset(rng, clat, clng, UNIT_SPREAD_KM[unit_code])
            opens = rng.choice(["07:00", "07:30", "08:00"])
            closes = rng.choice(["17:00", "17:30", "18:00"])
            hours: list[dict[str, object]] = [{"days": WEEKDAYS, "opens": opens, "closes": closes}]
            if rng.random() < 0.3:
                hours.append({"days": [6], "opens": "08:30", "closes": "12:00"})
            filing = rng.choices(["filed", "submitted", "unfiled"], weights=[8, 1, 1])[0]
            if i == 0:
                filing = "filed"  # the first of each unit (the staff demo's) is always filed
            out.append(
                DemoInstitution(
                    id=demo_id("institution", f"{unit_code}-{i}"),
                    name=name,
                    legal_form=legal_form,
                    registration_no=_registration_no(rng, legal_form, unit_code),
                    filing_status=filing,
                    unit_code=unit_code,
                    address=f"大庆市{unit_name}{place}{rng.randint(1, 299)}号",
                    lat=lat,
                    lng=lng,
                    phone=f"0459-{rng.randint(4000000, 6999999)}",
                    ownership=ownership,
                    opening_hours=hours,
                    description=f"{DEMO_MARK}虚构机构，仅用于演示。A fictional institution for demonstration only.",
                    flags=flags,
                    classes=classes,
                    modes=modes,
                )
            )
    return out


@dataclass(frozen=True)
class DemoAccount:
    key: str
    display_name: str
    phone: str | None
    email: str | None
    grants: tuple[tuple[str, str | None, str | None, int | None], ...]  # role, institution key, department, unit


# Institution keys are "<unit>-<index>" as in build_institutions.
ACCOUNTS: list[DemoAccount] = [
    DemoAccount("parent", "演示家长 王女士", "13800000001", None, (("parent", None, None, None),)),
    DemoAccount("parent2", "演示家长 李先生", "13800000002", None, (("parent", None, None, None),)),
    DemoAccount(
        "inst_admin",
        "演示机构管理员",
        "13900000001",
        "inst.admin@daqing.example",
        (("institution_admin", "230602-0", None, None),),
    ),
    DemoAccount(
        "inst_staff",
        "演示机构工作人员",
        "13900000002",
        "inst.staff@daqing.example",
        (("institution_staff", "230602-0", None, None),),
    ),
    DemoAccount(
        "other_staff",
        "演示其他机构工作人员",
        None,
        "other.staff@daqing.example",
        (("institution_staff", "230604-0", None, None),),
    ),
    DemoAccount(
        "health_officer",
        "演示市卫健委工作人员",
        None,
        "health.officer@daqing.example",
        (("officer", None, "health", None),),
    ),
    DemoAccount(
        "zhaozhou_health",
        "演示肇州县卫健局工作人员",
        None,
        "zhaozhou.health@daqing.example",
        (("officer", None, "health", 230621),),
    ),
    DemoAccount(
        "police_officer",
        "演示市公安局工作人员",
        None,
        "police.officer@daqing.example",
        (("officer", None, "police", None),),
    ),
    DemoAccount(
        "market_officer",
        "演示市市场监管局工作人员",
        None,
        "market.officer@daqing.example",
        (("officer", None, "market", None),),
    ),
    DemoAccount("city_admin", "演示市级管理员", None, "city.admin@daqing.example", (("city_admin", None, None, None),)),
]

# Children of the demo parents: (parent key, child key, name, age in days at first seeding, relation).
CHILDREN = [
    ("parent", "c1", "演示宝宝 小米", 300, "mother"),
    ("parent", "c2", "演示宝宝 豆豆", 800, "mother"),
    ("parent2", "c3", "演示宝宝 乐乐", 560, "father"),
]


# Places at the demo institution 230602-0 (so its notices and committee have an audience):
# (child key, status). The class is the first of the institution's classes that fits the age.
DEMO_PLACES = [("c2", "enrolled"), ("c3", "enrolled")]
# The demo committee: (parent key, role).
COMMITTEE = [("parent2", "chair"), ("parent", "member")]
# Demo notices of 230602-0: (key, title, Markdown body, pinned, urgent, consultation or None).
NOTICES = [
    (
        "welcome",
        "【演示】欢迎加入本园家长群",
        "各位家长好！本园通知会在这里发布。\n\n- 入园时间：**7:30-8:30**\n- 离园时间：17:00-17:30\n\n"
        "如有问题请联系班级老师。",
        True,
        False,
        None,
    ),
    (
        "menu",
        "【演示】下月食谱征求意见",
        "家长委员会与保健医生拟定了下月食谱，请各位家长提出意见。",
        False,
        False,
        {
            "question": "您希望增加哪类早餐？",
            "choice_mode": "multiple",
            "options": ["杂粮粥", "蒸蛋羹", "蔬菜包子", "牛奶燕麦"],
            "allow_text": True,
            "deadline_days": 14,
            "anonymous": False,
        },
    ),
]

# Demo complaints: (key, tracking code, category, institution key or None, lat, lng, place name,
# description, status). The tracking codes are public demo data (README, Demo accounts).
DEMO_COMPLAINTS = [
    (
        "late-lunch",
        "DEMOA-AAAAA-AAAAA-AAAAA",
        "food_safety",
        "230602-0",
        None,
        None,
        None,
        "【演示数据】午餐送到时已经凉了，饭菜有异味。",
        "accepted",
    ),
    (
        "blocked-exit",
        "DEMOB-BBBBB-BBBBB-BBBBB",
        "fire_safety",
        None,
        46.585,
        125.103,
        "某小区底商托育点",
        "【演示数据】托育点的安全出口被杂物堵住。",
        "received",
    ),
]


def indexed(institutions: list[Any]) -> list[tuple[int, Any]]:
    """(index within its unit, institution), matching the keys build_institutions uses."""
    seen: dict[int, int] = {}
    out = []
    for inst in institutions:
        n = seen.get(inst.unit_code, 0)
        seen[inst.unit_code] = n + 1
        out.append((n, inst))
    return out
