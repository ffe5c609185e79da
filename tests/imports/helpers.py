"""Building import files in tests."""

from __future__ import annotations

import random

from backend.imports.tables import FileFormat, write_table
from backend.institutions.rules import uscc_check_char

HEADER = ["机构名称", "统一社会信用代码", "法人类型", "举办性质", "所属区县", "地址", "经度", "纬度", "联系电话",
          "普惠", "全日托收费", "计时托收费", "班级1名称", "班级1类型", "班级1托位数", "班级1保育人员数",
          "班级2名称", "班级2类型", "班级2托位数", "班级2保育人员数"]  # fmt: skip
_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc(seed: int) -> str:
    rnd = random.Random(seed)
    first17 = "52230602" + "".join(rnd.choice(_CHARS) for _ in range(9))
    return first17 + uscc_check_char(first17)


def inst_row(seed: int, **over: str) -> list[str]:
    values = {
        "机构名称": f"测试托育园{seed}",
        "统一社会信用代码": uscc(seed),
        "法人类型": "社会服务机构",
        "举办性质": "民办",
        "所属区县": "萨尔图区",
        "地址": f"萨尔图区测试路{seed}号",
        "经度": "125.11",
        "纬度": "46.63",
        "联系电话": "0459-6000000",
        "普惠": "是",
        "全日托收费": "2800元/月",
        "计时托收费": "30元/小时",
        "班级1名称": "托小一班",
        "班级1类型": "托小班",
        "班级1托位数": "15",
        "班级1保育人员数": "3",
        "班级2名称": "托大一班",
        "班级2类型": "托大班",
        "班级2托位数": "20",
        "班级2保育人员数": "3",
    }
    values.update(over)
    return [values[h] for h in HEADER]


def inst_file(rows: list[list[str]], fmt: FileFormat = FileFormat.XLSX, header: list[str] | None = None) -> bytes:
    return write_table(fmt, header or HEADER, rows)
