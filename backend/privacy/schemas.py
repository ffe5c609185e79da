"""The export document and the erasure request/answer."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec

from backend.core.schemas import Input, Output

EXPORT_FORMAT = "daqing-family-data/1"

Row = dict[str, Any]


class FamilyExport(Output, kw_only=True):
    """Everything the platform holds about the caller and the children they are a guardian of, with
    the children's names and birth dates in clear. Each section is a list of records with the
    stored fields; secrets (password hashes, token and code digests, push encryption keys) and
    officers' internal notes are left out."""

    format: str = EXPORT_FORMAT
    exported_at: dt.datetime
    account: Row
    roles: list[Row]
    sessions: list[Row]
    children: list[Row]  # each with ``relation`` (yours) and ``age_months``
    guardianships: list[Row]  # every guardian link of your children (other guardians by account id only)
    guardian_consents: list[Row]
    applications: list[Row]
    bookings: list[Row]
    guidance_registrations: list[Row]
    complaints: list[Row]  # filed while signed in, each with its public updates
    notification_preferences: list[Row]
    push_subscriptions: list[Row]
    notification_deliveries: list[Row]  # how notifications reached you (push, SMS), per event
    committee_memberships: list[Row]
    notice_reads: list[Row]
    consultation_answers: list[Row]
    room_ratings: list[Row]
    room_suggestions: list[Row]
    uploads: list[Row]  # file metadata (the files themselves are reached through their notices/complaints)
    # Children's health (decrypted): consent and sex, growth measurements (readings as JSON), follow-up items.
    health_profiles: list[Row] = msgspec.field(default_factory=list)
    growth_measurements: list[Row] = msgspec.field(default_factory=list)
    health_follow_ups: list[Row] = msgspec.field(default_factory=list)
    daily_health_checks: list[Row] = msgspec.field(default_factory=list)  # 晨午检, findings as JSON
    entry_health_checks: list[Row] = msgspec.field(default_factory=list)  # 入托体检 (the report: in uploads)
    vaccination_checks: list[Row] = msgspec.field(default_factory=list)  # 预防接种证查验
    favourites: list[Row] = msgspec.field(default_factory=list)  # institutions kept in 我的收藏
    wechat_identities: list[Row] = msgspec.field(default_factory=list)  # your WeChat binding (openid, unionid)
    wechat_subscriptions: list[Row] = msgspec.field(default_factory=list)  # the event kinds you subscribed to


class EraseIn(Input):
    """Confirm with your password, or with a fresh SMS code (``POST /api/auth/code`` first)."""

    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)] | None = None
    code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")] | None = None


class ErasureOut(Output):
    erased_at: dt.datetime
    children_deleted: int  # children of whom you were the only guardian
    guardianships_removed: int  # children who keep their other guardians
    applications_withdrawn: int
    bookings_cancelled: int
    guidance_registrations_cancelled: int
    complaints_detached: int  # kept for the officers, no longer linked to you
