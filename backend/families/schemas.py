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

# The version of the children's-data notice a guardian consents to (the PWA shows this text).
CHILD_DATA_POLICY_VERSION = "2026-12"


class GuardianConsentIn(Input):
    """The guardian's explicit consent to storing the child's name and birth date (PIPL art. 31)."""

    policy_version: Annotated[
        str,
        msgspec.Meta(
            pattern=r"^[0-9]{4}-[0-9]{2}$",
            description=f"The version of the notice shown to the guardian; currently {CHILD_DATA_POLICY_VERSION}",
            examples=[CHILD_DATA_POLICY_VERSION],
        ),
    ]
    accepted: Annotated[bool, msgspec.Meta(description="Must be true: the guardian agrees")]


class ChildIn(Input):
    name: ChildName
    birth_date: dt.date
    relation: Relation
    # Required: without an accepted consent the request is refused (422 guardian_consent_required).
    consent: GuardianConsentIn | None = None


class ChildPatch(Input):
    name: ChildName | msgspec.UnsetType = msgspec.UNSET
    birth_date: dt.date | msgspec.UnsetType = msgspec.UNSET


class ChildOut(Output):
    id: uuid.UUID
    name: str
    birth_date: dt.date
    age_months: int
    relation: Relation
