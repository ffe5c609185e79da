"""Filing (备案) request and response bodies."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from backend.core.schemas import Input, Output, paragraph_text
from backend.files.schemas import PresignedDocumentOut

KindName = Literal[
    "business_licence",
    "legal_person_certificate",
    "site_proof",
    "staff_qualifications",
    "health_certificates",
    "health_evaluation",
    "fire_safety",
    "food_licence",
]
FilingStatusName = Literal["unfiled", "submitted", "filed", "returned"]
HistoryAction = Literal["submitted", "approved", "returned"]
UploadIds = Annotated[list[uuid.UUID], msgspec.Meta(max_length=10, description="Upload ids, in order (at most 10)")]


class FilingDocumentsIn(Input):
    """Per document kind, the uploads (``POST /api/uploads/documents?purpose=filing_document``) in
    order. A kind left out holds no documents. Unknown kinds are refused."""

    business_licence: UploadIds = []
    legal_person_certificate: UploadIds = []
    site_proof: UploadIds = []
    staff_qualifications: UploadIds = []
    health_certificates: UploadIds = []
    health_evaluation: UploadIds = []
    fire_safety: UploadIds = []
    food_licence: UploadIds = []


class FilingIn(Input):
    serves_meals: bool = msgspec.field(default=False)
    documents: FilingDocumentsIn = msgspec.field(default_factory=FilingDocumentsIn)


class FilingDecisionIn(Input):
    """Approve. ``expected_submission``: the submission number you reviewed; if the institution has
    submitted again since, the decision is refused (409 ``submission_changed``)."""

    expected_submission: int | None = None


class FilingReturnIn(Input):
    reasons: Annotated[str, paragraph_text(2000, description="Why the filing is returned (the institution sees it)")]
    expected_submission: int | None = None


class FilingKindDocuments(Output):
    kind: KindName
    kind_zh: str
    required: bool  # for the registration kinds: one of the two is required
    files: list[PresignedDocumentOut]


class FilingHistoryOut(Output):
    action: HistoryAction
    submission: int
    at: dt.datetime
    by_officer: bool  # a decision (by a health officer or the city admin)
    reasons: str | None


class FilingOut(Output):
    id: uuid.UUID | None  # None: the institution has not started a filing on the platform
    institution_id: uuid.UUID
    institution_name: str
    unit_code: int
    unit_name_zh: str
    status: FilingStatusName
    serves_meals: bool
    submission: int
    submitted_at: dt.datetime | None
    due_at: dt.datetime | None
    overdue: bool
    decided_at: dt.datetime | None
    return_reasons: str | None
    filed_at: dt.datetime | None
    editable: bool  # the institution may change documents and submit (unfiled or returned)
    missing_kinds: list[KindName]  # what a submission would still lack (registration: either kind)
    documents: list[FilingKindDocuments]
    history: list[FilingHistoryOut]


class FilingQueueItem(Output):
    id: uuid.UUID
    institution_id: uuid.UUID
    institution_name: str
    unit_code: int
    unit_name_zh: str
    status: FilingStatusName
    submission: int
    submitted_at: dt.datetime | None
    due_at: dt.datetime | None
    overdue: bool
    serves_meals: bool
