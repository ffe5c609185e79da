from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from backend.core.schemas import Input, Output

CommitteeRole = Literal["member", "chair"]


class AppointIn(Input):
    account_id: uuid.UUID
    term_start: dt.date
    term_end: dt.date
    role: CommitteeRole = "member"


class ElectedIn(Input):
    account_id: uuid.UUID
    role: CommitteeRole = "member"


class ElectionIn(Input):
    """An election's result: the new committee replaces every membership overlapping its term."""

    held_on: dt.date
    term_start: dt.date
    term_end: dt.date
    members: Annotated[list[ElectedIn], msgspec.Meta(min_length=1, max_length=30)]


class MemberOut(Output):
    id: uuid.UUID
    account_id: uuid.UUID
    name: str  # display name, else the masked phone number — never a child's name
    role: CommitteeRole
    role_zh: str
    source: Literal["appointed", "elected"]
    source_zh: str
    term_start: dt.date
    term_end: dt.date
    current: bool
    ended_at: dt.datetime | None


class CommitteeOut(Output):
    institution_id: uuid.UUID
    members: list[MemberOut]


class CandidateOut(Output):
    account_id: uuid.UUID
    name: str
    classes: list[str]
    member: bool
