"""The national immunisation schedule for children aged 0-3 (国家免疫规划疫苗儿童免疫程序).

Source: 国家卫生健康委《国家免疫规划疫苗儿童免疫程序及说明（2021年版）》(国卫办疾控发〔2021〕10号),
the table of ages for the vaccines given before 36 months. The 2025 adjustment (国家卫生健康委，
2025) moved DTaP (百白破) to 2, 4, 6 and 18 months; ``DTAP_2025`` holds those ages, and
``SCHEDULE_EDITION`` says which edition is in force here. Check the current text before relying on it.

Each entry: (code, Chinese name, dose number, age in months at which the dose is due).
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEDULE_EDITION = "2021"
SOURCE = "国家免疫规划疫苗儿童免疫程序及说明（2021年版），国卫办疾控发〔2021〕10号"


@dataclass(frozen=True, slots=True)
class Dose:
    code: str
    name_zh: str
    dose: int
    age_months: int


VACCINES = {
    "HepB": "乙肝疫苗",
    "BCG": "卡介苗",
    "IPV": "脊灰灭活疫苗",
    "bOPV": "脊灰减毒活疫苗",
    "DTaP": "百白破疫苗",
    "MMR": "麻腮风疫苗",
    "JE-L": "乙脑减毒活疫苗",
    "MPSV-A": "A群流脑多糖疫苗",
    "HepA-L": "甲肝减毒活疫苗",
}

_AGES_2021 = {
    "HepB": (0, 1, 6),
    "BCG": (0,),
    "IPV": (2, 3),
    "bOPV": (4,),
    "DTaP": (3, 4, 5, 18),
    "MMR": (8, 18),
    "JE-L": (8, 24),
    "MPSV-A": (6, 9),
    "HepA-L": (18,),
}
DTAP_2025 = (2, 4, 6, 18)

SCHEDULE: tuple[Dose, ...] = tuple(
    Dose(code, VACCINES[code], n, age) for code, ages in _AGES_2021.items() for n, age in enumerate(ages, start=1)
)
DOSES = {(d.code, d.dose): d for d in SCHEDULE}


def due_by(age_months: int) -> list[Dose]:
    """The doses a child of ``age_months`` should have had."""
    return [d for d in SCHEDULE if d.age_months <= age_months]
