"""The national rules, checked in Python; the database enforces the same (see test_registry)."""

import calendar
import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from backend.institutions.rules import (
    CLASS_RULES,
    ClassType,
    age_in_months,
    check_class,
    class_types_for_age,
    uscc_check_char,
    uscc_valid,
)


def add_months(d: dt.date, months: int) -> dt.date:
    """Oracle: the same day ``months`` later, clamped to the month's end."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


@given(st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2030, 12, 31)), st.integers(0, 800))
def test_age_in_whole_months_matches_the_oracle(birth, days):
    on = birth + dt.timedelta(days=days)
    expected = max(m for m in range(0, 30) if add_months(birth, m) <= on)
    assert age_in_months(birth, on) == expected


def test_age_examples():
    assert age_in_months(dt.date(2025, 1, 31), dt.date(2025, 2, 28)) == 1
    assert age_in_months(dt.date(2025, 1, 31), dt.date(2025, 2, 27)) == 0
    assert age_in_months(dt.date(2024, 3, 15), dt.date(2025, 3, 14)) == 11
    assert age_in_months(dt.date(2024, 3, 15), dt.date(2025, 3, 15)) == 12


def test_age_bands():
    assert class_types_for_age(5) == []
    assert class_types_for_age(6) == [ClassType.INFANT]
    assert class_types_for_age(12) == [ClassType.TODDLER]
    assert class_types_for_age(18) == [ClassType.TODDLER, ClassType.MIXED]
    assert class_types_for_age(24) == [ClassType.OLDER_TODDLER, ClassType.MIXED]
    assert class_types_for_age(36) == []


def test_national_caps_and_ratios():
    assert {t: (r.max_children, r.children_per_carer) for t, r in CLASS_RULES.items()} == {
        ClassType.INFANT: (10, 3),
        ClassType.TODDLER: (15, 5),
        ClassType.OLDER_TODDLER: (20, 7),
        ClassType.MIXED: (18, 5),
    }
    assert check_class(ClassType.INFANT, 10, 4) is None
    assert check_class(ClassType.INFANT, 11, 4).code == "class_cap_exceeded"
    assert check_class(ClassType.INFANT, 10, 3).code == "carer_ratio"
    assert check_class(ClassType.OLDER_TODDLER, 20, 3) is None
    assert check_class(ClassType.MIXED, 18, 3).code == "carer_ratio"
    assert check_class(ClassType.TODDLER, 5, 1, enrolled=6).code == "capacity_below_enrolled"
    assert check_class(ClassType.TODDLER, 4, 2, is_home_based=True, other_classes_capacity=2).code == "home_based_cap"
    assert check_class(ClassType.TODDLER, 4, 1, is_home_based=True).code == "home_based_ratio"
    assert check_class(ClassType.TODDLER, 5, 1, is_kindergarten_class=True).code == "kindergarten_class_type"


def test_unified_social_credit_codes():
    first17 = "91230602MA1B2C3D4"
    code = first17 + uscc_check_char(first17)
    assert uscc_valid(code)
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    assert not uscc_valid(wrong)
    assert not uscc_valid("91230602MA1B2C3D4I")  # I is not in the alphabet
    assert uscc_valid("91350100M000100Y43")  # a published example
