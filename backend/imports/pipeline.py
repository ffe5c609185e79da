"""The row pipeline every importer shares: map headers → validate rows → report → apply.

An importer is a ``Spec``: its columns (a canonical Chinese header, as exports write it, and the
aliases departments use), a ``check`` that turns the mapped rows into parsed rows and problems
(looking at the database to tell new, changed and unchanged rows apart), an ``apply`` that writes
the parsed rows, and an ``export`` that gives the register as a table with the canonical headers, so
that export → import changes nothing.

Header matching ignores spaces, full-width/half-width differences, a leading "*" (required marker)
and a trailing unit in brackets ("面积（平方米）" matches "面积").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.errors import RuleViolation
from backend.imports.crs import Crs, in_daqing, to_wgs84
from backend.imports.tables import Table

PROBLEM_HEADER = "问题"
ERROR, WARNING = "error", "warning"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    header: str  # canonical: what exports write
    aliases: tuple[str, ...] = ()
    required: bool = False


@dataclass(slots=True)
class Problem:
    row: int  # the spreadsheet's row number (the header is row 1 when it is the first row)
    level: str  # error | warning
    code: str
    message: str  # Chinese, shown to the officer and written into the "问题" column
    column: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "level": self.level, "code": self.code, "message": self.message, "column": self.column}


@dataclass(slots=True)
class Row:
    number: int
    values: dict[str, str]
    problems: list[Problem] = field(default_factory=list)

    def get(self, key: str) -> str:
        return self.values.get(key, "")

    def error(self, code: str, message: str, column: str | None = None) -> None:
        self.problems.append(Problem(self.number, ERROR, code, message, column))

    def warn(self, code: str, message: str, column: str | None = None) -> None:
        self.problems.append(Problem(self.number, WARNING, code, message, column))

    @property
    def ok(self) -> bool:
        return not any(p.level == ERROR for p in self.problems)


@dataclass(slots=True)
class Report:
    kind: str
    rows: int
    problems: list[Problem]
    counts: dict[str, int]  # create / update / unchanged (and importer-specific ones)
    parsed: list[Any] = field(default_factory=list, repr=False)

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.level == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if p.level == WARNING)


def normalise_header(text: str) -> str:
    if text.isalnum():  # letters and digits only (any script): nothing to normalise but the case
        return unicodedata.normalize("NFKC", text).lower() if not text.isascii() else text.lower()
    text = unicodedata.normalize("NFKC", text).strip().lstrip("*").strip()
    return re.sub(r"\s+", "", text).lower()


def _without_unit(text: str) -> str:
    return re.sub(r"\([^()]*\)$", "", text)


class Spec:
    kind: ClassVar[str]
    label_zh: ClassVar[str]
    columns: ClassVar[Sequence[Column]]
    units: frozenset[int] | None = None  # a unit officer's import: rows of other units are errors

    def check_unit(self, row: Row, unit_code: int | None, column: str) -> None:
        if self.units is not None and unit_code is not None and unit_code not in self.units:
            row.error("other_unit", "只能导入本区县的数据，该行属于其他区县", column)

    def match_extra(self, header: str) -> str | None:
        """A key for a header outside ``columns`` (numbered column groups), or None."""
        return None

    def map_headers(self, header: list[str], header_row: int = 1) -> tuple[dict[int, str], list[Problem]]:
        """Column index → key. Unknown headers are warnings (ignored); a missing required column or a
        column given twice fails the whole file."""
        lookup: dict[str, str] = {}
        for col in self.columns:
            for name in (col.header, *col.aliases):
                lookup[normalise_header(name)] = col.key
        mapping: dict[int, str] = {}
        problems: list[Problem] = []
        seen: dict[str, str] = {}
        for index, raw in enumerate(header):
            if not raw or raw == PROBLEM_HEADER:  # an annotated report, corrected and uploaded again
                continue
            norm = normalise_header(raw)
            key = lookup.get(norm) or lookup.get(_without_unit(norm)) or self.match_extra(norm)
            if key is None:
                problems.append(Problem(header_row, WARNING, "unknown_column", f"未识别的列“{raw}”，已忽略", raw))
                continue
            if key in seen:
                raise RuleViolation(
                    f"Columns '{seen[key]}' and '{raw}' mean the same field",
                    detail_zh=f"“{seen[key]}”与“{raw}”是同一项，请删除其中一列",
                    code="duplicate_column",
                )
            seen[key] = raw
            mapping[index] = key
        missing = [c.header for c in self.columns if c.required and c.key not in seen]
        if missing:
            raise RuleViolation(
                f"Missing required columns: {', '.join(missing)}",
                detail_zh=f"缺少必需的列：{'、'.join(missing)}",
                code="missing_columns",
                extra={"missing": missing},
            )
        return mapping, problems

    def rows_of(self, table: Table, mapping: dict[int, str]) -> list[Row]:
        out = []
        for offset, cells in enumerate(table.rows):
            if not any(cells):
                continue
            out.append(Row(table.header_row + 1 + offset, {key: cells[i] for i, key in mapping.items()}))
        return out

    async def check(self, db: AsyncSession, rows: list[Row], crs: Crs) -> tuple[list[Any], dict[str, int]]:
        """Parse and validate ``rows`` (adding problems to them); the parsed rows to write and counts."""
        raise NotImplementedError

    async def apply(self, db: AsyncSession, parsed: list[Any], actor: Any) -> None:
        raise NotImplementedError

    async def export(self, db: AsyncSession, crs: Crs) -> tuple[list[str], list[list[str]]]:
        raise NotImplementedError


async def run_check(db: AsyncSession, spec: Spec, table: Table, crs: Crs) -> Report:
    mapping, problems = spec.map_headers(table.header, table.header_row)
    rows = spec.rows_of(table, mapping)
    if not rows:
        raise RuleViolation("The file has no data rows", detail_zh="文件中没有数据行", code="file_no_rows")
    parsed, counts = await spec.check(db, rows, crs)
    for row in rows:
        problems.extend(row.problems)
    return Report(spec.kind, len(rows), problems, counts, parsed)


# ----------------------------------------------------------------------------------- shared parsers

YES = {"是", "有", "√", "✓", "y", "yes", "true", "1", "普惠", "示范"}
NO = {"否", "无", "×", "n", "no", "false", "0", ""}


def parse_bool(row: Row, key: str, header: str) -> bool:
    value = normalise_header(row.get(key))
    if value in YES:
        return True
    if value not in NO:
        row.error("bad_yes_no", f"“{header}”只能填写“是”或“否”", header)
    return False


def parse_int(row: Row, key: str, header: str, *, low: int, high: int, required: bool = True) -> int | None:
    raw = row.get(key)
    if raw.isascii() and raw.isdigit():  # the common case, without the normalisation below
        value = int(raw)
        if low <= value <= high:
            return value
    text = unicodedata.normalize("NFKC", raw).replace(",", "").strip()
    text = re.sub(r"(人|名|个|平方米|㎡|m2)$", "", text)
    if not text:
        if required:
            row.error("missing_value", f"“{header}”不能为空", header)
        return None
    if not re.fullmatch(r"\d+", text):
        row.error("bad_number", f"“{header}”须为整数", header)
        return None
    value = int(text)
    if not low <= value <= high:
        row.error("number_out_of_range", f"“{header}”须在{low}至{high}之间", header)
        return None
    return value


def parse_text(row: Row, key: str, header: str, *, max_len: int, required: bool = True) -> str:
    text = " ".join(row.get(key).split())
    if not text and required:
        row.error("missing_value", f"“{header}”不能为空", header)
    if len(text) > max_len:
        row.error("too_long", f"“{header}”不能超过{max_len}个字", header)
        text = text[:max_len]
    return text


def parse_point(row: Row, crs: Crs, lng_key: str = "lng", lat_key: str = "lat") -> tuple[float, float] | None:
    """The row's point converted to WGS-84, or None when both cells are empty. A point outside
    Daqing (after conversion) is an error."""
    lng_text, lat_text = row.get(lng_key).strip(), row.get(lat_key).strip()
    if not lng_text and not lat_text:
        return None
    try:
        lng, lat = float(unicodedata.normalize("NFKC", lng_text)), float(unicodedata.normalize("NFKC", lat_text))
    except ValueError:
        row.error("bad_coordinates", "经纬度须为十进制度数（如 125.103、46.589）", "经度")
        return None
    if not (-180 <= lng <= 180 and -90 <= lat <= 90) or lng != lng or lat != lat:
        row.error("bad_coordinates", "经纬度超出范围", "经度")
        return None
    if 40 < lng < 60 and 110 < lat < 140:
        row.error("coordinates_swapped", "经度和纬度填反了（大庆经度约125、纬度约46）", "经度")
        return None
    w_lng, w_lat = to_wgs84(crs, lng, lat)
    if not in_daqing(w_lng, w_lat):
        row.error("outside_daqing", "坐标不在大庆市范围内（请检查经纬度和坐标系）", "经度")
        return None
    return round(w_lng, 7), round(w_lat, 7)
