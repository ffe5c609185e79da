"""Request and response shapes for quality assessments."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from backend.core.schemas import Input, Output, line_text, paragraph_text

GradeName = Literal["A", "B", "C", "D"]
StatusName = Literal["draft", "published"]
ItemStatusName = Literal["open", "rectified"]
AssessorName = Annotated[str, line_text(50, description="An assessor (officer or expert)")]


class ItemIn(Input):
    description: Annotated[str, paragraph_text(500)]
    deadline: Annotated[dt.date, msgspec.Meta(description="After the assessment date and not in the past")]


class AssessmentEdit(Input, kw_only=True):
    assessed_on: Annotated[dt.date, msgspec.Meta(description="Day of the assessment, not in the future")]
    assessors: Annotated[list[AssessorName], msgspec.Meta(min_length=1, max_length=10)]
    scores: Annotated[
        dict[Annotated[str, msgspec.Meta(max_length=32)], float],
        msgspec.Meta(
            max_length=20,
            description="Points per dimension key (see GET /api/assessments/dimensions): every dimension, "
            "0..its maximum, whole or one decimal",
        ),
    ]
    summary: Annotated[str, line_text(200, description="Public summary")]
    total: Annotated[float, msgspec.Meta(description="If sent, must equal the sum of the scores")] | None = None
    grade: GradeName | None = None
    findings: Annotated[str, paragraph_text(4000, min_length=0)] = ""
    items: Annotated[list[ItemIn], msgspec.Meta(max_length=100)] = []


class AssessmentIn(AssessmentEdit, kw_only=True):
    institution_id: uuid.UUID


class FollowUpIn(Input):
    status: ItemStatusName
    note: Annotated[str, paragraph_text(1000)]


class ResponseIn(Input):
    note: Annotated[str, paragraph_text(1000)]


class DimensionOut(Output):
    key: str
    name_zh: str
    name: str
    max_points: int


class GradeBand(Output):
    grade: GradeName
    name_zh: str
    min_total: int


class StandardOut(Output):
    code: str
    title_zh: str
    total_points: int
    dimensions: list[DimensionOut]
    grades: list[GradeBand]


class ScoreOut(Output):
    key: str
    name_zh: str
    name: str
    max_points: int
    score: float


class ItemOut(Output):
    id: uuid.UUID
    position: int
    description: str
    deadline: dt.date
    status: ItemStatusName
    overdue: bool
    followup_note: str | None
    followed_up_at: dt.datetime | None
    followed_up_by_name: str | None
    response_note: str | None
    responded_at: dt.datetime | None


class AssessmentOut(Output):
    id: uuid.UUID
    institution_id: uuid.UUID
    institution_name: str
    unit_code: int
    assessed_on: dt.date
    assessors: list[str]
    scores: list[ScoreOut]
    total: float
    grade: GradeName
    summary: str
    findings: str
    status: StatusName
    published_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    items: list[ItemOut]


class AssessmentListItem(Output):
    id: uuid.UUID
    institution_id: uuid.UUID
    institution_name: str
    unit_code: int
    assessed_on: dt.date
    total: float
    grade: GradeName
    status: StatusName
    published_at: dt.datetime | None
    open_items: int
    overdue_items: int


class PublicAssessment(Output):
    id: uuid.UUID
    assessed_on: dt.date
    total: float
    grade: GradeName
    summary: str
    scores: list[ScoreOut]
    published_at: dt.datetime
