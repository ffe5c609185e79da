"""The institutions register (备案名单): institutions with their service modes, prices and classes.

One row per institution, matched by its unified social credit code. Classes are numbered column
groups (班级1名称, 班级1类型, 班级1托位数, 班级1保育人员数, 班级2…), matched by name within the
institution; prices are one column per service mode ("3200元/月"; empty: the mode is not offered).
A column left out of the file leaves that field as it is (flags, prices, classes, filing status).
Classes in the database that the file does not list are kept (with a warning).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.config import Settings
from backend.enrolment.service import class_capacity_changed
from backend.government.models import Unit
from backend.imports.crs import Crs, from_wgs84
from backend.imports.geocode import Geocoder
from backend.imports.pipeline import Column, Row, Spec, normalise_header, parse_bool, parse_int, parse_point, parse_text
from backend.institutions.models import CareClass, Institution, InstitutionMode
from backend.institutions.rules import (
    CLASS_RULES,
    MODE_NAMES_ZH,
    MODE_PRICE_UNITS,
    ClassType,
    ServiceMode,
    check_class,
    uscc_valid,
)

LEGAL_FORMS = {"public_institution": "事业单位", "social_organisation": "社会服务机构", "for_profit": "企业"}
LEGAL_FORM_ALIASES = {
    "事业单位": "public_institution",
    "社会服务机构": "social_organisation",
    "民办非企业单位": "social_organisation",
    "民非": "social_organisation",
    "社会组织": "social_organisation",
    "企业": "for_profit",
    "营利性": "for_profit",
    "营利性机构": "for_profit",
    "公司": "for_profit",
    "个体工商户": "for_profit",
}
OWNERSHIP = {"public": "公办", "private": "民办"}
OWNERSHIP_ALIASES = {"公办": "public", "公立": "public", "民办": "private", "私立": "private"}
FILING = {"filed": "已备案", "unfiled": "未备案"}
FILING_ALIASES = {"已备案": "filed", "备案": "filed", "是": "filed", "未备案": "unfiled", "否": "unfiled"}
FLAGS = {  # key: (column, header, aliases)
    "inclusive": ("is_inclusive", "普惠", ("普惠性", "是否普惠", "普惠托育")),
    "demonstration": ("is_demonstration", "示范", ("示范性", "是否示范", "示范机构")),
    "employer_run": ("is_employer_run", "用人单位举办", ("单位办", "用人单位办")),
    "community_run": ("is_community_run", "社区办", ("社区举办", "社区托育")),
    "kindergarten_class": ("is_kindergarten_class", "幼儿园托班", ("幼儿园开设托班", "托班")),
    "home_based": ("is_home_based", "家庭托育点", ("家庭托育",)),
}
MODE_COLUMNS = {m: f"{MODE_NAMES_ZH[m]}收费" for m in ServiceMode}
PRICE_UNITS_ZH = {"month": "月", "day": "天", "half_day": "半天", "hour": "小时"}
PRICE_UNIT_ALIASES = {
    "月": "month",
    "天": "day",
    "日": "day",
    "半天": "half_day",
    "半日": "half_day",
    "小时": "hour",
    "时": "hour",
}
DEFAULT_PRICE_UNIT = {"full_day": "month", "half_day": "month", "hourly": "hour", "temporary": "day"}
CLASS_TYPE_ALIASES = {r.name_zh: t.value for t, r in CLASS_RULES.items()} | {
    r.name_zh.removesuffix("班"): t.value for t, r in CLASS_RULES.items()
}
CLASS_FIELDS = {"名称": "name", "类型": "type", "班型": "type", "托位数": "capacity", "托位": "capacity",
                "班额": "capacity", "人数": "capacity", "保育人员数": "carers", "保育人员": "carers",
                "保育员数": "carers", "保育员": "carers"}  # fmt: skip
_CLASS_HEADER = re.compile(r"^班级(\d{1,2})(" + "|".join(sorted(CLASS_FIELDS, key=len, reverse=True)) + r")$")
MAX_CLASSES = 30
COORD_TOLERANCE = 1e-6  # degrees (~10 cm): a re-import in another datum rounding is "unchanged"

COLUMNS = (
    Column("name", "机构名称", ("托育机构名称", "名称", "单位名称"), required=True),
    Column("registration_no", "统一社会信用代码", ("信用代码", "社会信用代码", "统一代码", "登记证号"), required=True),
    Column("legal_form", "法人类型", ("登记类型", "法人性质", "单位类型", "机构类型")),
    Column("ownership", "举办性质", ("公办民办", "办学性质", "性质")),
    Column("unit", "所属区县", ("区县", "县区", "所在区县", "辖区", "所属地区"), required=True),
    Column("address", "地址", ("机构地址", "详细地址", "住所", "地点"), required=True),
    Column("street", "所属街道（乡镇）", ("街道", "乡镇", "街道乡镇", "所在街道", "街道/乡镇")),
    Column("lng", "经度", ("lng", "lon", "longitude", "x")),
    Column("lat", "纬度", ("lat", "latitude", "y")),
    Column("phone", "联系电话", ("电话", "联系方式", "咨询电话", "手机")),
    Column("filing_status", "备案状态", ("是否备案", "备案情况")),
    *(Column(k, h, a) for k, (_, h, a) in FLAGS.items()),
    *(Column(f"mode.{m.value}", h, (h.removesuffix("收费") + "价格", h.removesuffix("收费") + "收费标准")) for m, h in MODE_COLUMNS.items()),
)  # fmt: skip


@dataclass(slots=True)
class ClassRow:
    name: str
    class_type: str
    capacity: int
    carers: int


@dataclass(slots=True)
class InstitutionRow:
    number: int
    id: uuid.UUID
    is_new: bool
    values: dict[str, Any]  # institution columns to write (only those the file gives, plus required)
    code: str = ""
    name: str = ""
    address: str = ""
    changed: bool = False
    modes: dict[str, tuple[int, str]] | None = None  # None: the file has no price columns
    classes: list[ClassRow] | None = None
    mode_upserts: list[dict[str, Any]] = field(default_factory=list)
    mode_deletes: list[dict[str, Any]] = field(default_factory=list)
    class_inserts: list[dict[str, Any]] = field(default_factory=list)
    class_updates: list[dict[str, Any]] = field(default_factory=list)
    capacity_raised: list[uuid.UUID] = field(default_factory=list)


def match_unit(text_value: str, units: list[tuple[int, str]]) -> int | None:
    value = normalise_header(text_value)
    if not value:
        return None
    if value.isdigit():
        return next((c for c, _ in units if str(c) == value), None)
    for code, name in units:
        if value == name:
            return code
    value = value.removeprefix("大庆市").removeprefix("大庆")
    for code, name in units:
        stem = re.sub(r"(蒙古族自治县|区|县)$", "", name)
        if value in (name, stem) or (len(value) >= 2 and name.startswith(value)):
            return code
    if value.startswith("高新"):
        return next((c for c, n in units if n.startswith("高新")), None)
    return None


def parse_price(row: Row, mode: str, header: str) -> tuple[int, str] | None:
    text_value = unicodedata.normalize("NFKC", row.get(f"mode.{mode}")).replace(" ", "").replace(",", "")
    if not text_value:
        return None
    m = re.fullmatch(r"(\d+(?:\.\d{1,2})?)(?:元)?(?:(?:/|每)(月|天|日|半天|半日|小时|时))?", text_value)
    if not m:
        row.error("bad_price", f"“{header}”格式应为“3200元/月”", header)
        return None
    fen = round(float(m.group(1)) * 100)
    unit = PRICE_UNIT_ALIASES[m.group(2)] if m.group(2) else DEFAULT_PRICE_UNIT[mode]
    if unit not in MODE_PRICE_UNITS[ServiceMode(mode)]:
        allowed = "、".join(PRICE_UNITS_ZH[u] for u in sorted(MODE_PRICE_UNITS[ServiceMode(mode)]))
        row.error("bad_price_unit", f"“{header}”的计价单位只能是：{allowed}", header)
        return None
    if fen > 10_000_000:
        row.error("bad_price", f"“{header}”金额过大", header)
        return None
    return fen, unit


def format_price(fen: int, unit: str) -> str:
    yuan = f"{fen // 100}" + (f".{fen % 100:02d}".rstrip("0") if fen % 100 else "")
    return f"{yuan}元/{PRICE_UNITS_ZH[unit]}"


class InstitutionsSpec(Spec):
    kind = "institutions"
    label_zh = "托育机构"
    columns = COLUMNS

    def __init__(self, settings: Settings | None = None, geocoder: Geocoder | None = None) -> None:
        self.settings = settings
        self.geocoder = geocoder
        self._class_numbers: list[int] = []
        self._modes_present: set[ServiceMode] = set()

    def match_extra(self, header: str) -> str | None:
        m = _CLASS_HEADER.match(header)
        if m and 1 <= int(m.group(1)) <= MAX_CLASSES:
            return f"class{int(m.group(1))}.{CLASS_FIELDS[m.group(2)]}"
        return None

    # ------------------------------------------------------------------------------------- check

    async def check(self, db: AsyncSession, rows: list[Row], crs: Crs) -> tuple[list[Any], dict[str, int]]:
        units = [(c, n) for c, n in (await db.execute(select(Unit.code, Unit.name_zh).order_by(Unit.sort_order)))]
        present = set().union(*(r.values.keys() for r in rows))
        self._class_numbers = sorted({int(k[5:].split(".")[0]) for k in present if k.startswith("class")})
        self._modes_present = {m for m in ServiceMode if f"mode.{m.value}" in present}
        codes = sorted({r.get("registration_no").strip().upper() for r in rows if r.get("registration_no")})
        existing = {
            i.registration_no: i
            for i in (await db.execute(select(Institution).where(Institution.registration_no.in_(codes)))).scalars()
        } if codes else {}  # fmt: skip
        ids = [i.id for i in existing.values()]
        modes: dict[uuid.UUID, dict[str, tuple[int, str]]] = defaultdict(dict)
        classes: dict[uuid.UUID, dict[str, CareClass]] = defaultdict(dict)
        if ids:
            for m in (
                await db.execute(select(InstitutionMode).where(InstitutionMode.institution_id.in_(ids)))
            ).scalars():
                modes[m.institution_id][m.mode] = (m.price_fen, m.price_unit)
            for c in (await db.execute(select(CareClass).where(CareClass.institution_id.in_(ids)))).scalars():
                classes[c.institution_id][c.name] = c
        seen_codes: dict[str, int] = {}
        seen_places: dict[tuple[str, str], tuple[int, str]] = {}
        parsed: list[InstitutionRow] = []
        for row in rows:
            item = await self._check_row(row, crs, units, present, existing, modes, classes)
            if item is None:
                continue
            code = item.code
            if code in seen_codes:
                row.error("duplicate_in_file", f"与第{seen_codes[code]}行的统一社会信用代码重复", "统一社会信用代码")
                continue
            seen_codes[code] = row.number
            place = (item.name, item.address)
            if place in seen_places and seen_places[place][1] != code:
                row.warn("possible_duplicate", f"与第{seen_places[place][0]}行名称和地址相同，疑似重复", "机构名称")
            seen_places.setdefault(place, (row.number, code))
            if row.ok:
                parsed.append(item)
        await self._warn_db_duplicates(db, rows, parsed)
        ok_numbers = {r.number for r in rows if r.ok}
        parsed = [p for p in parsed if p.number in ok_numbers]
        counts = {
            "create": sum(p.is_new for p in parsed),
            "update": sum(not p.is_new and p.changed for p in parsed),
            "unchanged": sum(not p.is_new and not p.changed for p in parsed),
            "classes": sum(len(p.class_inserts) + len(p.class_updates) for p in parsed),
        }
        return parsed, counts

    async def _warn_db_duplicates(self, db: AsyncSession, rows: list[Row], parsed: list[InstitutionRow]) -> None:
        if not parsed:
            return
        found = await db.execute(
            text(
                "SELECT f.n, i.registration_no FROM institutions i "
                "JOIN unnest(CAST(:names AS text[]), CAST(:addresses AS text[]), CAST(:codes AS text[]), CAST(:ns AS int[])) "
                "AS f(name, address, code, n) ON i.name = f.name AND i.address = f.address AND i.registration_no <> f.code"
            ),
            {
                "names": [p.name for p in parsed],
                "addresses": [p.address for p in parsed],
                "codes": [p.code for p in parsed],
                "ns": [p.number for p in parsed],
            },
        )
        by_number = {r.number: r for r in rows}
        for number, other in found:
            by_number[number].warn(
                "possible_duplicate", f"与已登记机构（统一社会信用代码{other}）名称和地址相同，疑似重复", "机构名称"
            )

    # long: one row's checks, in the order the report lists its problems
    async def _check_row(
        self,
        row: Row,
        crs: Crs,
        units: list[tuple[int, str]],
        present: set[str],
        existing: dict[str, Institution],
        modes: dict[uuid.UUID, dict[str, tuple[int, str]]],
        classes: dict[uuid.UUID, dict[str, CareClass]],
    ) -> InstitutionRow | None:
        code = unicodedata.normalize("NFKC", row.get("registration_no")).replace(" ", "").upper()
        if not uscc_valid(code):
            row.error("registration_no_invalid", "统一社会信用代码格式或校验位错误", "统一社会信用代码")
        current = existing.get(code)
        values: dict[str, Any] = {"registration_no": code}
        values["name"] = parse_text(row, "name", "机构名称", max_len=100)
        values["address"] = parse_text(row, "address", "地址", max_len=200)
        if "street" in present:
            values["street"] = parse_text(row, "street", "所属街道（乡镇）", max_len=60, required=False) or None
        unit_code = match_unit(row.get("unit"), units)
        if unit_code is None:
            row.error("unknown_unit", "“所属区县”不是大庆市的区县（如“萨尔图区”“肇州县”）", "所属区县")
        values["unit_code"] = unit_code
        self.check_unit(row, unit_code, "所属区县")
        if current is not None and current.unit_code != unit_code:
            self.check_unit(row, current.unit_code, "统一社会信用代码")
        for key, header, aliases, default in (
            ("legal_form", "法人类型", LEGAL_FORM_ALIASES, "for_profit"),
            ("ownership", "举办性质", OWNERSHIP_ALIASES, "private"),
        ):
            raw = normalise_header(row.get(key))
            if key in present and raw:
                if raw not in aliases:
                    row.error(f"bad_{key}", f"“{header}”只能填写：{'、'.join(dict.fromkeys(aliases))}", header)
                values[key] = aliases.get(raw, default)
            elif current is None:
                if key in present:
                    row.error("missing_value", f"“{header}”不能为空", header)
                values[key] = default
        phone = unicodedata.normalize("NFKC", row.get("phone")).replace(" ", "")
        if "phone" in present or current is None:
            if not re.fullmatch(r"[0-9+\-()]{5,20}", phone):
                row.error("bad_phone", "“联系电话”须为5至20位数字（可含-）", "联系电话")
            values["phone"] = phone
        if "filing_status" in present:
            raw = normalise_header(row.get("filing_status"))
            status = FILING_ALIASES.get(raw) if raw else "unfiled"
            if status is None:
                row.error("bad_filing_status", "“备案状态”只能填写“已备案”或“未备案”", "备案状态")
            elif current is not None and current.filing_status in ("submitted", "returned"):
                if status == "filed":
                    row.warn("filing_in_review", "该机构的备案正在审核中，备案状态未改动", "备案状态")
            else:
                values["filing_status"] = status
        for key, (column, header, _) in FLAGS.items():
            if key in present:
                values[column] = parse_bool(row, key, header)
        if values.get("is_home_based", current and current.is_home_based) and values.get(
            "is_kindergarten_class", current and current.is_kindergarten_class
        ):
            row.error("flags_conflict", "家庭托育点与幼儿园托班不能同时选择", "家庭托育点")
        point = parse_point(row, crs)
        if point is None and row.ok and not row.get("lng") and not row.get("lat"):
            if current is not None:
                row.warn("no_coordinates_kept", "未填经纬度，保留原坐标", "经度")
            elif self.geocoder is not None and values["address"]:
                point = await self.geocoder.locate_row(row, values["address"])
            else:
                row.error("needs_geocoding", "缺少经纬度：需按地址进行地理编码，但未配置地理编码服务", "经度")
        if point is not None:
            values["lng"], values["lat"] = point
        item = InstitutionRow(
            row.number,
            current.id if current else uuid.uuid4(),
            current is None,
            values,
            code,
            values["name"],
            values["address"],
        )
        if current is not None:
            item.changed = any(
                abs(getattr(current, k) - v) > COORD_TOLERANCE if k in ("lat", "lng") else getattr(current, k) != v
                for k, v in values.items()
            )
            if not item.changed:
                item.values = {}
        self._check_modes(row, present, item, modes.get(item.id, {}))
        self._check_classes(row, present, item, current, classes.get(item.id, {}))
        return item

    def _check_modes(self, row: Row, present: set[str], item: InstitutionRow, have: dict[str, tuple[int, str]]) -> None:
        if not self._modes_present:
            return
        want = {}
        for mode in ServiceMode:
            if mode in self._modes_present:
                price = parse_price(row, mode.value, MODE_COLUMNS[mode])
                if price is not None:
                    want[mode.value] = price
            elif mode.value in have:
                want[mode.value] = have[mode.value]
        item.modes = want
        for mode, (fen, unit) in want.items():
            if have.get(mode) != (fen, unit):
                item.mode_upserts.append(
                    {"institution_id": item.id, "mode": mode, "price_fen": fen, "price_unit": unit}
                )
        for mode in have.keys() - want.keys():
            item.mode_deletes.append({"iid": item.id, "m": mode})

    def _check_classes(
        self, row: Row, present: set[str], item: InstitutionRow, current: Institution | None, have: dict[str, CareClass]
    ) -> None:
        numbers = self._class_numbers
        if not numbers:
            return
        wanted: list[ClassRow] = []
        for n in numbers:
            get = {f: row.get(f"class{n}.{f}").strip() for f in ("name", "type", "capacity", "carers")}
            if not any(get.values()):
                continue
            label = f"班级{n}"
            name = " ".join(get["name"].split())
            if not name or len(name) > 40:
                row.error("bad_class_name", f"“{label}名称”不能为空且不超过40个字", f"{label}名称")
                continue
            class_type = CLASS_TYPE_ALIASES.get(normalise_header(get["type"]))
            if class_type is None:
                row.error("bad_class_type", f"“{label}类型”只能是乳儿班、托小班、托大班或混合班", f"{label}类型")
                continue
            capacity = parse_int(row, f"class{n}.capacity", f"{label}托位数", low=1, high=100)
            carers = parse_int(row, f"class{n}.carers", f"{label}保育人员数", low=0, high=100)
            if capacity is None or carers is None:
                continue
            if any(c.name == name for c in wanted):
                row.error("class_name_taken", f"班级名称“{name}”重复", f"{label}名称")
                continue
            wanted.append(ClassRow(name, class_type, capacity, carers))
        item.classes = wanted
        home = item.values.get("is_home_based", current.is_home_based if current else False)
        kg = item.values.get("is_kindergarten_class", current.is_kindergarten_class if current else False)
        kept = [c for name, c in have.items() if name not in {w.name for w in wanted}]
        total = sum(w.capacity for w in wanted) + sum(c.capacity for c in kept)
        for c in kept:
            row.warn("class_not_listed", f"已有班级“{c.name}”未出现在文件中，保留不变", None)
        now = dt.datetime.now(dt.UTC)
        for w in wanted:
            old = have.get(w.name)
            taken = old.places_taken if old else 0
            breach = check_class(
                ClassType(w.class_type), w.capacity, w.carers, enrolled=taken, is_home_based=home,
                is_kindergarten_class=kg, other_classes_capacity=total - w.capacity,
            )  # fmt: skip
            if breach:
                row.error(breach.code, f"班级“{w.name}”：{breach.detail_zh}", None)
                continue
            if old is None:
                item.class_inserts.append(
                    {"id": uuid.uuid4(), "institution_id": item.id, "name": w.name, "class_type": w.class_type,
                     "capacity": w.capacity, "carers": w.carers}
                )  # fmt: skip
            elif (old.class_type, old.capacity, old.carers) != (w.class_type, w.capacity, w.carers):
                item.class_updates.append(
                    {"id": old.id, "class_type": w.class_type, "capacity": w.capacity, "carers": w.carers,
                     "updated_at": now}
                )  # fmt: skip
                if w.capacity > old.capacity:
                    item.capacity_raised.append(old.id)
        if item.mode_upserts or item.mode_deletes or item.class_inserts or item.class_updates:
            item.changed = True

    # ------------------------------------------------------------------------------------- apply

    async def apply(self, db: AsyncSession, parsed: list[InstitutionRow], actor: Any) -> None:
        now = dt.datetime.now(dt.UTC)
        creates = [{"id": p.id, **p.values, "opening_hours": []} for p in parsed if p.is_new]
        updates = [{"id": p.id, **p.values, "updated_at": now} for p in parsed if not p.is_new and p.values]
        for batch in _batches(creates):
            await db.execute(insert(Institution), batch)
        by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for u in updates:  # executemany needs the same columns in every row
            by_keys[tuple(sorted(u))].append(u)
        for group in by_keys.values():
            for batch in _batches(group):
                await db.execute(update(Institution), batch)
        mode_deletes = [d for p in parsed for d in p.mode_deletes]
        if mode_deletes:
            await db.execute(
                delete(InstitutionMode)
                .where(InstitutionMode.institution_id == bindparam("iid"), InstitutionMode.mode == bindparam("m"))
                .execution_options(synchronize_session=False),
                mode_deletes,
            )
        upserts = [m for p in parsed for m in p.mode_upserts]
        if upserts:
            stmt = pg_insert(InstitutionMode.__table__)
            stmt = stmt.on_conflict_do_update(
                index_elements=["institution_id", "mode"],
                set_={"price_fen": stmt.excluded.price_fen, "price_unit": stmt.excluded.price_unit},
            )
            for batch in _batches(upserts):
                await db.execute(stmt, batch)
        class_updates = [c for p in parsed for c in p.class_updates]
        for batch in _batches(class_updates):
            await db.execute(update(CareClass), batch)
        class_inserts = [c for p in parsed for c in p.class_inserts]
        for batch in _batches(class_inserts):
            await db.execute(insert(CareClass), batch)
        if self.settings is not None:
            for class_id in (c for p in parsed for c in p.capacity_raised):
                await class_capacity_changed(db, self.settings, class_id)

    # ------------------------------------------------------------------------------------ export

    async def export(self, db: AsyncSession, crs: Crs) -> tuple[list[str], list[list[str]]]:
        insts = list((await db.execute(select(Institution).order_by(Institution.registration_no))).scalars())
        units = {code: name for code, name in (await db.execute(select(Unit.code, Unit.name_zh))).all()}
        modes: dict[uuid.UUID, dict[str, tuple[int, str]]] = defaultdict(dict)
        for m in (await db.execute(select(InstitutionMode))).scalars():
            modes[m.institution_id][m.mode] = (m.price_fen, m.price_unit)
        classes: dict[uuid.UUID, list[CareClass]] = defaultdict(list)
        for c in (await db.execute(select(CareClass).order_by(CareClass.institution_id, CareClass.name))).scalars():
            classes[c.institution_id].append(c)
        groups = max([3, *(len(v) for v in classes.values())])
        header = [c.header for c in COLUMNS]
        for n in range(1, groups + 1):
            header += [f"班级{n}名称", f"班级{n}类型", f"班级{n}托位数", f"班级{n}保育人员数"]
        out = []
        for i in insts:
            lng, lat = from_wgs84(crs, i.lng, i.lat)
            row = [
                i.name, i.registration_no, LEGAL_FORMS[i.legal_form], OWNERSHIP[i.ownership], units[i.unit_code],
                i.address, i.street or "", _coord(lng), _coord(lat), i.phone,
                FILING.get(i.filing_status, "未备案"),
                *("是" if getattr(i, col) else "否" for col, _, _ in FLAGS.values()),
                *(format_price(*modes[i.id][m.value]) if m.value in modes[i.id] else "" for m in ServiceMode),
            ]  # fmt: skip
            for c in classes[i.id]:
                row += [c.name, CLASS_RULES[ClassType(c.class_type)].name_zh, str(c.capacity), str(c.carers)]
            row += [""] * (len(header) - len(row))
            out.append(row)
        return header, out


def _coord(value: float) -> str:
    return f"{value:.7f}".rstrip("0").rstrip(".")


def _batches(items: list[dict[str, Any]], size: int = 2000) -> list[list[dict[str, Any]]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
