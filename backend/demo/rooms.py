"""Daqing demo mother-and-baby rooms (母婴室) at plausible venues, and their idempotent seeding.

Everything here is *demo*: the venues are real kinds of places in Daqing (stations, the airport,
shopping centres, hospitals, museums, parks, service halls), but the rooms, their equipment, hours,
managers and phone numbers are invented. Positions are *approximate* WGS-84 points near the real
places (good to a few hundred metres at best, sometimes only to the right part of town); they are
for demonstration only and must not be used for navigation. Every room carries ``is_demo`` and a
name starting with 【演示】; its unit is the nearest unit centre (as complaints compute it).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.demo.data import demo_id

ROOM_MARK = "【演示】"
ALL_DAYS = [1, 2, 3, 4, 5, 6, 7]
WEEKDAYS = [1, 2, 3, 4, 5]

# Weekly opening hours ([{days, opens, closes}], local time), by kind of venue.
HOURS: dict[str, list[dict[str, Any]]] = {
    "24h": [{"days": ALL_DAYS, "opens": "00:00", "closes": "24:00"}],
    "station": [{"days": ALL_DAYS, "opens": "05:30", "closes": "23:30"}],
    "airport": [{"days": ALL_DAYS, "opens": "06:00", "closes": "24:00"}],
    "mall": [
        {"days": [1, 2, 3, 4, 5], "opens": "09:30", "closes": "21:30"},
        {"days": [6, 7], "opens": "09:30", "closes": "22:00"},
    ],
    "hospital": [
        {"days": WEEKDAYS, "opens": "07:30", "closes": "17:30"},
        {"days": [6, 7], "opens": "08:00", "closes": "12:00"},
    ],
    "museum": [{"days": [2, 3, 4, 5, 6, 7], "opens": "09:00", "closes": "16:30"}],  # closed on Mondays
    "park": [{"days": ALL_DAYS, "opens": "06:00", "closes": "20:00"}],
    "scenic": [{"days": ALL_DAYS, "opens": "08:30", "closes": "17:30"}],
    "hall": [  # lunch break, as service halls keep it
        {"days": WEEKDAYS, "opens": "08:30", "closes": "11:30"},
        {"days": WEEKDAYS, "opens": "13:30", "closes": "17:00"},
    ],
    "library": [{"days": [2, 3, 4, 5, 6, 7], "opens": "09:00", "closes": "20:00"}],
}

# Dated exceptions ([{date, closed} | {date, opens, closes}], with a note) around New Year and the
# 2027 Spring Festival (除夕 5 February, 初一 6 February).
EXCEPTIONS: dict[str, list[dict[str, Any]]] = {
    "none": [],
    "hall_holidays": [
        {"date": "2027-01-01", "closed": True, "note": "元旦休息"},
        *({"date": f"2027-02-{d:02d}", "closed": True, "note": "春节休息"} for d in range(5, 12)),
    ],
    "mall_new_year": [
        {"date": "2027-02-05", "closed": False, "opens": "09:30", "closes": "17:00", "note": "除夕提前闭店"},
        {"date": "2027-02-06", "closed": False, "opens": "12:00", "closes": "21:30", "note": "初一延迟开门"},
    ],
    "museum_holidays": [
        {"date": "2027-02-05", "closed": True, "note": "除夕闭馆"},
        {"date": "2027-02-08", "closed": False, "opens": "09:00", "closes": "16:30", "note": "春节期间周一照常开放"},
    ],
    "renovation": [{"date": "2026-12-15", "closed": True, "note": "设备检修"}],
    "park_winter": [
        {"date": "2027-01-01", "closed": False, "opens": "08:00", "closes": "17:00", "note": "元旦缩短开放"}
    ],
}

# Equipment, by how well a room is equipped (the national guidance's basic list, and the optional extras).
BASIC = ["changing_table", "hot_water_sink", "nursing_chair", "lockable_door", "power_socket"]
AMENITY_SETS: dict[str, list[str]] = {
    "full": [*BASIC, "baby_bed", "call_button", "air_conditioning", "diaper_vending", "wheelchair_access"],
    "good": [*BASIC, "baby_bed", "air_conditioning", "wheelchair_access"],
    "basic": BASIC,
    "basic_call": [*BASIC, "call_button", "wheelchair_access"],
    "small": ["changing_table", "nursing_chair", "lockable_door"],
    "shared": ["changing_table", "hot_water_sink", "wheelchair_access"],
}


@dataclass(frozen=True)
class DemoRoom:
    key: str
    name: str
    venue: str
    venue_type: str
    address: str
    location_hint: str | None
    lat: float
    lng: float
    opening_hours: list[dict[str, Any]]
    exceptions: list[dict[str, Any]]
    amenities: list[str]
    area_m2: int | None
    independent: bool
    managing_body: str | None
    contact_phone: str | None
    verified_on: dt.date | None

    @property
    def id(self) -> uuid.UUID:
        return demo_id("room", self.key)

    def facts(self) -> dict[str, Any]:
        """The room's facts as RoomFacts names them (for the first revision)."""
        return {
            "name": self.name,
            "venue": self.venue,
            "venue_type": self.venue_type,
            "address": self.address,
            "lat": self.lat,
            "lng": self.lng,
            "location_hint": self.location_hint,
            "opening_hours": self.opening_hours,
            "exceptions": self.exceptions,
            "amenities": self.amenities,
            "area_m2": self.area_m2,
            "independent": self.independent,
            "managing_body": self.managing_body,
            "contact_phone": self.contact_phone,
        }


# key, room name (after the mark), venue, venue type, address, location hint, approx. lat, lng,
# hours, exceptions, amenities, area m² (None: unknown), independent, managing body, phone, verified on.
_ROOMS: list[tuple[Any, ...]] = [
    # 萨尔图区
    ("daqing_station_hall", "大庆站候车室母婴室", "大庆站", "transport_hub", "大庆市萨尔图区站前路", "二楼候车室检票口 3 旁",
     46.6003, 125.0851, "24h", "none", "full", 24, True, "中国铁路哈尔滨局集团有限公司大庆站", "0459-6123401", dt.date(2026, 10, 20)),
    ("daqing_station_exit", "大庆站出站层母婴室", "大庆站", "transport_hub", "大庆市萨尔图区站前路", "一楼出站口东侧",
     46.5999, 125.0858, "station", "none", "good", 12, True, "中国铁路哈尔滨局集团有限公司大庆站", "0459-6123401", None),
    ("airport_departures", "萨尔图机场出发层母婴室", "大庆萨尔图机场", "transport_hub", "大庆市萨尔图区机场路", "航站楼二楼安检后 5 号登机口旁",
     46.7464, 125.1385, "24h", "none", "full", 30, True, "大庆萨尔图机场有限公司", "0459-6188802", dt.date(2026, 9, 12)),
    ("airport_arrivals", "萨尔图机场到达层母婴室", "大庆萨尔图机场", "transport_hub", "大庆市萨尔图区机场路", "一楼到达行李提取厅北侧",
     46.7458, 125.1392, "airport", "none", "good", 15, True, "大庆萨尔图机场有限公司", "0459-6188802", None),
    ("wanda_saertu", "万达广场母婴室", "大庆萨尔图万达广场", "commercial_centre", "大庆市萨尔图区东风路", "三楼儿童区卫生间旁",
     46.6166, 125.1497, "mall", "mall_new_year", "full", 28, True, "大庆万达广场商业管理有限公司", "0459-6345503", dt.date(2026, 11, 2)),
    ("xinmate_dongfeng", "新玛特购物中心母婴室", "大庆新玛特购物中心", "commercial_centre", "大庆市萨尔图区东风新村纬二路", "四楼童装区东侧",
     46.5987, 125.1033, "mall", "mall_new_year", "good", 16, True, "大庆新玛特商业管理有限公司", "0459-6345604", None),
    ("baihuo_saertu", "百货大楼母婴室", "大庆百货大楼", "commercial_centre", "大庆市萨尔图区中央大街", "二楼电梯间（与无障碍卫生间合用）",
     46.5962, 125.0957, "mall", "none", "shared", 6, False, "大庆百货大楼有限公司", None, None),
    ("oilfield_general_hospital", "大庆油田总医院门诊母婴室", "大庆油田总医院", "hospital", "大庆市萨尔图区中康街", "门诊楼二楼儿科候诊区",
     46.6046, 125.1152, "hospital", "none", "full", 20, True, "大庆油田总医院", "0459-5805110", dt.date(2026, 8, 30)),
    ("maternal_child_hospital", "妇幼保健院住院部母婴室", "大庆市妇幼保健院", "hospital", "大庆市萨尔图区纬二路", "住院部一楼产科病区入口",
     46.6012, 125.1197, "24h", "none", "full", 22, True, "大庆市妇幼保健院", "0459-4602120", dt.date(2026, 10, 8)),
    ("maternal_child_clinic", "妇幼保健院门诊母婴室", "大庆市妇幼保健院", "hospital", "大庆市萨尔图区纬二路", "门诊楼三楼儿童保健科",
     46.6015, 125.1190, "hospital", "renovation", "good", 14, True, "大庆市妇幼保健院", "0459-4602120", None),
    ("liminghu_park", "黎明湖公园母婴室", "黎明湖公园", "park", "大庆市萨尔图区黎明湖", "南门游客服务中心内",
     46.6031, 125.1464, "park", "park_winter", "basic", 10, True, "萨尔图区园林管理处", "0459-6212306", None),
    ("children_park", "儿童公园母婴室", "大庆儿童公园", "park", "大庆市萨尔图区会战大街", "游乐区北侧服务亭",
     46.6112, 125.1073, "park", "none", "basic_call", 12, True, "大庆市园林管理中心", None, dt.date(2026, 7, 15)),
    ("saertu_service_hall", "萨尔图区政务服务中心母婴室", "萨尔图区政务服务中心", "government_hall", "大庆市萨尔图区友谊大街",
     "一楼大厅东侧", 46.6281, 125.1147, "hall", "hall_holidays", "basic_call", 11, True, "萨尔图区营商环境建设监督局", "0459-6399012", dt.date(2026, 6, 1)),
    ("city_library", "大庆市图书馆母婴室", "大庆市图书馆", "other", "大庆市萨尔图区会战大街", "少儿阅览区旁",
     46.6083, 125.1241, "library", "none", "small", 8, True, "大庆市图书馆", None, None),
    # 让胡路区
    ("daqing_west_station", "大庆西站母婴室", "大庆西站", "transport_hub", "大庆市让胡路区西站路", "二楼候车大厅 A 检票口对面",
     46.5878, 124.8762, "station", "none", "full", 26, True, "中国铁路哈尔滨局集团有限公司大庆西站", "0459-6712203", dt.date(2026, 11, 10)),
    ("ranghulu_station", "让胡路站母婴室", "让胡路站", "transport_hub", "大庆市让胡路区站前街", "候车室西侧（与无障碍卫生间合用）",
     46.6524, 124.8673, "station", "none", "shared", 5, False, "中国铁路哈尔滨局集团有限公司让胡路站", None, None),
    ("daqing_museum", "大庆博物馆母婴室", "大庆博物馆", "tourist_area", "大庆市让胡路区世纪大道", "一楼服务台旁",
     46.6018, 124.9487, "museum", "museum_holidays", "good", 15, True, "大庆博物馆", "0459-5960122", dt.date(2026, 9, 1)),
    ("tieren_memorial", "铁人王进喜纪念馆母婴室", "铁人王进喜纪念馆", "tourist_area", "大庆市让胡路区世纪大道", "序厅右侧游客服务区",
     46.6123, 124.9117, "museum", "museum_holidays", "full", 18, True, "铁人王进喜纪念馆", "0459-5970098", dt.date(2026, 9, 1)),
    ("peoples_hospital", "大庆市人民医院母婴室", "大庆市人民医院", "hospital", "大庆市让胡路区爱国路", "门诊楼一楼儿科急诊旁",
     46.6372, 124.8657, "24h", "none", "good", 16, True, "大庆市人民医院", "0459-4681120", dt.date(2026, 10, 25)),
    ("longnan_hospital", "大庆龙南医院母婴室", "大庆龙南医院", "hospital", "大庆市让胡路区爱国路龙南", "门诊楼二楼妇产科候诊区",
     46.5889, 124.9143, "hospital", "none", "basic", 12, True, "大庆龙南医院", "0459-5990120", None),
    ("city_service_hall", "大庆市政务服务中心母婴室", "大庆市政务服务中心", "government_hall", "大庆市让胡路区世纪大道",
     "一楼综合受理区北侧", 46.5961, 124.9765, "hall", "hall_holidays", "full", 20, True, "大庆市营商环境建设监督局", "0459-6398800", dt.date(2026, 5, 20)),
    ("ranghulu_service_hall", "让胡路区政务服务中心母婴室", "让胡路区政务服务中心", "government_hall", "大庆市让胡路区中央大街",
     "二楼楼梯口", 46.6512, 124.8741, "hall", "hall_holidays", "small", 7, True, "让胡路区营商环境建设监督局", None, None),
    ("ranghulu_mall", "让胡路购物中心母婴室", "让胡路购物中心", "commercial_centre", "大庆市让胡路区乘风大街", "三楼儿童游乐区入口",
     46.6467, 124.8801, "mall", "mall_new_year", "good", 14, True, "让胡路购物中心物业服务中心", "0459-5612708", None),
    ("century_square", "世纪广场母婴室", "世纪广场", "park", "大庆市让胡路区世纪大道", "地下商业街入口旁",
     46.5993, 124.9622, "park", "none", "shared", 6, False, "让胡路区城市管理局", None, None),
    # 龙凤区
    ("daqing_east_station", "大庆东站母婴室", "大庆东站", "transport_hub", "大庆市龙凤区东站路", "候车室南侧",
     46.5566, 125.1923, "station", "none", "basic_call", 12, True, "中国铁路哈尔滨局集团有限公司大庆东站", "0459-6612104", None),
    ("longfeng_wetland", "龙凤湿地游客中心母婴室", "龙凤湿地自然保护区", "tourist_area", "大庆市龙凤区湿地路", "游客中心一楼",
     46.5352, 125.1694, "scenic", "none", "basic", 10, True, "龙凤湿地管理处", "0459-6617705", None),
    ("longfeng_service_hall", "龙凤区政务服务中心母婴室", "龙凤区政务服务中心", "government_hall", "大庆市龙凤区龙政路",
     "一楼大厅西侧", 46.5617, 125.1382, "hall", "hall_holidays", "basic", 9, True, "龙凤区营商环境建设监督局", "0459-6615500", dt.date(2026, 4, 18)),
    ("longfeng_hospital", "龙凤区人民医院母婴室", "龙凤区人民医院", "hospital", "大庆市龙凤区卧里屯", "门诊楼一楼",
     46.5628, 125.1298, "hospital", "none", "small", 8, True, "龙凤区人民医院", None, None),
    ("longfeng_mall", "龙凤商厦母婴室", "龙凤商厦", "commercial_centre", "大庆市龙凤区龙凤大街", "二楼卫生间旁（合用）",
     46.5589, 125.1461, "mall", "none", "shared", 5, False, "龙凤商厦物业", None, None),
    # 红岗区
    ("honggang_service_hall", "红岗区政务服务中心母婴室", "红岗区政务服务中心", "government_hall", "大庆市红岗区红岗大街",
     "一楼大厅", 46.4032, 124.8914, "hall", "hall_holidays", "basic", 8, True, "红岗区营商环境建设监督局", None, None),
    ("honggang_hospital", "红岗区人民医院母婴室", "红岗区人民医院", "hospital", "大庆市红岗区八百垧", "门诊楼二楼",
     46.3988, 124.8862, "hospital", "none", "basic", 10, True, "红岗区人民医院", "0459-4312120", None),
    ("honggang_park", "八百垧公园母婴室", "八百垧公园", "park", "大庆市红岗区八百垧", "东门管理用房内",
     46.4071, 124.8969, "park", "park_winter", "small", 6, True, "红岗区城市管理局", None, None),
    # 大同区
    ("datong_service_hall", "大同区政务服务中心母婴室", "大同区政务服务中心", "government_hall", "大庆市大同区大同镇",
     "一楼东侧", 46.0387, 124.8183, "hall", "hall_holidays", "basic", 8, True, "大同区营商环境建设监督局", None, None),
    ("datong_hospital", "大同区人民医院母婴室", "大同区人民医院", "hospital", "大庆市大同区新华", "门诊楼一楼儿科旁",
     46.0426, 124.8248, "hospital", "none", "basic_call", 10, True, "大同区人民医院", "0459-6211120", dt.date(2026, 8, 5)),
    ("datong_bus_station", "大同客运站母婴室", "大同客运站", "transport_hub", "大庆市大同区大同镇", "候车厅（与无障碍卫生间合用）",
     46.0354, 124.8129, "station", "none", "shared", None, False, "大同区客运站", None, None),
    # 高新区
    ("hitech_service_hall", "高新区政务服务中心母婴室", "大庆高新区政务服务中心", "government_hall", "大庆高新区新风路",
     "一楼综合窗口旁", 46.5815, 125.1986, "hall", "hall_holidays", "good", 12, True, "大庆高新区管委会", "0459-8181600", dt.date(2026, 7, 1)),
    ("petroleum_science_museum", "石油科技馆母婴室", "大庆石油科技馆", "tourist_area", "大庆高新区学府街", "一楼儿童科普展区",
     46.5852, 125.2068, "museum", "museum_holidays", "full", 20, True, "大庆石油科技馆", "0459-8181288", dt.date(2026, 9, 20)),
    ("hitech_outsourcing_park", "服务外包产业园母婴室", "大庆服务外包产业园", "other", "大庆高新区服务外包园", "A 座一楼（职工母婴室，对公众开放）",
     46.5763, 125.2104, "hall", "none", "basic", 10, True, "大庆服务外包产业园工会", None, None),
    # 肇州县
    ("zhaozhou_service_hall", "肇州县政务服务中心母婴室", "肇州县政务服务中心", "government_hall", "大庆市肇州县中兴街", "一楼大厅",
     45.7018, 125.2686, "hall", "hall_holidays", "basic", 8, True, "肇州县营商环境建设监督局", None, None),
    ("zhaozhou_hospital", "肇州县人民医院母婴室", "肇州县人民医院", "hospital", "大庆市肇州县南坛路", "门诊楼二楼妇产科",
     45.6972, 125.2741, "hospital", "none", "basic_call", 12, True, "肇州县人民医院", "0459-8612120", None),
    ("zhaozhou_bus_station", "肇州客运站母婴室", "肇州客运站", "transport_hub", "大庆市肇州县肇州镇", "候车厅北侧",
     45.7045, 125.2625, "station", "none", "small", 6, True, "肇州县客运站", None, None),
    # 肇源县
    ("zhaoyuan_service_hall", "肇源县政务服务中心母婴室", "肇源县政务服务中心", "government_hall", "大庆市肇源县鼓楼街", "一楼大厅",
     45.5196, 125.0823, "hall", "hall_holidays", "basic", 8, True, "肇源县营商环境建设监督局", None, None),
    ("zhaoyuan_hospital", "肇源县人民医院母婴室", "肇源县人民医院", "hospital", "大庆市肇源县民意", "门诊楼一楼",
     45.5233, 125.0764, "24h", "none", "good", 14, True, "肇源县人民医院", "0459-8212120", dt.date(2026, 10, 1)),
    ("zhaoyuan_riverside_park", "沿江湿地公园母婴室", "肇源沿江湿地公园", "park", "大庆市肇源县沿江路", "游客服务中心",
     45.5124, 125.0881, "park", "park_winter", "small", 6, True, "肇源县住房和城乡建设局", None, None),
    # 林甸县
    ("lindian_hot_spring", "林甸温泉景区母婴室", "林甸温泉景区", "tourist_area", "大庆市林甸县温泉路", "游客中心二楼",
     47.1813, 124.8712, "scenic", "none", "full", 18, True, "林甸县文体广电和旅游局", "0459-3312345", dt.date(2026, 8, 15)),
    ("lindian_service_hall", "林甸县政务服务中心母婴室", "林甸县政务服务中心", "government_hall", "大庆市林甸县林甸大街", "一楼大厅",
     47.1912, 124.8627, "hall", "hall_holidays", "basic", 8, True, "林甸县营商环境建设监督局", None, None),
    ("lindian_hospital", "林甸县医院母婴室", "林甸县医院", "hospital", "大庆市林甸县花园", "门诊楼一楼",
     47.1874, 124.8558, "hospital", "none", "small", 7, True, "林甸县医院", None, None),
    # 杜尔伯特蒙古族自治县
    ("lianhuanhu_scenic", "连环湖温泉景区母婴室", "连环湖温泉景区", "tourist_area", "大庆市杜尔伯特蒙古族自治县连环湖", "温泉大厅二楼",
     46.7092, 124.3498, "scenic", "none", "good", 15, True, "杜尔伯特县文体广电和旅游局", "0459-3412345", None),
    ("durbat_service_hall", "杜尔伯特县政务服务中心母婴室", "杜尔伯特县政务服务中心", "government_hall", "大庆市杜尔伯特蒙古族自治县泰康镇",
     "一楼大厅", 46.8713, 124.4428, "hall", "hall_holidays", "basic", 8, True, "杜尔伯特县营商环境建设监督局", None, None),
    ("taikang_bus_station", "泰康客运站母婴室", "泰康客运站", "transport_hub", "大庆市杜尔伯特蒙古族自治县泰康镇", "售票厅旁（与无障碍卫生间合用）",
     46.8665, 124.4371, "station", "none", "shared", None, False, "杜尔伯特县客运站", None, None),
]  # fmt: skip


def build_rooms() -> list[DemoRoom]:
    """The demo rooms, always the same (no randomness)."""
    return [
        DemoRoom(
            key=key,
            name=ROOM_MARK + name,
            venue=venue,
            venue_type=venue_type,
            address=address,
            location_hint=f"{hint}（演示数据，位置为近似值）" if hint else "演示数据，位置为近似值",
            lat=lat,
            lng=lng,
            opening_hours=HOURS[hours],
            exceptions=EXCEPTIONS[exceptions],
            amenities=sorted(AMENITY_SETS[amenities]),
            area_m2=area,
            independent=independent,
            managing_body=body,
            contact_phone=phone,
            verified_on=verified_on,
        )
        for (key, name, venue, venue_type, address, hint, lat, lng, hours, exceptions, amenities, area, independent,
             body, phone, verified_on) in _ROOMS
    ]  # fmt: skip


async def seed_rooms(db: AsyncSession) -> dict[str, int]:
    """Insert the demo rooms that are missing (with their first revision); existing rooms, possibly
    corrected since, are left as they are."""
    from backend.government.units import nearest_unit
    from backend.rooms.models import Room, RoomRevision

    added = 0
    for room in build_rooms():
        facts = room.facts()
        inserted = await db.scalar(
            insert(Room)
            .values(
                id=room.id,
                **facts,
                unit_code=await nearest_unit(db, room.lat, room.lng),
                verified=room.verified_on is not None,
                verified_on=room.verified_on,
                is_demo=True,
            )
            .on_conflict_do_nothing()
            .returning(Room.id)
        )
        if inserted is None:
            continue
        added += 1
        await db.execute(insert(RoomRevision).values(room_id=room.id, version=1, facts=facts).on_conflict_do_nothing())
    return {"new_rooms": added}
