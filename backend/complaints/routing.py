"""Complaint categories and where each goes (DOMAIN.md, from the city plan §三.12-16).

Every complaint goes to the departments of its category *and* to the territorial government of its
unit (属地管理): the unit of the institution complained about, or the unit nearest the location
given. Child abuse and personal safety are urgent (zero tolerance): they reach the police and the
health commission at once, with high urgency.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    name_zh: str
    name_en: str
    departments: tuple[str, ...]
    urgent: bool = False


CATEGORIES: dict[str, Category] = {
    c.code: c
    for c in (
        Category("child_safety", "虐童、人身安全", "Child abuse or personal safety", ("police", "health"), urgent=True),
        Category("food_safety", "食品安全", "Food safety", ("market",)),
        Category("fire_safety", "消防安全", "Fire safety", ("fire",)),
        Category("health_hygiene", "卫生保健", "Health and hygiene", ("health",)),
        Category("fees", "收费", "Fees and pricing", ("market", "ndrc")),
        Category("unregistered", "无证无备案", "Unregistered or unfiled operation", ("market", "health")),
        Category("staff_conduct", "从业人员", "Staff qualification or conduct", ("hrss", "health")),
        Category("kindergarten_class", "幼儿园托班", "Nursery class in a kindergarten", ("education",)),
        Category("nursing_room", "母婴设施", "Nursing room or mother-and-baby facility", ("trade_union", "health")),
        Category("other", "其他", "Other", ("health",)),
    )
}

# Unregistered operation also goes to the registration authority of the institution's legal form.
REGISTRAR_BY_LEGAL_FORM = {
    "public_institution": "staffing",  # 市委编办
    "social_organisation": "civil_affairs",  # 市民政局
    "for_profit": "market",  # 市市场监管局
}


def unit_government(unit_code: int) -> str:
    return f"gov_{unit_code}"


def departments_for(category: str, *, unit_code: int | None, legal_form: str | None = None) -> list[str]:
    """The departments a complaint of ``category`` is routed to (sorted, without repeats)."""
    cat = CATEGORIES[category]
    codes = set(cat.departments)
    if category == "unregistered":
        if legal_form is not None:
            codes.add(REGISTRAR_BY_LEGAL_FORM[legal_form])
        else:  # a place not on the register: every registrar may be concerned
            codes.update(REGISTRAR_BY_LEGAL_FORM.values())
    if unit_code is not None:
        codes.add(unit_government(unit_code))
    return sorted(codes)
