"""Reading and writing spreadsheets: xlsx (read with python-calamine, written with openpyxl) and CSV (UTF-8, UTF-8 with BOM, GB18030).

A table is a header row and data rows of text. The header is the first row with at least two
cells filled in: a title above it (``大庆市托育机构备案名单（2024年）``, one merged cell) or a note
(``填报单位：…``) is kept aside, and row numbers stay the spreadsheet's own. Cells are normalised to text on reading (numbers
without a trailing ``.0``, dates as ISO dates), so every importer parses text. Any byte sequence
that is not a readable table raises ``FileUnreadable`` (a 422), never something else.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from backend.core.errors import RuleViolation

MAX_ROWS = 20_000  # data rows per file
MAX_BYTES = 20 * 1024 * 1024
MAX_COLUMNS = 200
MAX_CELL = 1000  # characters
MAX_ROWS_ABOVE = 20  # title and note rows looked through for the header


class FileFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


class FileUnreadable(RuleViolation):
    def __init__(self, detail: str, detail_zh: str, code: str = "file_unreadable") -> None:
        super().__init__(detail, detail_zh=detail_zh, code=code)


@dataclass(slots=True)
class Table:
    format: FileFormat
    encoding: str | None  # CSV only
    header: list[str]
    rows: list[list[str]]  # each padded or cut to len(header)
    above: list[list[str]] = field(default_factory=list)  # rows above the header (titles, notes, empty)

    @property
    def header_row(self) -> int:
        """The header's row number in the spreadsheet (1-based); data row i is ``header_row + 1 + i``."""
        return len(self.above) + 1


def detect_format(content: bytes) -> FileFormat:
    return FileFormat.XLSX if content[:4] == b"PK\x03\x04" else FileFormat.CSV


def decode_csv(content: bytes) -> tuple[str, str]:
    """The text and its encoding: UTF-8 with BOM, UTF-8, else GB18030 (a superset of GBK and GB2312,
    which is what Excel on a Chinese Windows saves as "CSV")."""
    encodings = ["utf-8-sig"] if content.startswith(b"\xef\xbb\xbf") else ["utf-8", "gb18030"]
    for encoding in encodings:
        try:
            return content.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise FileUnreadable(
        "The CSV file is neither UTF-8 nor GB18030 text",
        "CSV文件编码无法识别（请保存为UTF-8或GB18030/GBK编码）",
        "file_encoding",
    )


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.time):
        return value.isoformat(timespec="minutes")
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _unformula(text: str) -> str:
    # Exports prefix text that a spreadsheet would run as a formula with "'" (see write_table).
    return text[1:] if text[:2] in ("'=", "'+", "'-", "'@") else text


def _check_shape(header: list[str], rows: list[list[str]]) -> None:
    if len(header) > MAX_COLUMNS:
        raise FileUnreadable(f"More than {MAX_COLUMNS} columns", f"列数超过{MAX_COLUMNS}列", "too_many_columns")
    if len(rows) > MAX_ROWS:
        raise FileUnreadable(
            f"More than {MAX_ROWS} data rows: split the file",
            f"数据超过{MAX_ROWS}行，请拆分文件后导入",
            "too_many_rows",
        )


def _finish(header: list[str], rows: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    width = len(header)
    while width and not header[width - 1]:
        width -= 1
    header = header[:width]
    out = []
    for row in rows:
        row = [_unformula(c)[:MAX_CELL] for c in row[:width]]
        row += [""] * (width - len(row))
        out.append(row)
    while out and not any(out[-1]):
        out.pop()
    return header, out


def read_table(content: bytes) -> Table:
    if not content:
        raise FileUnreadable("The file is empty", "文件为空", "file_empty")
    if len(content) > MAX_BYTES:
        raise FileUnreadable("The file is larger than 20 MB", "文件超过20MB", "file_too_large")
    fmt = detect_format(content)
    encoding = None
    if fmt is FileFormat.XLSX:
        raw = _read_xlsx(content)
    else:
        text, encoding = decode_csv(content)
        try:
            raw = [row for row in csv.reader(io.StringIO(text, newline=""))]
        except csv.Error as exc:
            raise FileUnreadable(f"Not a CSV file: {exc}", "CSV格式错误", "file_csv") from exc
        if len(raw) > _READ_CAP and sum(1 for row in raw if any(row)) > _READ_CAP:
            _check_shape([], raw)
    raw = [[c.strip() if isinstance(c, str) else cell_text(c) for c in row] for row in raw]
    at = _header_index(raw)
    if at is None:
        raise FileUnreadable("The file has no header row", "文件没有表头", "file_no_header")
    header, rows = _finish(raw[at], raw[at + 1 :])
    _check_shape(header, rows)
    return Table(fmt, encoding, header, rows, above=raw[:at])


# Rows kept while reading an xlsx sheet: a header below at most MAX_ROWS_ABOVE rows and more data rows
# than a file may hold (refused), whatever the rows above it.
_READ_CAP = MAX_ROWS + MAX_ROWS_ABOVE + 2


def _header_index(raw: list[list[str]]) -> int | None:
    """The header: the first row with at least two cells filled in, among the first rows with text
    (a title or a note above a table fills one cell); else the first row with any text."""
    first = None
    seen = 0
    for index, row in enumerate(raw):
        filled = sum(1 for c in row if c)
        if not filled:
            continue
        first = index if first is None else first
        if filled >= 2:
            return index
        seen += 1
        if seen > MAX_ROWS_ABOVE:
            break
    return first


def _read_xlsx(content: bytes) -> list[list[str]]:
    """The first sheet, read with python-calamine (Rust): about 15 times faster than openpyxl on a
    20,000-row register (bench/import.py); openpyxl writes the exports."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(content))
        if not book.sheet_names:
            raise FileUnreadable("The workbook has no sheet", "工作簿中没有工作表", "file_xlsx")
        rows: list[list[str]] = []
        for values in book.get_sheet_by_index(0).iter_rows():
            cells = [cell_text(v) for v in values]
            if len(rows) < _READ_CAP:
                rows.append(cells)
            elif any(cells):  # more data rows than a file may hold, refused by the caller's check
                rows.append(cells)
                break
            # else: empty (often only formatted) rows past the cap: not kept, not a reason to refuse
        return rows
    except FileUnreadable:
        raise
    except Exception as exc:  # calamine raises its own errors (zip, XML, password) and ValueErrors on corrupt files
        raise FileUnreadable(f"Not an xlsx workbook: {type(exc).__name__}", "无法读取xlsx文件", "file_xlsx") from exc


def _safe(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def write_table(
    fmt: FileFormat,
    header: list[str],
    rows: list[list[str]],
    *,
    sheet_title: str = "Sheet1",
    above: Sequence[list[str]] = (),
) -> bytes:
    """A table as xlsx (every cell text, so nothing is run as a formula) or as CSV (UTF-8 with BOM, so
    Excel opens it correctly; text a spreadsheet would run as a formula gets a leading "'", which
    reading removes again). ``above``: rows written above the header (a file's title, kept)."""
    if fmt is FileFormat.CSV:
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\r\n")
        for row in above:
            writer.writerow([_safe(c) for c in row])
        writer.writerow(header)
        for row in rows:
            writer.writerow([_safe(c) for c in row])
        return out.getvalue().encode("utf-8-sig")
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_title)
    for row in above:
        sheet.append([_text_cell(sheet, c, WriteOnlyCell) for c in row])
    sheet.append(header)
    for row in rows:
        sheet.append([_text_cell(sheet, value, WriteOnlyCell) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _text_cell(sheet: object, value: str, cell_class: type) -> object:
    cell = cell_class(sheet, value=value)
    cell.data_type = "s"  # text, never a formula
    return cell
