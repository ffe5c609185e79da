"""Imports over HTTP: upload a register for a dry run, read its report (JSON, or the spreadsheet with a
"问题" column), apply it, read the history; export a register."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any, get_args
from urllib.parse import quote

from litestar import Controller, Response, Router, get, post
from litestar.datastructures import State
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import Tag
from litestar.params import FromPath, MultipartBody, QueryParameter

from backend.core.authz import Principal, requires
from backend.core.deps import Caller, CallerDep, Db
from backend.core.domains import Domain
from backend.core.errors import NotFound, error_responses
from backend.core.openapi import file_download
from backend.files.routes import MULTIPART_OVERHEAD, require_multipart
from backend.imports import permissions as P
from backend.imports import service
from backend.imports.crs import Crs
from backend.imports.models import ImportRun
from backend.imports.schemas import CrsName, FormatName, ImportForm, ImportRunOut, Kind, run_out
from backend.imports.tables import MAX_BYTES, FileFormat

TAGS = ["imports · 数据导入"]
MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
KIND_ZH = {"institutions": "机构名单", "rooms": "母婴室名单", "population": "人口数据"}
UPLOAD_DESCRIPTION = """
`multipart/form-data` with one part named `file`: an xlsx workbook (first sheet) or a CSV file (UTF-8,
UTF-8 with BOM or GB18030, detected), header in the first non-empty row, at most 20,000 data rows and
20 MB. `crs` declares the file's coordinate system (AMap: `gcj02`, Baidu: `bd09`, GPS/Tianditu:
`wgs84`). Nothing is imported: the answer is a dry-run report (`counts`: create / update / unchanged,
`problems` per row). Apply it with `POST /api/imports/{run_id}/apply`. Column headers and rules:
docs/domain/imports.md.

上传名单（xlsx 或 CSV，最多20000行）进行试导入，返回逐行检查结果；确认无误后再执行导入。
""".strip()


def _file_response(content: bytes, fmt: str, filename: str) -> Response[bytes]:
    return Response(
        content,
        media_type=MEDIA[fmt],
        headers={
            "Content-Disposition": f"attachment; filename=\"{'report.' + fmt}\"; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def _run(db: Any, p: Principal, run_id: uuid.UUID) -> ImportRun:
    """The run, if ``p`` may see it (a unit officer: only their own uploads); otherwise 404."""
    P.require_importer(p)
    run = await db.get(ImportRun, run_id)
    if run is None or (P.own_runs_only(p) and run.created_by != p.account_id):
        raise NotFound("import")
    return run


async def _dry_run(db: Any, state: State, caller: Caller, kind: Kind, crs: CrsName, data: ImportForm) -> ImportRunOut:
    units = P.import_units(caller.principal, kind)
    content = await data.file.read()
    run = await service.dry_run(
        db, state.settings, kind=kind, content=content, filename=data.file.filename or "upload",
        crs=Crs(crs), actor=caller.principal.account_id, via="web", units=units,
    )  # fmt: skip
    await db.commit()
    return run_out(run, detail=True, names=await service.account_names(db, [run]))


def _upload_route(kind: Kind) -> HTTPRouteHandler:
    """``POST /api/imports/<kind>``: a fixed path per register, so that no path parameter shadows
    ``/api/imports/{run_id}`` (a POST there answers 405, not a failed upload)."""

    async def dry_run(
        db: Db,
        state: State,
        caller: CallerDep,
        crs: Annotated[CrsName, QueryParameter(description="The file's coordinate system")],
        data: MultipartBody[ImportForm],
    ) -> ImportRunOut:
        return await _dry_run(db, state, caller, kind, crs, data)

    return post(
        f"/api/imports/{kind}",
        opt=requires(P.DRY_RUN),
        before_request=require_multipart,
        status_code=201,
        responses=error_responses(400, 401, 403, 404, 413, 415, 422),
        summary=f"Upload a register ({kind}) for a dry run / 上传{KIND_ZH[kind]}并试导入",
        description=UPLOAD_DESCRIPTION,
        request_max_body_size=MAX_BYTES + MULTIPART_OVERHEAD,
        tags=TAGS,
    )(dry_run)


UPLOAD_ROUTES = [_upload_route(kind) for kind in get_args(Kind)]


class ImportController(Controller):
    path = "/api/imports"
    tags = TAGS

    @get("/", opt=requires(P.READ), responses=error_responses(401, 403), summary="Import history / 导入记录")
    async def history(self, db: Db, caller: CallerDep) -> list[ImportRunOut]:
        """The last 100 imports (dry runs and applied), newest first: who (`created_by_name`,
        `applied_by_name`), what, when, counts. A unit officer sees the runs they uploaded."""
        P.require_importer(caller.principal)
        mine = caller.principal.account_id if P.own_runs_only(caller.principal) else None
        runs = await service.history(db, limit=100, created_by=mine)
        names = await service.account_names(db, runs)
        return [run_out(r, detail=False, names=names) for r in runs]

    @get(
        "/{run_id:uuid}",
        opt=requires(P.READ),
        responses=error_responses(401, 403, 404),
        summary="An import's report / 导入检查结果",
    )
    async def detail(self, db: Db, caller: CallerDep, run_id: FromPath[uuid.UUID]) -> ImportRunOut:
        run = await _run(db, caller.principal, run_id)
        return run_out(run, detail=True, names=await service.account_names(db, [run]))

    @get(
        "/{run_id:uuid}/report",
        responses=error_responses(401, 403, 404),
        summary="The uploaded file with a 问题 column / 下载检查报告",
        opt={**requires(P.READ), **file_download(*MEDIA.values())},
    )
    async def report(self, db: Db, caller: CallerDep, run_id: FromPath[uuid.UUID]) -> Response[bytes]:
        """The uploaded spreadsheet in its own format with a last column 问题: each row's errors
        (错误：…) and warnings (提示：…). Correct it and upload it again (the 问题 column is ignored)."""
        run = await _run(db, caller.principal, run_id)
        content = await asyncio.to_thread(service.annotated_report, run)
        stem = run.filename.rsplit(".", 1)[0]
        return _file_response(content, run.file_format, f"{stem}-检查报告.{run.file_format}")

    @post(
        "/{run_id:uuid}/apply",
        opt=requires(P.APPLY),
        status_code=200,
        responses=error_responses(401, 403, 404, 409, 422),
        summary="Apply a checked import / 执行导入",
    )
    async def apply(self, db: Db, state: State, caller: CallerDep, run_id: FromPath[uuid.UUID]) -> ImportRunOut:
        """Checks the file again and writes all of it in one transaction, or nothing (422
        `import_has_errors`). Applying the same run twice: 409 `import_applied`; uploading and applying
        the same file again changes nothing (every row unchanged)."""
        run = await _run(db, caller.principal, run_id)
        units = P.import_units(caller.principal, run.kind)
        run = await service.apply(db, state.settings, run_id, caller.principal.account_id, units=units)
        await db.commit()
        return run_out(run, detail=False, names=await service.account_names(db, [run]))


class ExportController(Controller):
    path = "/api/exports"
    tags = TAGS

    @get(
        "/{kind:str}",
        opt={**requires(P.EXPORT), **file_download(*MEDIA.values())},
        responses=error_responses(400, 401, 403, 404),
        summary="Export a register / 导出名单",
    )
    async def export(
        self,
        db: Db,
        caller: CallerDep,
        kind: FromPath[Kind],
        file_format: Annotated[FormatName, QueryParameter(name="format")] = "xlsx",
        crs: Annotated[CrsName, QueryParameter(description="Coordinate system of the exported points")] = "wgs84",
    ) -> Response[bytes]:
        """The register with the import's own column headers: importing it unchanged changes nothing.
        City-wide importers only."""
        P.require_city_wide(caller.principal)
        content = await service.export(db, kind, FileFormat(file_format), Crs(crs))
        return _file_response(content, file_format, f"{kind}.{file_format}")


def imports_router() -> Router:
    return Router("/", route_handlers=[*UPLOAD_ROUTES, ImportController, ExportController])


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [imports_router()],
    tags=[Tag(name=TAGS[0], description="The city's registers from spreadsheets: dry run, apply, history, export")],
)
