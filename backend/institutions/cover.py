"""An institution's cover photo (封面照片), shown on its search card and page.

The photo is an upload (``POST /api/uploads?purpose=institution_cover``: recognised by content,
re-encoded without EXIF or any other metadata, shrunk to fit 2560×2560) attached to the institution
(subject type ``institution_cover``, one per institution). Setting another photo or ``null`` leaves
the previous upload unattached, and the periodic job deletes it. Covers show institutions, not
children; they are public like the rest of the institution's page.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.authz import Principal
from backend.core.storage import Storage
from backend.files import service as files
from backend.institutions import permissions as P
from backend.institutions.queries import COVER_SUBJECT
from backend.institutions.service import load_scoped

PURPOSE = COVER_SUBJECT


async def set_cover(db: AsyncSession, p: Principal, institution_id: uuid.UUID, upload_id: uuid.UUID | None) -> None:
    """The institution's cover becomes the caller's upload ``upload_id`` (or none). The institution's
    row is locked first, so concurrent changes are applied one after the other (the last one wins)."""
    inst = await load_scoped(db, p, institution_id, P.SET_COVER)
    await files.attach(
        db,
        owner_id=p.account_id,
        upload_ids=[] if upload_id is None else [upload_id],
        purpose=PURPOSE,
        subject_type=COVER_SUBJECT,
        subject_id=inst.id,
    )
    await db.flush()


async def read_cover(
    db: AsyncSession, storage: Storage, institution_id: uuid.UUID, upload_id: uuid.UUID
) -> tuple[bytes, str]:
    """The cover's bytes and content type; 404 unless it is (still) this institution's cover."""
    return await files.read_attachment(
        db, storage, subject_type=COVER_SUBJECT, subject_id=institution_id, upload_id=upload_id
    )
