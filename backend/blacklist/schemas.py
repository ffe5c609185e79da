from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from backend.blacklist.models import MAX_REASON
from backend.core.schemas import Input, Output, line_text, paragraph_text

# Any string: the number is validated by the service (422 ``invalid_id_number`` names what is wrong).
IdNumber = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=32,
        description="Resident ID number (居民身份证号码), 18 characters; hashed on arrival, never stored",
    ),
]
Reason = Annotated[str, paragraph_text(MAX_REASON, description="Why (public for institution entries)")]
DecisionNo = Annotated[str, line_text(60, description="The decision document's number, e.g. 卫健罚〔2026〕12号")]
DepartmentCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,31}$", description="e.g. health, police")]
PersonName = Annotated[str, line_text(40, description="The person's name as officers see it (never public)")]


class Decision(Input, kw_only=True):
    reason: Reason
    department_code: DepartmentCode | None = None  # default: the officer's own department
    decision_no: DecisionNo
    decided_on: dt.date
    effective_from: dt.date | None = None  # default: decided_on
    effective_until: dt.date | None = None  # inclusive last day; none = indefinitely


class InstitutionEntryIn(Decision, kw_only=True):
    institution_id: uuid.UUID


class PersonEntryIn(Decision, kw_only=True):
    id_number: IdNumber
    person_name: PersonName


class RevokeIn(Input):
    reason: Annotated[str, paragraph_text(1000, description="Why the entry is revoked")]


class CheckIn(Input):
    id_number: IdNumber


class EntryOut(Output):
    id: uuid.UUID
    kind: Literal["institution", "person"]
    institution_id: uuid.UUID | None
    institution_name: str | None
    unit_code: int | None
    person_name: str | None
    id_number_masked: str | None  # **************123X
    reason: str
    department_code: str
    department_name_zh: str
    decision_no: str
    decided_on: dt.date
    effective_from: dt.date
    effective_until: dt.date | None
    in_force: bool
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    revoke_reason: str | None


class Employer(Output):
    institution_id: uuid.UUID
    institution_name: str
    unit_code: int
    staff_member_id: uuid.UUID


class EntryCreated(Output):
    entry: EntryOut
    employers: list[Employer]  # institutions whose roster lists the person (person entries)


class CheckOut(Output):
    blacklisted: bool  # an entry in force
    entries: list[EntryOut]  # every entry for this number, newest first (also revoked/expired)


class PublicEntry(Output):
    id: uuid.UUID
    institution_id: uuid.UUID
    institution_name: str
    unit_code: int
    unit_name_zh: str
    reason: str
    department_code: str
    department_name_zh: str
    decision_no: str
    decided_on: dt.date
    effective_from: dt.date
    effective_until: dt.date | None
