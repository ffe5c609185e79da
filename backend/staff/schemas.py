from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from backend.blacklist.schemas import IdNumber
from backend.core.schemas import Input, Output, line_text

StaffRole = Literal["head", "carer", "health_worker", "guard", "cook", "other"]
Phone = Annotated[str, msgspec.Meta(pattern=r"^1[3-9][0-9]{9}$", description="Mainland mobile number, 11 digits")]


class StaffMemberIn(Input):
    display_name: Annotated[str, line_text(40, description="Name shown on the roster")]
    staff_role: StaffRole  # 负责人 head / 保育人员 carer / 保健人员 health_worker / 保安 guard / 炊事人员 cook / other
    id_number: IdNumber
    phone: Phone | None = None  # links the platform account with this phone, if any (institution_staff)


class StaffMemberOut(Output):
    id: uuid.UUID
    institution_id: uuid.UUID
    display_name: str
    staff_role: StaffRole
    id_number_masked: str  # **************123X
    phone: str | None
    account_linked: bool  # the phone belongs to a platform account with staff access here
    created_at: dt.datetime
