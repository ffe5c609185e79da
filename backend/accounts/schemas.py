from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from backend.core.schemas import Input, Output, line_text

# Exactly what normalize_phone accepts: an optional +86/0086/86 prefix, spaces or dashes between digits.
PHONE_INPUT_PATTERN = r"^(?:(?:\+|00)?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]){8}$"
PhoneInput = Annotated[
    str,
    msgspec.Meta(
        max_length=20,
        pattern=PHONE_INPUT_PATTERN,
        description="Mainland mobile number, e.g. 13800000001 or +86 138 0000 0001",
    ),
]


class OtpRequest(Input):
    phone: PhoneInput


class OtpRequested(Output):
    resend_after_s: int
    expires_in_s: int
    sent: bool = True
    message_zh: str = "如该号码可以接收短信，验证码已发送"
    message: str = "If this number can receive SMS, a code has been sent"


class OtpVerify(Input):
    phone: PhoneInput
    code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$", description="The 6-digit code from the SMS")]


class LoginRequest(Input):
    login: Annotated[str, msgspec.Meta(min_length=3, max_length=254, description="Phone number or e-mail")]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class GrantOut(Output):
    role: str
    role_zh: str
    institution_id: uuid.UUID | None = None
    department_code: str | None = None
    unit_code: int | None = None


class AccountOut(Output):
    id: uuid.UUID
    phone: str | None
    email: str | None
    display_name: str | None
    roles: list[GrantOut]


class MePatch(Input):
    """What other people see of you (e.g. in the parent committee's list): a display name such as
    "小米妈妈". Empty or null removes it (a masked phone number is shown instead)."""

    display_name: Annotated[str, line_text(20, min_length=0)] | None


class SessionOut(Output):
    token: str
    expires_at: dt.datetime
    csrf_token: str
    account: AccountOut
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme's name, not a secret


class LoggedOut(Output):
    signed_out: bool = True


class OthersLoggedOut(Output):
    revoked: int  # how many other sessions were ended
