"""Uploads: cleaned, stored under random keys, then attached to a subject by the domain that owns it.

Life of an upload:

1. ``create_upload`` (``POST /api/uploads``): the image is checked and re-encoded without metadata
   (``core.images``), a row is committed, then the bytes are stored under a random key. The row goes
   first so that nothing can ever be stored without a row pointing at it: if storing fails the row is
   deleted again (503), and if the process dies in between, the maintenance job removes the row.
2. ``attach`` (called by another domain inside its own transaction, e.g. when a notice is saved):
   the uploads, owned by the caller, of the right purpose and not in use elsewhere, become the
   subject's ordered list. Calling it again replaces the list; ``attach(..., upload_ids=[])`` clears it.
3. ``attachments`` / ``read_attachment``: listing and serving, for callers that checked the subject
   may be seen.
4. Uploads that are not attached — never attached, or dropped from a subject's list — are deleted
   (object, then row) by the maintenance job once they are ``ORPHAN_TTL`` old, counted from the upload.
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

import anyio
import anyio.to_thread
from litestar.datastructures import UploadFile
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core import ratelimit
from backend.core.authz import Principal
from backend.core.config import Settings
from backend.core.errors import AppError, NotFound, RuleViolation
from backend.core.images import clean_image, unsupported
from backend.core.maintenance import periodic
from backend.core.storage import ObjectNotFound, Storage, StorageUnavailable, storage_from_settings
from backend.files.models import Upload
from backend.files.schemas import UploadOut

log = logging.getLogger("backend.files")

ORPHAN_TTL = dt.timedelta(hours=24)
PURGE_BATCH = 500
HOUR = 3600


@dataclass(frozen=True, slots=True)
class Policy:
    """What an upload purpose accepts."""

    max_side: int  # images are shrunk to fit a square this size


POLICIES: dict[str, Policy] = {
    "notice_image": Policy(max_side=2560),
}

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

    def __init__(self, max_bytes: int) -> None:
        mib = max_bytes / (1024 * 1024)
        super().__init__(
            f"The file is larger than {mib:g} MiB",
            detail_zh=f"文件不能超过 {mib:g} MB",
            extra={"max_bytes": max_bytes},
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


async def create_upload(
    db: AsyncSession, settings: Settings, storage: Storage, p: Principal, purpose: str, file: UploadFile
) -> UploadOut:
    """Check, clean and store an uploaded image.

    Commits (unlike most services): the rate-limit hit first, so refused and malformed attempts
    count too; then the row, before the object is stored (see the module's description).
    """
    policy = POLICIES[purpose]
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
        await db.commit()
        data = await file.read(settings.upload_max_bytes + 1)
    finally:
        await file.close()
    if len(data) > settings.upload_max_bytes:
        raise FileTooLarge(settings.upload_max_bytes)
    if not data:
        raise unsupported()
    image = await anyio.to_thread.run_sync(
        partial(clean_image, data, max_pixels=settings.upload_max_pixels, max_side=policy.max_side),
        limiter=_image_limiter(),
    )
    upload = Upload(
        id=uuid.uuid4(),
        owner_id=p.account_id,
        purpose=purpose,
        storage_key=new_storage_key(purpose),
        content_type=image.content_type,
        byte_size=len(image.data),
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(image.data).digest(),
    )
    db.add(upload)
    await db.commit()
    try:
        await storage.put(upload.storage_key, image.data, image.content_type)
    except Exception:
        # The object may exist even so (a reply lost after the write): remove it, then the row.
        with contextlib.suppress(StorageUnavailable):
            await storage.delete(upload.storage_key)
        await db.execute(delete(Upload).where(Upload.id == upload.id))
        await db.commit()
        raise
    return _out(upload)


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
    owner_id: uuid.UUID,
    upload_ids: Sequence[uuid.UUID],
    purpose: str,
    subject_type: str,
    subject_id: uuid.UUID,
) -> None:
    """Make ``upload_ids`` (in this order, positions 0..n-1) the subject's attachments.

    Each upload must belong to ``owner_id``, have ``purpose`` and be unattached or already attached
    to this very subject; otherwise 422 ``upload_unusable`` naming the first offending upload, and
    nothing changes. Uploads of the subject missing from the new list become unattached (the
    maintenance job deletes them once ``ORPHAN_TTL`` old). Runs in the caller's transaction: flushes,
    never commits. Concurrent calls for one subject should be serialised by the caller (e.g. by
    locking the subject's row); otherwise one of them may fail with 409 ``attachments_changed``.
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
            or row.owner_id != owner_id
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
    done: list[uuid.UUID] = []
    for row in rows:
        try:
            await storage.delete(row.storage_key)
        except StorageUnavailable:
            log.warning("storage unavailable: %d unattached uploads wait for the next round", len(rows) - len(done))
            break
        done.append(row.id)
    if done:
        await db.execute(delete(Upload).where(Upload.id.in_(done)))
        await db.flush()
    return len(done)


@periodic("uploads_unattached")
async def purge_unattached_job(db: AsyncSession, settings: Settings) -> int:
    return await purge_unattached(db, storage_from_settings(settings))
