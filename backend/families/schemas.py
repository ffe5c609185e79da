from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from backend.core.schemas import Input, Output

ChildName = Annotated[
    str, msgspec.Meta(min_length=1, max_length=50, pattern=r"^[^\x00-\x1f\x7f<>]+$", description="The child's name")
]
Relation = Literal["mother", "father", "grandparent", "other"]


class ChildIn(Input):
    name: ChildName
    birth_date: dt.date
    relation: Relation


class ChildPatch(Input):
    name: ChildName | msgspec.UnsetType = msgspec.UNSET
    birth_date: dt.date | msgspec.UnsetType = msgspec.UNSET


class ChildOut(Output):
    id: uuid.UUID
    name: str
    birth_date: dt.date
    age_months: int
    relation: Relation
