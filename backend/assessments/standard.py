"""The assessment standard: WS/T 821-2023 《托育机构质量评估标准》 (National Health Commission, 2023).

The standard scores an institution out of 1,000 points over its assessment dimensions and grades it.
We could not consult the standard's text while building this (no copy was reachable), so the
dimensions and their maximum points below are an APPROXIMATION, to be checked against the published
standard before real use:

* the first eight dimensions and their maxima follow the project brief (they sum to 950);
* the ninth, 信息公开 (disclosure: fees, care, meals and health information an institution must make
  public, 《托育机构管理规范（试行）》 art. 15), was added with 50 points so the maxima add up to
  exactly 1,000.

Grade cut-offs (also an assumption, not taken from the standard): A ≥ 900, B ≥ 750, C ≥ 600, D below
600. The database computes ``total`` and ``grade`` from the scores (generated columns, migration
0011), so a stored grade can never disagree with its scores; this module is the one place both the
service and the migration's expressions come from.

Scores are whole points or one decimal (e.g. 87.5), between 0 and the dimension's maximum.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Dimension:
    key: str
    name_zh: str
    name: str
    max_points: int


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("facilities", "办托条件", "Facilities and conditions", 100),
    Dimension("staff", "托育队伍", "Staff", 120),
    Dimension("care", "保育照护", "Care and early learning", 200),
    Dimension("health", "卫生保健", "Health care and hygiene", 120),
    Dimension("parenting", "养育支持", "Parenting support", 80),
    Dimension("safety", "安全保障", "Safety", 180),
    Dimension("management", "机构管理", "Management", 100),
    Dimension("cooperation", "家园共育", "Home-centre cooperation", 50),
    Dimension("disclosure", "信息公开", "Information disclosure", 50),
)
BY_KEY = {d.key: d for d in DIMENSIONS}
TOTAL_POINTS = 1000
assert sum(d.max_points for d in DIMENSIONS) == TOTAL_POINTS

# (grade, lowest total for it), best first; below the last cut-off: D.
GRADE_CUTOFFS: tuple[tuple[str, int], ...] = (("A", 900), ("B", 750), ("C", 600))
GRADES = ("A", "B", "C", "D")
GRADE_NAMES_ZH = {"A": "优秀", "B": "良好", "C": "合格", "D": "不合格"}
MAX_ITEMS = 30  # rectification items per assessment


def column(key: str) -> str:
    return f"score_{key}"


def grade_for(total: float) -> str:
    for grade, floor in GRADE_CUTOFFS:
        if total >= floor:
            return grade
    return "D"


def total_sql() -> str:
    """The SQL sum of the score columns (the generated ``total``)."""
    return " + ".join(column(d.key) for d in DIMENSIONS)


def grade_sql() -> str:
    """The SQL grade of the scores (the generated ``grade``; generated columns cannot use ``total``)."""
    total = f"({total_sql()})"
    whens = " ".join(f"WHEN {total} >= {floor} THEN '{grade}'" for grade, floor in GRADE_CUTOFFS)
    return f"CASE {whens} ELSE 'D' END"
