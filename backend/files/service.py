"""Uploads: cleaned, stored under random keys, then attached to a subject by the domain that owns it.

Life of an upload:

1. ``create_upload`` (``POST /api/uploads``, one file, signed in) or ``store_uploads`` (several files
   inline in another domain's request, e.g. a complaint's photos, possibly without an account): each
   image is checked and re-encoded without metadata (``core.images``), the rows are committed, then
   the bytes are stored under random keys. Rows go first so that nothing can ever be stored without a
   row pointing at it: if storing fails, the objects written so far are deleted, then the rows (503);
   a row whose object cannot be confirmed deleted (storage down) stays, unattached, and if the
   process dies in between, the maintenance job removes the rows — with their objects.
2. ``attach`` (called by another domain inside its own transaction, e.g. when a notice is saved):
   the uploads, owned by the caller (or, for ``owner_id=None``, owned by nobody), of the right
   purpose and not in use elsewhere, become the subject's ordered list. Calling it again replaces the
   list; ``attach(..., upload_ids=[])`` clears it. ``discard_uploads`` deletes uploads at once when the
   subject they were stored for cannot be saved.
3. ``attachments`` / ``read_attachment`` / ``presigned_urls``: listing, serving, and short-lived URLs
   (``Storage.presigned_get``) for callers that checked the subject may be seen.
4. Uploads that are not attached — never attached, or dropped from a subject's list — are deleted
   (object, then row) by the maintenance job once they are ``ORPHAN_TTL`` old, counted from the upload.

Size limits: each purpose has a per-file limit (``max_bytes``: UPLOAD_MAX_BYTES for notice images,
10 MiB for complaint photos). Routes that take files set their own ``request_max_body_size`` so that
Litestar refuses a larger body with 413 before reading it (from ``Content-Length``) or as soon as the
streamed bytes pass it; ``multipart_limit`` is that number for a form of several files.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import os
import secrets
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio
import anyio.to_thread
from litestar.datastructures import UploadFile
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core import ratelimit, tx
from backend.core.authz import Principal
from backend.core.clock import utcnow
from backend.core.config import Settings
from backend.core.errors import AppError, NotFound, RuleViolation
from backend.core.images import CleanImage, clean_image, unsupported
from backend.core.maintenance import periodic
from backend.core.storage import ObjectNotFound, Storage, StorageUnavailable, storage_from_settings
from backend.files.models import Upload
from backend.files.pdf import check_pdf, is_pdf
from backend.files.schemas import DocumentOut, PresignedDocumentOut, PresignedOut, UploadOut

log = logging.getLogger("backend.files")

ORPHAN_TTL = dt.timedelta(hours=24)
PURGE_BATCH = 500
HOUR = 3600
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Policy:
    """What an upload purpose accepts."""

    max_side: int  # images are shrunk to fit a square this size
    max_files: int  # the most one subject holds (and ``store_uploads`` takes at once)
    max_bytes: int | None = None  # per file, as uploaded; None: UPLOAD_MAX_BYTES
    documents: bool = False  # PDFs too (stored as uploaded after ``pdf.check_pdf``), not only images


POLICIES: dict[str, Policy] = {
    "notice_image": Policy(max_side=2560, max_files=9),
    "complaint_photo": Policy(max_side=4096, max_files=6, max_bytes=10 * MIB),
    "room_photo": Policy(max_side=2560, max_files=9),
    # An institution's cover photo on its search card and page (one per institution).
    "institution_cover": Policy(max_side=2560, max_files=1),
    # A filing's documents (备案材料): PDFs or photos/scans of certificates, per document kind.
    "filing_document": Policy(max_side=4096, max_files=10, max_bytes=20 * MIB, documents=True),
    # A child's entry health check report (入托体检报告): a PDF or photos of the paper report.
    "health_report": Policy(max_side=4096, max_files=5, max_bytes=20 * MIB, documents=True),
}
DOCUMENT_PURPOSES = frozenset(purpose for purpose, policy in POLICIES.items() if policy.documents)

# Room in a multipart body for everything but the files: their part headers, the framing, the form's
# other fields (a complaint's text, place, contact).
MULTIPART_ALLOWANCE = MIB


def max_bytes(purpose: str, settings: Settings | None = None) -> int:
    """The largest file (as uploaded, before cleaning) ``purpose`` accepts."""
    limit = POLICIES[purpose].max_bytes
    if limit is not None:
        return limit
    if settings is None:
        raise ValueError(f"the {purpose} limit is UPLOAD_MAX_BYTES: pass the settings")
    return settings.upload_max_bytes


def multipart_limit(purpose: str, max_files: int | None = None, *, settings: Settings | None = None) -> int:
    """``request_max_body_size`` for a route taking up to ``max_files`` (default: the purpose's
    ``max_files``) files of ``purpose`` in one ``multipart/form-data`` body, with ordinary fields:
    ``max_files × max_bytes + MULTIPART_ALLOWANCE``. Litestar answers a larger body 413 before it
    is read; each file is then checked against ``max_bytes`` (413 ``file_too_large``)."""
    files = POLICIES[purpose].max_files if max_files is None else max_files
    return files * max_bytes(purpose, settings) + MULTIPART_ALLOWANCE


# A complaint filing's body limit: 6 photos × 10 MiB + 1 MiB = 63,963,136 bytes.
COMPLAINT_FILING_MAX_BODY = multipart_limit("complaint_photo")

# Image decoding takes memory and CPU: at most this many at once per process.
IMAGE_WORKERS = max(1, min(4, os.cpu_count() or 1))
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = weakref.WeakKeyDictionary()


def _image_limiter() -> anyio.CapacityLimiter:
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(IMAGE_WORKERS)
    return limiter


class FileTooLarge(AppError):
    status_code = 413
    code = "file_too_large"

    def __init__(self, max_bytes: int, **extra: object) -> None:
        mib = max_bytes / (1024 * 1024)
        super().__init__(
            f"The file is larger than {mib:g} MiB",
            detail_zh=f"文件不能超过 {mib:g} MB",
            extra={"max_bytes": max_bytes, **extra},
        )


class TooManyFiles(RuleViolation):
    code = "too_many_files"

    def __init__(self, max_files: int) -> None:
        super().__init__(
            f"At most {max_files} files may be uploaded here",
            detail_zh=f"最多上传 {max_files} 个文件",
            extra={"max_files": max_files},
        )


def new_storage_key(purpose: str) -> str:
    """A random key (128 bits) with a two-character fan-out directory; it says nothing about the file."""
    token = secrets.token_hex(16)
    return f"{purpose}/{token[:2]}/{token}"


def _out(upload: Upload) -> UploadOut:
    return UploadOut(
        id=upload.id,
        content_type=upload.content_type,  # type: ignore[arg-type]
        byte_size=upload.byte_size,
        width=upload.width,
        height=upload.height,
    )


def _file_size(file: UploadFile) -> int:
    """The size of a received file, without reading it (Litestar spools it to disk above 1 MiB)."""
    handle = file.file
    position = handle.tell()
    try:
        handle.seek(0, os.SEEK_END)
        return handle.tell()
    finally:
        handle.seek(position)


async def _clean(settings: Settings, purpose: str, data: bytes) -> CleanImage:
    if not data:
        raise unsupported()
    return await anyio.to_thread.run_sync(
        partial(clean_image, data, max_pixels=settings.upload_max_pixels, max_side=POLICIES[purpose].max_side),
        limiter=_image_limiter(),
    )


@dataclass(frozen=True, slots=True)
class CleanDocument:
    """A checked PDF, stored as uploaded (no pixel sizes)."""

    data: bytes
    content_type: str = "application/pdf"
    width: None = None
    height: None = None


class DocumentUnsupported(RuleViolation):
    """422 like an unsupported image (the upload routes answer 415 only for a body that is not
    multipart/form-data)."""

    code = "document_unsupported"

    def __init__(self) -> None:
        super().__init__(
            "Only PDF documents and JPEG, PNG or WebP images are accepted",
            detail_zh="仅支持 PDF 文件或 JPEG、PNG、WebP 格式的图片",
            code="document_unsupported",
        )


_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def _looks_like_image(data: bytes) -> bool:
    return data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


async def _clean_document(settings: Settings, purpose: str, data: bytes) -> CleanImage | CleanDocument:
    """A document purpose's file: a PDF (checked, kept as is) or an image (cleaned like any other);
    anything else 415 ``document_unsupported`` (by content: the name and declared type are ignored)."""
    if is_pdf(data):
        await anyio.to_thread.run_sync(partial(check_pdf, data), limiter=_image_limiter())
        return CleanDocument(data)
    if _looks_like_image(data):
        return await _clean(settings, purpose, data)
    raise DocumentUnsupported()


def _document_out(upload: Upload) -> DocumentOut:
    return DocumentOut(
        id=upload.id,
        content_type=upload.content_type,  # type: ignore[arg-type]
        byte_size=upload.byte_size,
        width=upload.width,
        height=upload.height,
    )


def _new_upload(owner_id: uuid.UUID | None, purpose: str, image: CleanImage | CleanDocument) -> Upload:
    return Upload(
        id=uuid.uuid4(),
        owner_id=owner_id,
        purpose=purpose,
        storage_key=new_storage_key(purpose),
        content_type=image.content_type,
        byte_size=len(image.data),
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(image.data).digest(),
    )


async def _put_all(
    db: AsyncSession, storage: Storage, uploads: Sequence[Upload], images: Sequence[CleanImage | CleanDocument]
) -> None:
    """Store the objects of committed rows, in order. If one fails, everything this call wrote is
    removed again (``_remove``) before the error propagates."""
    attempted = 0
    try:
        for upload, image in zip(uploads, images, strict=True):
            attempted += 1
            await storage.put(upload.storage_key, image.data, image.content_type)
    except Exception:
        await _remove(db, storage, uploads, attempted=attempted)
        raise


async def _remove(db: AsyncSession, storage: Storage, uploads: Sequence[Upload], *, attempted: int) -> None:
    """Undo committed uploads whose objects were (the first ``attempted``) or were not yet written.

    Every attempted object is deleted, even one whose write failed: it may exist all the same (a reply
    lost after the write). A row goes only once its object is surely gone; if storage cannot confirm
    that, the row stays, unattached, and the maintenance job deletes object and row later. So no
    object is ever left without a row. Never raises: the caller re-raises the original error."""
    gone = [upload.id for upload in uploads[attempted:]]
    for upload in uploads[:attempted]:
        try:
            await storage.delete(upload.storage_key)
        except Exception as exc:
            log.warning("upload %s: its object could not be deleted (%s); the maintenance job will", upload.id, exc)
            continue
        gone.append(upload.id)
    if not gone:
        return
    try:
        await db.execute(delete(Upload).where(Upload.id.in_(gone)))
        await tx.commit_before_storage(db)
    except Exception as exc:
        log.warning("%d unattached upload rows stay for the maintenance job: %s", len(gone), type(exc).__name__)
        with contextlib.suppress(Exception):
            await db.rollback()


async def _read_counted(db: AsyncSession, settings: Settings, p: Principal, purpose: str, file: UploadFile) -> bytes:
    """Count the attempt against the caller's hourly upload limit (committed, so refused and malformed
    attempts count too), then read the file: 413 past the purpose's size limit."""
    limit = max_bytes(purpose, settings)
    try:
        await ratelimit.enforce(
            db,
            settings.secret_key,
            f"upload:{p.account_id}",
            limit=settings.upload_max_per_hour,
            window_s=HOUR,
            detail_zh="上传过于频繁，请稍后再试",
            code="rate_limited",
        )
        await tx.commit_before_refusing(db)
        data = await file.read(limit + 1)
    finally:
        await file.close()
    if len(data) > limit:
        raise FileTooLarge(limit)
    return data


async def create_upload(
    db: AsyncSession, settings: Settings, storage: Storage, p: Principal, purpose: str, file: UploadFile
) -> UploadOut:
    """Check, clean and store an uploaded image.

    Commits (unlike most services): the rate-limit hit first, so refused and malformed attempts
    count too; then the row, before the object is stored (see the module's description).
    """
    data = await _read_counted(db, settings, p, purpose, file)
    image = await _clean(settings, purpose, data)
    upload = _new_upload(p.account_id, purpose, image)
    db.add(upload)
    await tx.commit_before_storage(db)
    await _put_all(db, storage, [upload], [image])
    return _out(upload)


async def create_document_upload(
    db: AsyncSession, settings: Settings, storage: Storage, p: Principal, purpose: str, file: UploadFile
) -> DocumentOut:
    """``create_upload`` for a document purpose (``Policy.documents``): a PDF or an image."""
    if purpose not in DOCUMENT_PURPOSES:
        raise NotFound("upload purpose")
    data = await _read_counted(db, settings, p, purpose, file)
    if not data:
        raise DocumentUnsupported()
    document = await _clean_document(settings, purpose, data)
    del data
    upload = _new_upload(p.account_id, purpose, document)
    db.add(upload)
    await tx.commit_before_storage(db)
    await _put_all(db, storage, [upload], [document])
    return _document_out(upload)


async def store_uploads(
    db: AsyncSession,
    settings: Settings,
    storage: Storage,
    *,
    owner_id: uuid.UUID | None,
    purpose: str,
    files: Sequence[UploadFile],
) -> list[uuid.UUID]:
    """Check, clean and store several images at once — all of them or none — as unattached uploads
    of ``owner_id`` (None: no account) for ``purpose``; their ids, in the order of ``files``.

    For files received inline in another domain's request (a complaint's photos). The caller
    attaches the ids in its own transaction (``attach(owner_id=...)``) and, if that transaction
    cannot be saved, calls ``discard_uploads``. The caller rate-limits (nothing here counts attempts)
    and never shows the ids of unattached anonymous uploads to a client.

    Refusals, before anything is written: more than the purpose's ``max_files`` (422
    ``too_many_files``); a file above its ``max_bytes`` (413 ``file_too_large``, checked for every file
    before any is decoded); a file that is not a clean JPEG, PNG or WebP (422 ``image_unsupported``,
    ``image_corrupt``, ``image_too_many_pixels``, ``image_animated``). Every per-file error names the
    file in ``extra.file_index`` (0-based). Then the rows are committed (the session's other pending
    changes with them: call this first in a request), then the objects are written; if a write fails
    (503 ``storage_unavailable``), the objects written so far and the rows are deleted again before
    the error propagates (a row stays only while its object's deletion cannot be confirmed, for the
    maintenance job). Closes every file. No files: returns ``[]`` and commits nothing.
    """
    policy = POLICIES[purpose]
    limit = max_bytes(purpose, settings)
    images: list[CleanImage] = []
    try:
        if len(files) > policy.max_files:
            raise TooManyFiles(policy.max_files)
        for index, file in enumerate(files):
            if _file_size(file) > limit:
                raise FileTooLarge(limit, file_index=index)
        for index, file in enumerate(files):
            await file.seek(0)
            data = await file.read(limit + 1)
            if len(data) > limit:  # grew since it was measured: only if the caller wrote to it
                raise FileTooLarge(limit, file_index=index)
            try:
                images.append(await _clean(settings, purpose, data))
            except AppError as exc:
                exc.extra = {**(exc.extra if isinstance(exc.extra, dict) else {}), "file_index": index}
                raise
            del data
    finally:
        for file in files:
            with contextlib.suppress(Exception):
                await file.close()
    if not images:
        return []
    uploads = [_new_upload(owner_id, purpose, image) for image in images]
    db.add_all(uploads)
    await tx.commit_before_storage(db)
    await _put_all(db, storage, uploads, images)
    return [upload.id for upload in uploads]


async def discard_uploads(db: AsyncSession, storage: Storage, upload_ids: Sequence[uuid.UUID]) -> None:
    """Delete uploads from ``store_uploads`` whose subject could not be saved: objects, then rows.

    For a failure path: first **rolls back** the session (whatever the caller had not committed is
    abandoned), then deletes those of ``upload_ids`` that are still unattached and commits. Attached
    uploads and unknown ids are left alone, so calling it again is harmless. Never raises for
    storage trouble: an object that cannot be deleted keeps its row, and the maintenance job
    finishes the work within ``ORPHAN_TTL``.
    """
    await db.rollback()
    wanted = list(dict.fromkeys(upload_ids))
    if not wanted:
        return
    rows = (
        await db.execute(
            select(Upload.id, Upload.storage_key)
            .where(Upload.id.in_(wanted), Upload.subject_id.is_(None))
            .order_by(Upload.id)
            .with_for_update(skip_locked=True)  # locked: the maintenance job has it, or an attach
        )
    ).all()
    await _delete_objects_then_rows(db, storage, rows, "discarded uploads wait for the maintenance job")
    await tx.commit_before_storage(db)


async def _delete_objects_then_rows(
    db: AsyncSession, storage: Storage, rows: Sequence[Any], waiting: str
) -> list[uuid.UUID]:
    """Delete each row's object, then the rows whose object is gone; stop at the first storage
    failure (the rest ``waiting``: the maintenance job tries again)."""
    gone: list[uuid.UUID] = []
    for row in rows:
        try:
            await storage.delete(row.storage_key)
        except StorageUnavailable:
            log.warning("storage unavailable: %d %s", len(rows) - len(gone), waiting)
            break
        gone.append(row.id)
    if gone:
        await db.execute(delete(Upload).where(Upload.id.in_(gone)))
    return gone


def _unusable(upload_id: uuid.UUID) -> RuleViolation:
    return RuleViolation(
        "This upload cannot be used here: it does not exist, is not yours, was uploaded for another "
        "purpose, is already in use, or is listed twice",
        detail_zh="该文件无法使用：文件不存在、不属于您、用途不符、已被使用或重复",
        code="upload_unusable",
        extra={"upload_id": str(upload_id)},
    )


async def attach(
    db: AsyncSession,
    *,
    owner_id: uuid.UUID | None,
    upload_ids: Sequence[uuid.UUID],
    purpose: str,
    subject_type: str,
    subject_id: uuid.UUID,
    keep_others: bool = False,
) -> None:
    """Make ``upload_ids`` (in this order, positions 0..n-1) the subject's attachments.

    ``keep_others``: uploads already attached to this subject may stay in the list whoever uploaded
    them (a filing's documents, kept up by any of the institution's admins); new ones must still be
    the caller's.

    Each upload must belong to ``owner_id`` (``None``: have no owner — uploaded without an account;
    an account's uploads are never usable so, nor ownerless ones by an account), have ``purpose`` and
    be unattached or already attached to this very subject; otherwise 422 ``upload_unusable`` naming
    the first offending upload, and nothing changes. Uploads of the subject missing from the new
    list become unattached (the maintenance job deletes them once ``ORPHAN_TTL`` old). Runs in the
    caller's transaction: flushes, never commits. Concurrent calls for one subject should be
    serialised by the caller (e.g. by locking the subject's row); otherwise one of them may fail with
    409 ``attachments_changed``.
    """
    wanted = list(upload_ids)
    seen: set[uuid.UUID] = set()
    for upload_id in wanted:
        if upload_id in seen:
            raise _unusable(upload_id)
        seen.add(upload_id)
    rows = {
        row.id: row
        for row in (
            await db.execute(
                select(Upload.id, Upload.owner_id, Upload.purpose, Upload.subject_type, Upload.subject_id)
                .where(Upload.id.in_(wanted))
                .order_by(Upload.id)
                .with_for_update()
            )
        ).all()
    }
    for upload_id in wanted:
        row = rows.get(upload_id)
        if (
            row is None
            or (
                row.owner_id != owner_id  # None == None: ownerless uploads for an ownerless caller
                and not (keep_others and (row.subject_type, row.subject_id) == (subject_type, subject_id))
            )
            or row.purpose != purpose
            or (row.subject_id is not None and (row.subject_type, row.subject_id) != (subject_type, subject_id))
        ):
            raise _unusable(upload_id)
    await db.execute(
        update(Upload)
        .where(Upload.subject_type == subject_type, Upload.subject_id == subject_id)
        .values(subject_type=None, subject_id=None, position=None)
        .execution_options(synchronize_session=False)
    )
    for position, upload_id in enumerate(wanted):
        await db.execute(
            update(Upload)
            .where(Upload.id == upload_id)
            .values(subject_type=subject_type, subject_id=subject_id, position=position)
            .execution_options(synchronize_session=False)
        )
    await db.flush()


async def detach_all(db: AsyncSession, *, subject_type: str, subject_id: uuid.UUID) -> None:
    """The subject keeps no attachments (e.g. it was deleted); flushes, never commits."""
    await db.execute(
        update(Upload)
        .where(Upload.subject_type == subject_type, Upload.subject_id == subject_id)
        .values(subject_type=None, subject_id=None, position=None)
        .execution_options(synchronize_session=False)
    )
    await db.flush()


async def attachments(
    db: AsyncSession, subject_type: str, subject_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[UploadOut]]:
    """Each requested subject's attachments in order (an empty list for a subject without any)."""
    found: dict[uuid.UUID, list[UploadOut]] = {subject_id: [] for subject_id in subject_ids}
    if not found:
        return found
    rows = await db.scalars(
        select(Upload)
        .where(Upload.subject_type == subject_type, Upload.subject_id.in_(list(found)))
        .order_by(Upload.subject_id, Upload.position)
    )
    for upload in rows:
        found[upload.subject_id].append(_out(upload))  # type: ignore[index]
    return found


async def read_attachment(
    db: AsyncSession, storage: Storage, *, subject_type: str, subject_id: uuid.UUID, upload_id: uuid.UUID
) -> tuple[bytes, str]:
    """The bytes and content type of an upload attached to the subject; 404 otherwise.

    The caller has checked that the subject may be seen."""
    row = (
        await db.execute(
            select(Upload.storage_key, Upload.content_type).where(
                Upload.id == upload_id, Upload.subject_type == subject_type, Upload.subject_id == subject_id
            )
        )
    ).one_or_none()
    if row is None:
        raise NotFound("attachment")
    try:
        data = await storage.get(row.storage_key)
    except ObjectNotFound:
        log.warning("upload %s is attached but its stored object is missing", upload_id)
        raise NotFound("attachment") from None
    return data, row.content_type


async def presigned_urls(
    db: AsyncSession, storage: Storage, *, subject_type: str, subject_id: uuid.UUID, expires_s: int = 300
) -> list[PresignedOut]:
    """The subject's attachments in order, each with a URL that serves it for ``expires_s`` seconds
    without signing in (``Storage.presigned_get``; 1 s to 7 days). The caller has checked that the
    subject may be seen; the URLs are capabilities — hand them only to that caller.

    ``expires_at`` is when the URLs lapse, rounded down to the second (never later than they do)."""
    rows = (
        await db.execute(
            select(Upload.id, Upload.storage_key, Upload.content_type, Upload.width, Upload.height)
            .where(Upload.subject_type == subject_type, Upload.subject_id == subject_id)
            .order_by(Upload.position)
        )
    ).all()
    expires_at = utcnow().replace(microsecond=0) + dt.timedelta(seconds=expires_s)
    return [
        PresignedOut(
            id=row.id,
            url=await storage.presigned_get(row.storage_key, expires_s=expires_s, content_type=row.content_type),
            content_type=row.content_type,
            width=row.width,
            height=row.height,
            expires_at=expires_at,
        )
        for row in rows
    ]


async def presigned_documents(
    db: AsyncSession,
    storage: Storage,
    *,
    subject_types: Sequence[str],
    subject_id: uuid.UUID,
    expires_s: int = 300,
) -> dict[str, list[PresignedDocumentOut]]:
    """``presigned_urls`` for attachments that may be documents (PDFs without pixel sizes), for
    several subject types of one subject at once (e.g. a filing's document kinds): each type's list,
    in order. The caller has checked that the subject may be seen."""
    found: dict[str, list[PresignedDocumentOut]] = {t: [] for t in subject_types}
    rows = (
        await db.execute(
            select(
                Upload.id,
                Upload.subject_type,
                Upload.storage_key,
                Upload.content_type,
                Upload.byte_size,
                Upload.width,
                Upload.height,
            )
            .where(Upload.subject_type.in_(list(found)), Upload.subject_id == subject_id)
            .order_by(Upload.subject_type, Upload.position)
        )
    ).all()
    expires_at = utcnow().replace(microsecond=0) + dt.timedelta(seconds=expires_s)
    for row in rows:
        found[row.subject_type].append(
            PresignedDocumentOut(
                id=row.id,
                url=await storage.presigned_get(row.storage_key, expires_s=expires_s, content_type=row.content_type),
                content_type=row.content_type,
                byte_size=row.byte_size,
                width=row.width,
                height=row.height,
                expires_at=expires_at,
            )
        )
    return found


async def purge_unattached(db: AsyncSession, storage: Storage, *, older_than: dt.timedelta = ORPHAN_TTL) -> int:
    """Delete unattached uploads older than ``older_than``: the object, then the row.

    A missing object is fine (deleting is idempotent). If storage is unavailable the round stops
    and the remaining rows wait for the next one. Flushes; the caller commits.
    """
    rows = (
        await db.execute(
            select(Upload.id, Upload.storage_key)
            .where(Upload.subject_id.is_(None), Upload.created_at < func.now() - older_than)
            .order_by(Upload.created_at)
            .limit(PURGE_BATCH)
            .with_for_update(skip_locked=True)
        )
    ).all()
    done = await _delete_objects_then_rows(db, storage, rows, "unattached uploads wait for the next round")
    await db.flush()
    return len(done)


@periodic("uploads_unattached")
async def purge_unattached_job(db: AsyncSession, settings: Settings) -> int:
    return await purge_unattached(db, storage_from_settings(settings))
