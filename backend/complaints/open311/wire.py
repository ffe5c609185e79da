"""The Open311 wire format: constants, the resources' schemas and the filing form."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

import msgspec

from backend.core.clock import CHINA
from backend.core.schemas import Output

PREFIX = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = dt.datetime(2026, 11, 28, tzinfo=CHINA)  # when this endpoint's definition last changed
CONTACT = "大庆市卫生健康委员会 · 大庆市婴幼儿照护服务平台 Daqing Municipal Health Commission, childcare platform"
KEY_SERVICE = (
    "api_key 由平台运营方签发（python -m backend open311-client add）。"
    " Keys are issued by the platform's operator on request; reading needs no key."
)
TAGS = ["open311 · GeoReport v2"]
HIDDEN_CATEGORIES = ("child_safety",)  # never published (see the module's description)
PUBLIC_DECIMALS = 3
DEFAULT_WINDOW = dt.timedelta(days=90)
MAX_RESULTS = 1000
MAX_IDS = 100
MAX_MEDIA_URL = 500
MAX_DEVICE_ID = 64
MAX_API_KEY = 200
KEY_PREFIX = "dq311_"
EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)
LATEST = dt.datetime.max.replace(tzinfo=dt.UTC)

IDS_PATTERN = r"^\s*[Dd][Qq]-[0-9]{1,18}\s*(,\s*[Dd][Qq]-[0-9]{1,18}\s*){0,99}$"  # at most MAX_IDS
STATUS_PATTERN = r"^\s*(open|closed)\s*(,\s*(open|closed)\s*)*$"
REQUEST_ID = re.compile(r"^[Dd][Qq]-([0-9]{1,18})$")
COORDINATE = re.compile(r"^\s*[+-]?[0-9]{1,3}(\.[0-9]{1,15})?\s*$")
CJK = re.compile(r"[\u3400-\u9fff]")

# Groups and search keywords of the services (the categories themselves live in routing.py).
GROUPS = {
    "child_safety": "人身安全 Personal safety",
    "food_safety": "安全与卫生 Safety and hygiene",
    "fire_safety": "安全与卫生 Safety and hygiene",
    "health_hygiene": "安全与卫生 Safety and hygiene",
    "fees": "机构经营 Operation",
    "unregistered": "机构经营 Operation",
    "staff_conduct": "机构经营 Operation",
    "kindergarten_class": "机构经营 Operation",
    "nursing_room": "母婴设施 Mother-and-baby facilities",
    "other": "其他 Other",
}
KEYWORDS = {
    "child_safety": "虐童,人身安全,伤害,abuse,injury,safety",
    "food_safety": "食品安全,饮食,餐食,food,meals",
    "fire_safety": "消防,火灾,安全出口,fire,exits",
    "health_hygiene": "卫生,保健,传染病,hygiene,health,illness",
    "fees": "收费,价格,退费,fees,prices,refund",
    "unregistered": "无证,未备案,黑托育,unregistered,unlicensed",
    "staff_conduct": "从业人员,资质,保育员,staff,qualification,conduct",
    "kindergarten_class": "幼儿园,托班,kindergarten,nursery class",
    "nursing_room": "母婴室,哺乳室,nursing room,baby care room",
    "other": "其他,other",
}


class Open311Error(Output):
    code: int
    description: str


class Open311Endpoint(Output):
    specification: str
    url: str
    changeset: dt.datetime
    type: str
    formats: list[str]


class Open311Discovery(Output):
    changeset: dt.datetime
    contact: str
    key_service: str
    endpoints: list[Open311Endpoint]


class Open311Service(Output):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class Open311AttributeValue(Output):
    key: str
    name: str


class Open311Attribute(Output):
    variable: bool
    code: str
    datatype: str
    required: bool
    datatype_description: str | None
    order: int
    description: str
    values: list[Open311AttributeValue]


class Open311ServiceDefinition(Output):
    service_code: str
    attributes: list[Open311Attribute]


class Open311Filed(Output):
    service_request_id: str
    service_notice: str
    account_id: str | None


class Open311Request(Output):
    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str | None
    service_name: str
    service_code: str
    description: str | None
    agency_responsible: str
    service_notice: str
    requested_datetime: dt.datetime
    updated_datetime: dt.datetime
    expected_datetime: dt.datetime | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


# Form text never holds control characters (the input gate refuses them: backend/core/inputs.py);
# the document says so, so that clients (and schema-driven fuzzers) know it.
_NO_CONTROL = r"^[^\x00-\x08\x0e-\x1f\x7f]*$"


Text = Annotated[str, msgspec.Meta(pattern=_NO_CONTROL)]


def _param(description: str) -> Any:
    return msgspec.Meta(description=description)


class Open311Form(msgspec.Struct, kw_only=True):
    """The POST form (``application/x-www-form-urlencoded``). Parameters the spec defines that are
    not listed here (``attribute[…]``) are ignored."""

    api_key: Annotated[Text, _param("A registered client's key")]
    service_code: Annotated[Text, _param("A service_code from services.json")]
    description: Annotated[Text, _param("What happened (required here; at most 4,000 characters, no HTML)")]
    lat: Annotated[Text | None, _param("WGS-84 latitude (decimal degrees); with long")] = None
    long: Annotated[Text | None, _param("WGS-84 longitude (decimal degrees); with lat")] = None
    address_string: Annotated[Text | None, _param("An address, when lat/long are not given (at most 200)")] = None
    address_id: Annotated[Text | None, _param("Ignored (no address repository): give lat/long or an address")] = None
    email: Annotated[Text | None, _param("Not stored: complaints keep no e-mail address")] = None
    device_id: Annotated[Text | None, _param("The reporting device (rate limits), at most 64 characters")] = None
    account_id: Annotated[Text | None, _param("Ignored")] = None
    first_name: Annotated[Text | None, _param("Contact name (officers only)")] = None
    last_name: Annotated[Text | None, _param("Contact name (officers only)")] = None
    phone: Annotated[Text | None, _param("Contact phone (officers only)")] = None
    media_url: Annotated[Text | None, _param("http(s) link to a photo; never fetched, passed on as text")] = None
    jurisdiction_id: Annotated[Text | None, _param("Ignored (one jurisdiction: Daqing)")] = None
