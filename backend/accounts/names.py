"""How one account is shown to other people: its display name, else a masked phone or e-mail.

Committee lists and "who has not read" lists use this; a child's name never appears there.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from backend.accounts.models import Account
from backend.accounts.sms import mask_phone


def shown_name(display_name: str | None, phone: str | None, email: str | None) -> str:
    if display_name:
        return display_name
    if phone:
        return mask_phone(phone)
    if email:
        local, _, domain = email.partition("@")
        return f"{local[:1]}***@{domain}"
    return "—"


def name_columns() -> tuple[ColumnElement[Any], ...]:
    """The columns ``shown_name`` needs, for a SELECT joined to accounts."""
    return (Account.display_name, Account.phone, Account.email)
