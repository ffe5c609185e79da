from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from backend.core.schemas import Input, Instant, Output, line_text, paragraph_text
from backend.notices.models import MAX_BODY_CHARS

MAX_ATTACHMENTS = 9

Audience = Literal["institution", "class", "committee"]
BodyFormat = Literal["plain", "markdown"]
ChoiceMode = Literal["none", "single", "multiple"]
Title = Annotated[str, line_text(100, description="Title")]
Body = Annotated[str, paragraph_text(MAX_BODY_CHARS, min_length=0, description="Body")]
OptionText = Annotated[str, line_text(60)]
Attachments = Annotated[
    list[uuid.UUID], msgspec.Meta(max_length=MAX_ATTACHMENTS, description="Uploaded image ids, in order (at most 9)")
]


class ConsultationIn(Input):
    """A question put to the notice's readers. ``choice_mode`` none means free text only."""

    question: Annotated[str, line_text(200)]
    deadline: Instant
    choice_mode: ChoiceMode = "single"
    options: Annotated[list[OptionText], msgspec.Meta(max_length=10)] = []
    allow_text: bool = False
    anonymous: bool = False


class NoticeIn(Input):
    title: Title
    audience: Audience = "institution"
    class_id: uuid.UUID | None = None
    body: Body = ""
    body_format: BodyFormat = "plain"
    pinned: bool = False
    urgent: bool = False
    publish_at: Instant | None = None  # default: now
    expires_at: Instant | None = None
    attachment_ids: Attachments = []
    consultation: ConsultationIn | None = None


class NoticePatch(Input):
    """Edit a notice: a new version; the previous one stays in the history. Audience and question
    do not change once written (delete and post again)."""

    title: Title | msgspec.UnsetType = msgspec.UNSET
    body: Body | msgspec.UnsetType = msgspec.UNSET
    body_format: BodyFormat | msgspec.UnsetType = msgspec.UNSET
    pinned: bool | msgspec.UnsetType = msgspec.UNSET
    urgent: bool | msgspec.UnsetType = msgspec.UNSET
    publish_at: Instant | msgspec.UnsetType = msgspec.UNSET
    expires_at: Instant | msgspec.UnsetType | None = msgspec.UNSET
    attachment_ids: Attachments | msgspec.UnsetType = msgspec.UNSET


class AttachmentOut(Output):
    id: uuid.UUID
    url: str
    content_type: str
    width: int
    height: int


class ConsultationOut(Output):
    question: str
    choice_mode: ChoiceMode
    options: list[str]
    allow_text: bool
    deadline: dt.datetime
    anonymous: bool
    open: bool
    answered: bool  # the caller has answered
    my_choices: list[int] | None = None  # the caller's answer (never for anonymous consultations)
    my_text: str | None = None


class NoticeOut(Output):
    id: uuid.UUID
    institution_id: uuid.UUID
    institution_name: str
    audience: Audience
    audience_zh: str
    class_id: uuid.UUID | None
    posted_as: Literal["staff", "committee"]
    title: str
    pinned: bool
    urgent: bool
    status: Literal["scheduled", "published", "expired", "deleted"]
    publish_at: dt.datetime
    published_at: dt.datetime | None
    expires_at: dt.datetime | None
    version: int
    updated_at: dt.datetime
    has_consultation: bool
    read_at: dt.datetime | None  # the caller's own read state (parents)


class NoticeDetail(NoticeOut):
    body: str
    body_format: BodyFormat
    body_html: str  # sanitized on the server; safe to insert as HTML
    attachments: list[AttachmentOut]
    consultation: ConsultationOut | None
    deleted_at: dt.datetime | None


class RevisionOut(Output):
    version: int
    title: str
    body: str
    body_format: BodyFormat
    pinned: bool
    urgent: bool
    publish_at: dt.datetime
    expires_at: dt.datetime | None
    edited_by: str
    edited_at: dt.datetime


class ReaderOut(Output):
    account_id: uuid.UUID
    name: str
    read_at: dt.datetime | None


class ReceiptsOut(Output):
    notice_id: uuid.UUID
    audience_count: int
    read_count: int
    not_read: list[ReaderOut]


class InstitutionUnread(Output):
    institution_id: uuid.UUID
    institution_name: str
    unread: int
    urgent_unread: int


class UnreadOut(Output):
    total: int
    urgent: int
    institutions: list[InstitutionUnread]


class AnswerIn(Input):
    choices: Annotated[list[Annotated[int, msgspec.Meta(ge=0, le=9)]], msgspec.Meta(max_length=10)] = []
    text: Annotated[str, paragraph_text(1000, min_length=0)] | None = None
    receipt: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{43}$")] | None = None


class AnswerOut(Output):
    choices: list[int]
    text: str | None
    anonymous: bool
    receipt: str | None = None  # anonymous consultations: keep it to change the answer later


class OptionCount(Output):
    index: int
    option: str
    count: int


class ResultsOut(Output):
    notice_id: uuid.UUID
    question: str
    anonymous: bool
    deadline: dt.datetime
    open: bool
    eligible: int
    answered: int
    options: list[OptionCount]
    texts: list[str]
