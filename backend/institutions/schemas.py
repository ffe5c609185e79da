from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from backend.core.schemas import Input, Latitude, Longitude, Output

ClassTypeName = Literal["infant", "toddler", "older_toddler", "mixed"]
ModeName = Literal["full_day", "half_day", "hourly", "temporary"]
PriceUnitName = Literal["month", "day", "half_day", "hour"]
LegalFormName = Literal["public_institution", "social_organisation", "for_profit"]
OwnershipName = Literal["public", "private"]
FilingStatusName = Literal["unfiled", "submitted", "filed", "returned"]
GradeName = Literal["A", "B", "C", "D"]  # quality assessment grades (WS/T 821-2023), A best

PlainText = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f<>]*$"
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=PlainText)]
ClassName = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=PlainText)]
Address = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=PlainText)]
Phone = Annotated[str, msgspec.Meta(min_length=5, max_length=20, pattern=r"^[0-9+\- ]+$")]
Description = Annotated[str, msgspec.Meta(max_length=2000, pattern=PlainText)]
HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="Local time HH:MM")]
Weekday = Annotated[int, msgspec.Meta(ge=1, le=7, description="ISO weekday, 1 = Monday")]
RegistrationNo = Annotated[
    str, msgspec.Meta(pattern=r"^[0-9A-Z]{18}$", description="Unified social credit code (统一社会信用代码)")
]
Capacity = Annotated[int, msgspec.Meta(ge=1, le=20)]
Carers = Annotated[int, msgspec.Meta(ge=0, le=20)]
PriceFen = Annotated[int, msgspec.Meta(ge=0, le=10_000_000, description="Price in fen (分); 100 fen = 1 yuan")]


class OpeningPeriod(Input):
    days: Annotated[list[Weekday], msgspec.Meta(min_length=1, max_length=7)]
    opens: HHMM
    closes: HHMM


class Flags(Input):
    inclusive: bool = False  # 普惠
    demonstration: bool = False  # 示范
    employer_run: bool = False  # 用人单位举办
    community_run: bool = False  # 社区办
    kindergarten_class: bool = False  # 幼儿园托班
    home_based: bool = False  # 家庭托育点


class FlagsPatch(Input):
    inclusive: bool | msgspec.UnsetType = msgspec.UNSET
    demonstration: bool | msgspec.UnsetType = msgspec.UNSET
    employer_run: bool | msgspec.UnsetType = msgspec.UNSET
    community_run: bool | msgspec.UnsetType = msgspec.UNSET
    kindergarten_class: bool | msgspec.UnsetType = msgspec.UNSET
    home_based: bool | msgspec.UnsetType = msgspec.UNSET


class InstitutionIn(Input):
    name: Name
    legal_form: LegalFormName
    registration_no: RegistrationNo
    unit_code: int
    address: Address
    lat: Latitude
    lng: Longitude
    phone: Phone
    ownership: OwnershipName
    opening_hours: Annotated[list[OpeningPeriod], msgspec.Meta(max_length=14)] = []
    description: Description = ""
    flags: Flags = msgspec.field(default_factory=Flags)


class InstitutionPatch(Input):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    address: Address | msgspec.UnsetType = msgspec.UNSET
    lat: Latitude | msgspec.UnsetType = msgspec.UNSET
    lng: Longitude | msgspec.UnsetType = msgspec.UNSET
    phone: Phone | msgspec.UnsetType = msgspec.UNSET
    opening_hours: Annotated[list[OpeningPeriod], msgspec.Meta(max_length=14)] | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    flags: FlagsPatch | msgspec.UnsetType = msgspec.UNSET


class ClassIn(Input):
    name: ClassName
    class_type: ClassTypeName
    capacity: Capacity
    carers: Carers


class ClassPatch(Input):
    name: ClassName | msgspec.UnsetType = msgspec.UNSET
    capacity: Capacity | msgspec.UnsetType = msgspec.UNSET
    carers: Carers | msgspec.UnsetType = msgspec.UNSET
    offline_enrolled: (
        Annotated[int, msgspec.Meta(ge=0, le=20, description="Children enrolled outside the platform")]
        | msgspec.UnsetType
    ) = msgspec.UNSET


class ModeIn(Input):
    price_fen: PriceFen
    price_unit: PriceUnitName


class ModeOut(Output):
    mode: ModeName
    mode_zh: str
    price_fen: int
    price_unit: PriceUnitName


class ClassOut(Output):
    id: uuid.UUID
    name: str
    class_type: ClassTypeName
    class_type_zh: str
    age_min_months: int
    age_max_months: int
    capacity: int
    carers: int
    enrolled: int
    vacancies: int
    carer_ratio_ok: bool


class FlagsOut(Output):
    inclusive: bool
    demonstration: bool
    employer_run: bool
    community_run: bool
    kindergarten_class: bool
    home_based: bool


class QualityOut(Output):
    """The latest published quality assessment (质量评估); details at /api/institutions/{id}/assessments."""

    assessment_id: uuid.UUID
    grade: GradeName
    total: float
    assessed_on: dt.date
    summary: str


class CoverOut(Output):
    """The institution's cover photo (封面照片): an image cleaned like every upload (no EXIF), public."""

    url: str  # /api/institutions/{id}/cover/{upload_id}: a new photo has a new address
    width: int
    height: int


class CoverIn(Input):
    """The cover photo: an id from `POST /api/uploads?purpose=institution_cover`, or null to remove it."""

    upload_id: uuid.UUID | None


class InstitutionSummary(Output):
    id: uuid.UUID
    name: str
    unit_code: int
    unit_name_zh: str
    address: str
    lat: float
    lng: float
    phone: str
    legal_form: LegalFormName
    ownership: OwnershipName
    filing_status: FilingStatusName
    flags: FlagsOut
    modes: list[ModeOut]
    classes: list[ClassOut]
    vacancies: int
    is_demo: bool
    quality: QualityOut | None  # latest published quality assessment; null until one is published
    cover: CoverOut | None  # the cover photo; null until the institution sets one


class InstitutionDetail(InstitutionSummary):
    registration_no: str
    opening_hours: list[OpeningPeriod]
    description: str
    updated_at: dt.datetime
    blacklisted: bool  # on the blacklist (黑名单): takes no bookings, applications or registrations
    takes_families: bool  # may take applications, bookings and registrations now (filed, not blacklisted)
    filed_at: dt.date | None  # the day its filing (备案) was approved (local date); None unless filed


class NearbyItem(InstitutionSummary):
    distance_m: float


class InstitutionPage(Output):
    items: list[InstitutionSummary]
    next_cursor: str | None


class NearbyPage(Output):
    items: list[NearbyItem]
    next_cursor: str | None
