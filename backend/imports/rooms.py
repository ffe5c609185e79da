"""The mother-and-baby rooms register (母婴室名单, trade union / women's federation).

One row per room, matched by the register's own id (来源编号), which must be stable across files.
A new room gets version 1, a changed room a new version, through the rooms service (so its history
of revisions records the import like any other change). Opening hours are not part of the file:
an import keeps the hours staff entered.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.config import Settings
from backend.imports.crs import Crs, from_wgs84
from backend.imports.pipeline import Column, Row, Spec, normalise_header, parse_bool, parse_int, parse_point, parse_text
from backend.rooms import service as rooms
from backend.rooms.models import AMENITIES, VENUE_TYPES, Room
from backend.rooms.schemas import RoomFacts

COLUMNS = (
    Column("source_id", "来源编号", ("编号", "序号ID", "母婴室编号", "源编号"), required=True),
    Column("name", "母婴室名称", ("名称", "母婴室"), required=True),
    Column("venue", "所在场所", ("场所名称", "场所", "所属单位", "建设单位")),
    Column("venue_type", "场所类型", ("类型", "场所类别")),
    Column("address", "地址", ("详细地址", "所在地址"), required=True),
    Column("location_hint", "位置说明", ("具体位置", "楼层位置", "位置")),
    Column("lng", "经度", ("lng", "lon", "longitude", "x")),
    Column("lat", "纬度", ("lat", "latitude", "y")),
    Column("amenities", "配套设施", ("设施", "设施设备")),
    Column("area_m2", "面积（平方米）", ("面积", "使用面积")),
    Column("independent", "独立设置", ("是否独立", "独立母婴室")),
    Column("managing_body", "管理单位", ("管理主体", "责任单位", "管理部门")),
    Column("contact_phone", "联系电话", ("电话", "联系方式")),
)
VENUE_ALIASES = {v: k for k, v in VENUE_TYPES.items()} | {"商场": "commercial_centre", "车站": "transport_hub",
                 "机场": "transport_hub", "景区": "tourist_area", "政务大厅": "government_hall"}  # fmt: skip
AMENITY_ALIASES = {v: k for k, v in AMENITIES.items()}
_OWN_ID = re.compile(r"ROOM-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(slots=True)
class RoomRow:
    number: int
    source_id: str
    facts: RoomFacts
    room_id: Any  # None: new
    changed: bool


class RoomsSpec(Spec):
    kind = "rooms"
    label_zh = "母婴室"
    columns = COLUMNS

    def __init__(self, settings: Settings | None = None, geocoder: Any = None) -> None:
        self.settings, self.geocoder = settings, geocoder

    async def check(self, db: AsyncSession, rows: list[Row], crs: Crs) -> tuple[list[Any], dict[str, int]]:
        ids = sorted({r.get("source_id").strip() for r in rows})
        existing = {r.source_id: r for r in (await db.execute(select(Room).where(Room.source_id.in_(ids)))).scalars()}
        # Rooms entered in the app have no source id: exports name them ROOM-<id>, which matches them back.
        own = [uuid.UUID(i[5:]) for i in ids if _OWN_ID.fullmatch(i)]
        if own:
            for r in (await db.execute(select(Room).where(Room.id.in_(own), Room.source_id.is_(None)))).scalars():
                existing[f"ROOM-{r.id}"] = r
        seen: dict[str, int] = {}
        parsed: list[RoomRow] = []
        for row in rows:
            source_id = parse_text(row, "source_id", "来源编号", max_len=64)
            if source_id in seen:
                row.error("duplicate_in_file", f"与第{seen[source_id]}行的来源编号重复", "来源编号")
                continue
            seen[source_id] = row.number
            current = existing.get(source_id)
            facts = await self._facts(row, crs, current)
            if facts is None or not row.ok:
                continue
            changed = current is not None and msgspec.to_builtins(rooms.facts_of(current)) != msgspec.to_builtins(facts)
            parsed.append(RoomRow(row.number, source_id, facts, current.id if current else None, changed))
        counts = {
            "create": sum(p.room_id is None for p in parsed),
            "update": sum(p.changed for p in parsed),
            "unchanged": sum(p.room_id is not None and not p.changed for p in parsed),
        }
        return parsed, counts

    async def _facts(self, row: Row, crs: Crs, current: Room | None) -> RoomFacts | None:
        values: dict[str, Any] = msgspec.to_builtins(rooms.facts_of(current)) if current else {}
        values["name"] = parse_text(row, "name", "母婴室名称", max_len=100)
        values["address"] = parse_text(row, "address", "地址", max_len=200)
        values["venue"] = parse_text(row, "venue", "所在场所", max_len=100, required=False) or values["name"]
        venue_type = normalise_header(row.get("venue_type"))
        values["venue_type"] = VENUE_ALIASES.get(venue_type, "other" if not venue_type else None)
        if values["venue_type"] is None:
            row.error("bad_venue_type", "“场所类型”只能是：" + "、".join(VENUE_TYPES.values()), "场所类型")
        values["location_hint"] = parse_text(row, "location_hint", "位置说明", max_len=100, required=False) or None
        amenities = []
        for part in re.split(r"[、,，;；/\s]+", unicodedata.normalize("NFKC", row.get("amenities"))):
            if part:
                if part not in AMENITY_ALIASES:
                    row.error("bad_amenity", f"未知的设施“{part}”（可填：{'、'.join(AMENITIES.values())}）", "配套设施")
                else:
                    amenities.append(AMENITY_ALIASES[part])
        values["amenities"] = sorted(set(amenities))
        values["area_m2"] = parse_int(row, "area_m2", "面积（平方米）", low=1, high=1000, required=False)
        values["independent"] = parse_bool(row, "independent", "独立设置") if row.get("independent") else True
        values["managing_body"] = parse_text(row, "managing_body", "管理单位", max_len=100, required=False) or None
        phone = unicodedata.normalize("NFKC", row.get("contact_phone")).strip()
        if phone and not re.fullmatch(r"\+?[0-9][0-9 -]{4,18}[0-9]", phone):
            row.error("bad_phone", "“联系电话”格式不正确", "联系电话")
        values["contact_phone"] = phone or None
        point = parse_point(row, crs)
        if point is None and row.ok and not row.get("lng") and not row.get("lat"):
            if current is not None:
                row.warn("no_coordinates_kept", "未填经纬度，保留原坐标", "经度")
                point = (current.lng, current.lat)
            elif self.geocoder is not None and values["address"]:
                point = await self.geocoder.locate_row(row, values["address"])
            else:
                row.error("needs_geocoding", "缺少经纬度：需按地址进行地理编码，但未配置地理编码服务", "经度")
        if point is None or not row.ok:
            return None
        if current is not None and abs(current.lng - point[0]) <= 1e-6 and abs(current.lat - point[1]) <= 1e-6:
            point = (current.lng, current.lat)
        values["lng"], values["lat"] = point
        try:
            return msgspec.convert(values, RoomFacts)
        except msgspec.ValidationError as exc:
            row.error("bad_value", f"数据不符合要求：{exc}", None)
            return None

    async def apply(self, db: AsyncSession, parsed: list[RoomRow], actor: Any) -> None:
        for p in parsed:
            if p.room_id is None:
                room = await rooms.create_room(db, p.facts, created_by=actor)
                room.source_id = p.source_id
            elif p.changed:
                room = await rooms.load(db, p.room_id, lock=True)
                await rooms.apply_facts(db, room, p.facts, changed_by=actor, suggestion_id=None)
        await db.flush()

    async def export(self, db: AsyncSession, crs: Crs) -> tuple[list[str], list[list[str]]]:
        header = [c.header for c in COLUMNS]
        out = []
        for r in (await db.execute(select(Room).order_by(Room.source_id, Room.id))).scalars():
            lng, lat = from_wgs84(crs, r.lng, r.lat)
            out.append([
                r.source_id or f"ROOM-{r.id}", r.name, r.venue, VENUE_TYPES[r.venue_type], r.address,
                r.location_hint or "", _coord(lng), _coord(lat), "、".join(AMENITIES[a] for a in sorted(r.amenities)),
                str(r.area_m2) if r.area_m2 is not None else "", "是" if r.independent else "否",
                r.managing_body or "", r.contact_phone or "",
            ])  # fmt: skip
        return header, out


def _coord(value: float) -> str:
    return f"{value:.7f}".rstrip("0").rstrip(".")
