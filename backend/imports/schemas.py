"""Request and response bodies of the import API."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from litestar.datastructures import UploadFile

from backend.core.schemas import Output

Kind = Literal["institutions", "rooms", "population"]
CrsName = Literal["wgs84", "gcj02", "bd09"]
FormatName = Literal["xlsx", "csv"]
MAX_PROBLEMS_SHOWN = 1000


@dataclass
class ImportForm:
    """``multipart/form-data`` with one file part named ``file`` (xlsx or CSV)."""

    file: UploadFile


class ProblemOut(Output):
    row: int
    level: Literal["error", "warning"]
    code: str
    message: str
    column: str | None = None


class ImportRunOut(Output):
    id: uuid.UUID
    kind: Kind
    filename: str
    file_format: FormatName
    crs: CrsName
    status: Literal["checked", "applied"]
    row_count: int
    error_count: int
    warning_count: int
    counts: dict[str, int]  # create / update / unchanged (as checked, or as applied)
    via: Literal["web", "cli"]
    created_by: uuid.UUID | None
    created_at: dt.datetime
    applied_by: uuid.UUID | None
    applied_at: dt.datetime | None
    created_by_name: str | None = None  # who uploaded it (display name, or a masked phone / email)
    applied_by_name: str | None = None
    problems: list[ProblemOut] | None = None  # the first MAX_PROBLEMS_SHOWN, in the detail only


def run_out(run: Any, *, detail: bool, names: dict[uuid.UUID, str] | None = None) -> ImportRunOut:
    """``names``: account id → the name shown for it (``service.account_names``); command-line runs
    have no account."""
    names = names or {}
    return ImportRunOut(
        id=run.id,
        kind=run.kind,
        filename=run.filename,
        file_format=run.file_format,
        crs=run.crs,
        status=run.status,
        row_count=run.row_count,
        error_count=run.error_count,
        warning_count=run.warning_count,
        counts={k: v for k, v in run.counts.items() if isinstance(v, int)},
        via=run.via,
        created_by=run.created_by,
        created_at=run.created_at,
        applied_by=run.applied_by,
        applied_at=run.applied_at,
        created_by_name=names.get(run.created_by) if run.created_by else None,
        applied_by_name=names.get(run.applied_by) if run.applied_by else None,
        problems=[ProblemOut(**p) for p in run.problems[:MAX_PROBLEMS_SHOWN]] if detail else None,
    )
