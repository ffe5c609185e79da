"""Dry run, apply, annotated report, export and history of imports — the API and the CLI share these.

* ``dry_run`` reads the file, checks every row against the database and stores an ``ImportRun`` with
  the file, the problems and the counts (nothing else is written).
* ``apply`` runs the same check again inside the caller's transaction (the database may have
  changed since), under a per-kind advisory lock, and writes everything or nothing: any row error
  refuses the whole file (422). The run is marked applied in the same transaction, once.
  Applying the same file again finds every row unchanged and writes nothing but the history row.
* ``annotated_report`` is the uploaded spreadsheet, same format, with a "问题" column added.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.models import Account
from backend.accounts.names import name_columns, shown_name
from backend.core import audit
from backend.core.config import Settings
from backend.core.errors import Conflict, NotFound, RuleViolation
from backend.imports.crs import Crs
from backend.imports.geocode import from_settings
from backend.imports.institutions import InstitutionsSpec
from backend.imports.models import ImportRun
from backend.imports.pipeline import ERROR, PROBLEM_HEADER, Report, Row, Spec, run_check
from backend.imports.population import PopulationSpec
from backend.imports.rooms import RoomsSpec
from backend.imports.tables import FileFormat, read_table, write_table

KINDS = {"institutions": InstitutionsSpec, "rooms": RoomsSpec, "population": PopulationSpec}
MAX_PROBLEMS_STORED = 50_000


def spec_for(kind: str, settings: Settings | None, geocoder: Any = None, units: frozenset[int] | None = None) -> Spec:
    cls = KINDS.get(kind)
    if cls is None:
        raise NotFound("import kind")
    spec = cls(settings, geocoder)
    spec.units = units
    return spec


class _Remembered:
    """Apply-time stand-in for the geocoder: the points the dry run found, by row number."""

    def __init__(self, points: dict[str, list[float]]) -> None:
        self.points = points

    async def locate_row(self, row: Row, address: str) -> tuple[float, float] | None:
        point = self.points.get(str(row.number))
        if point is None:
            row.error("needs_geocoding", "缺少经纬度：需按地址进行地理编码，但未配置地理编码服务", "经度")
            return None
        return point[0], point[1]


async def check(
    db: AsyncSession,
    settings: Settings | None,
    kind: str,
    content: bytes,
    crs: Crs,
    geocoder: Any = None,
    units: frozenset[int] | None = None,
) -> tuple[Report, FileFormat]:
    """``units``: the only units rows may belong to (a unit officer's import); None: any."""
    table = await asyncio.to_thread(read_table, content)  # a large file takes a while to parse
    if geocoder is None and settings is not None and (provider := from_settings(settings)) is not None:
        async with provider as g:
            return await run_check(db, spec_for(kind, settings, g, units), table, crs), table.format
    return await run_check(db, spec_for(kind, settings, geocoder, units), table, crs), table.format


async def lock(db: AsyncSession, kind: str) -> None:
    """Serialise imports of one register (held until the transaction ends)."""
    await db.execute(text("SELECT pg_advisory_xact_lock(hashtext('import:' || :kind))"), {"kind": kind})


async def dry_run(
    db: AsyncSession,
    settings: Settings | None,
    *,
    kind: str,
    content: bytes,
    filename: str,
    crs: Crs,
    actor: uuid.UUID | None,
    via: str,
    units: frozenset[int] | None = None,
) -> ImportRun:
    run, _ = await dry_run_with_report(
        db, settings, kind=kind, content=content, filename=filename, crs=crs, actor=actor, via=via, units=units
    )
    return run


async def dry_run_with_report(
    db: AsyncSession,
    settings: Settings | None,
    *,
    kind: str,
    content: bytes,
    filename: str,
    crs: Crs,
    actor: uuid.UUID | None,
    via: str,
    units: frozenset[int] | None = None,
) -> tuple[ImportRun, Report]:
    report, fmt = await check(db, settings, kind, content, crs, units=units)
    counts = dict(report.counts)
    geocoded_rows = {q.row for q in report.problems if q.code == "geocoded"}
    geocoded = {str(p.number): point for p in report.parsed if p.number in geocoded_rows and (point := _point(p))}
    if geocoded:
        counts["geocoded"] = geocoded  # type: ignore[assignment]
    run = ImportRun(
        id=uuid.uuid4(),
        kind=kind,
        filename=(filename or "upload")[:200],
        file_format=fmt.value,
        crs=crs.value,
        content=content,
        row_count=report.rows,
        error_count=report.errors,
        warning_count=report.warnings,
        problems=[p.as_dict() for p in report.problems[:MAX_PROBLEMS_STORED]],
        counts=counts,
        status="checked",
        via=via,
        created_by=actor,
    )
    db.add(run)
    await db.flush()
    return run, report


def _point(parsed: Any) -> list[float] | None:
    """The WGS-84 point a parsed row carries (institutions: values, rooms: facts)."""
    facts = getattr(parsed, "facts", None)
    if facts is not None:
        return [facts.lng, facts.lat]
    values = getattr(parsed, "values", {})
    return [values["lng"], values["lat"]] if "lng" in values else None


async def apply(
    db: AsyncSession,
    settings: Settings | None,
    run_id: uuid.UUID,
    actor: uuid.UUID | None,
    *,
    checked: Report | None = None,
    units: frozenset[int] | None = None,
) -> ImportRun:
    """Apply a checked run. ``checked``: the report of a dry run made in this same transaction after
    ``lock`` (the command line does this), so nothing can have changed since; otherwise the file is
    checked again here, under the lock."""
    run = await db.get(ImportRun, run_id, with_for_update=True)
    if run is None:
        raise NotFound("import")
    if run.status == "applied":
        raise Conflict(
            "This import has been applied already", detail_zh="该导入已执行，不能重复执行", code="import_applied"
        )
    await lock(db, run.kind)
    if checked is not None:
        report = checked
    else:
        remembered = _Remembered(run.counts.get("geocoded") or {})
        report, _ = await check(db, settings, run.kind, run.content, Crs(run.crs), geocoder=remembered, units=units)
    if report.errors:
        raise RuleViolation(
            f"The file has {report.errors} error(s): nothing was imported",
            detail_zh=f"文件中有{report.errors}处错误，未导入任何数据，请修改后重新上传",
            code="import_has_errors",
            extra={"errors": report.errors},
        )
    await spec_for(run.kind, settings).apply(db, report.parsed, actor)
    counts = dict(report.counts)
    if "geocoded" in run.counts:
        counts["geocoded"] = run.counts["geocoded"]
    await db.execute(
        update(ImportRun)
        .where(ImportRun.id == run.id, ImportRun.status == "checked")
        .values(status="applied", applied_at=func.now(), applied_by=actor, counts=counts)
    )
    audit.note(
        db, import_kind=run.kind, rows=report.rows, created=counts.get("create", 0), updated=counts.get("update", 0)
    )
    await db.flush()
    await db.refresh(run)
    return run


def annotated_report(run: ImportRun) -> bytes:
    """The uploaded file, same format, with a "问题" column: each row's errors and warnings."""
    table = read_table(run.content)
    by_row: dict[int, list[str]] = defaultdict(list)
    for p in run.problems:
        by_row[p["row"]].append(("错误：" if p["level"] == ERROR else "提示：") + p["message"])
    header = [*table.header, PROBLEM_HEADER]
    first = table.header_row + 1
    rows = [[*cells, "；".join(by_row.get(first + i, []))] for i, cells in enumerate(table.rows)]
    return write_table(table.format, header, rows, above=table.above)  # a title above the table stays


async def export(db: AsyncSession, kind: str, fmt: FileFormat, crs: Crs) -> bytes:
    header, rows = await spec_for(kind, None).export(db, crs)
    return await asyncio.to_thread(write_table, fmt, header, rows)


async def account_names(db: AsyncSession, runs: list[ImportRun]) -> dict[uuid.UUID, str]:
    """The names shown for the accounts that uploaded or applied ``runs`` (the history's "who")."""
    ids = {i for r in runs for i in (r.created_by, r.applied_by) if i is not None}
    if not ids:
        return {}
    rows = await db.execute(select(Account.id, *name_columns()).where(Account.id.in_(ids)))
    return {row[0]: shown_name(*row[1:]) for row in rows}


async def history(
    db: AsyncSession, limit: int = 50, before: dt.datetime | None = None, created_by: uuid.UUID | None = None
) -> list[ImportRun]:
    stmt = select(ImportRun).order_by(ImportRun.created_at.desc(), ImportRun.id).limit(limit)
    if created_by is not None:
        stmt = stmt.where(ImportRun.created_by == created_by)
    if before is not None:
        stmt = stmt.where(ImportRun.created_at < before)
    return list((await db.execute(stmt)).scalars())
