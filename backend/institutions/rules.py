"""National rules for childcare institutions, in one place.

Sources: 《托育机构设置标准（试行）》(国卫人口发〔2019〕58号) arts. 19-20 for class sizes and
carer ratios; the 2023 rules for home-based points (家庭托育点); the city plan (seed §三.4) for
kindergarten nursery classes (托班, 2-3-year-olds). The same numbers are written into PostgreSQL
CHECK constraints and a trigger (see the foundation migration), so no code path can bypass them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class ClassType(StrEnum):
    INFANT = "infant"  # 乳儿班
    TODDLER = "toddler"  # 托小班
    OLDER_TODDLER = "older_toddler"  # 托大班
    MIXED = "mixed"  # 混合班


@dataclass(frozen=True, slots=True)
class ClassRule:
    name_zh: str
    name_en: str
    age_min_months: int  # inclusive
    age_max_months: int  # exclusive
    max_children: int
    children_per_carer: int


CLASS_RULES: dict[ClassType, ClassRule] = {
    ClassType.INFANT: ClassRule("乳儿班", "infant class", 6, 12, 10, 3),
    ClassType.TODDLER: ClassRule("托小班", "toddler class", 12, 24, 15, 5),
    ClassType.OLDER_TODDLER: ClassRule("托大班", "older toddler class", 24, 36, 20, 7),
    # No national ratio for mixed classes: use the strictest band a mixed class can hold.
    # Its 18-36-month range includes 18-24-month toddlers, so 1:5.
    ClassType.MIXED: ClassRule("混合班", "mixed class", 18, 36, 18, 5),
}

HOME_BASED_MAX_CHILDREN = 5
HOME_BASED_CHILDREN_PER_CARER = 3
KINDERGARTEN_CLASS_TYPES = frozenset({ClassType.OLDER_TODDLER})


class ServiceMode(StrEnum):
    FULL_DAY = "full_day"  # 全日托
    HALF_DAY = "half_day"  # 半日托
    HOURLY = "hourly"  # 计时托
    TEMPORARY = "temporary"  # 临时托


MODE_NAMES_ZH = {
    ServiceMode.FULL_DAY: "全日托",
    ServiceMode.HALF_DAY: "半日托",
    ServiceMode.HOURLY: "计时托",
    ServiceMode.TEMPORARY: "临时托",
}


class PriceUnit(StrEnum):
    MONTH = "month"
    DAY = "day"
    HALF_DAY = "half_day"
    HOUR = "hour"


# Which price units make sense for each mode.
MODE_PRICE_UNITS: dict[ServiceMode, frozenset[PriceUnit]] = {
    ServiceMode.FULL_DAY: frozenset({PriceUnit.MONTH, PriceUnit.DAY}),
    ServiceMode.HALF_DAY: frozenset({PriceUnit.MONTH, PriceUnit.HALF_DAY}),
    ServiceMode.HOURLY: frozenset({PriceUnit.HOUR}),
    ServiceMode.TEMPORARY: frozenset({PriceUnit.DAY, PriceUnit.HALF_DAY}),
}


class LegalForm(StrEnum):
    PUBLIC_INSTITUTION = "public_institution"  # 事业单位 → 机构编制部门
    SOCIAL_ORGANISATION = "social_organisation"  # 社会服务机构 → 民政部门
    FOR_PROFIT = "for_profit"  # 营利性 → 市场监管部门


LEGAL_FORM_REGISTRAR = {
    LegalForm.PUBLIC_INSTITUTION: "staffing",
    LegalForm.SOCIAL_ORGANISATION: "civil_affairs",
    LegalForm.FOR_PROFIT: "market",
}


class FilingStatus(StrEnum):
    UNFILED = "unfiled"  # 未备案
    SUBMITTED = "submitted"  # 备案审核中
    FILED = "filed"  # 已备案
    RETURNED = "returned"  # 退回补正


class Ownership(StrEnum):
    PUBLIC = "public"  # 公办
    PRIVATE = "private"  # 民办


def age_in_months(birth_date: dt.date, on: dt.date) -> int:
    """Whole months between birth and ``on`` (a child born on 31 Jan is 1 month old on 29 Feb … 1 Mar)."""
    months = (on.year - birth_date.year) * 12 + (on.month - birth_date.month)
    if on.day < birth_date.day:
        # The month is complete only once the birth day-of-month has been reached, or the month ended.
        last_day = (dt.date(on.year + on.month // 12, on.month % 12 + 1, 1) - dt.timedelta(days=1)).day
        if not (on.day == last_day and birth_date.day > last_day):
            months -= 1
    return months


def class_types_for_age(age_months: int) -> list[ClassType]:
    return [t for t, r in CLASS_RULES.items() if r.age_min_months <= age_months < r.age_max_months]


@dataclass(frozen=True, slots=True)
class Breach:
    code: str
    detail: str
    detail_zh: str


def check_class(
    class_type: ClassType,
    capacity: int,
    carers: int,
    *,
    enrolled: int = 0,
    is_home_based: bool = False,
    is_kindergarten_class: bool = False,
    other_classes_capacity: int = 0,
) -> Breach | None:
    """The first national rule a class would break, or None. The database enforces the same rules."""
    rule = CLASS_RULES[class_type]
    if is_kindergarten_class and class_type not in KINDERGARTEN_CLASS_TYPES:
        return Breach(
            "kindergarten_class_type",
            "A kindergarten nursery class (托班) takes 2-3-year-olds only: use class type older_toddler",
            "幼儿园托班只招收2至3岁幼儿，班级类型须为托大班",
        )
    if capacity > rule.max_children:
        return Breach(
            "class_cap_exceeded",
            f"A {rule.name_en} may hold at most {rule.max_children} children (国卫人口发〔2019〕58号)",
            f"{rule.name_zh}最多{rule.max_children}人（《托育机构设置标准（试行）》）",
        )
    if capacity > carers * rule.children_per_carer:
        return Breach(
            "carer_ratio",
            f"A {rule.name_en} needs at least 1 carer per {rule.children_per_carer} children: "
            f"{carers} carer(s) allow at most {carers * rule.children_per_carer}",
            f"{rule.name_zh}保育人员与婴幼儿之比不得低于1:{rule.children_per_carer}，"
            f"{carers}名保育人员最多照护{carers * rule.children_per_carer}名",
        )
    if is_home_based:
        if capacity + other_classes_capacity > HOME_BASED_MAX_CHILDREN:
            return Breach(
                "home_based_cap",
                f"A home-based point may care for at most {HOME_BASED_MAX_CHILDREN} children in all",
                f"家庭托育点收托总人数不得超过{HOME_BASED_MAX_CHILDREN}人",
            )
        if capacity > carers * HOME_BASED_CHILDREN_PER_CARER:
            return Breach(
                "home_based_ratio",
                f"A home-based point needs 1 carer per {HOME_BASED_CHILDREN_PER_CARER} children",
                f"家庭托育点每{HOME_BASED_CHILDREN_PER_CARER}名婴幼儿须配备1名照护人员",
            )
    if capacity < enrolled:
        return Breach(
            "capacity_below_enrolled",
            f"Capacity cannot go below the {enrolled} children already enrolled",
            f"班额不能低于已入托人数（{enrolled}人）",
        )
    return None


# Unified social credit code (统一社会信用代码), GB 32100-2015: 17 characters and a check character.
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_CHARS.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def uscc_valid(code: str) -> bool:
    if len(code) != 18 or any(ch not in _USCC_CHARS for ch in code) or not code[2:8].isdigit():
        return False
    return uscc_check_char(code[:17]) == code[17]
