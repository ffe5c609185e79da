"""What other domains call: attach uploads to a subject, list them, read them; and the job that
deletes uploads nobody attached."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from backend.core import maintenance
from backend.core.errors import NotFound, RuleViolation
from backend.core.storage import S3Storage
from backend.files import service
from backend.files.models import Upload
from backend.files.routes import attachment_response
from tests.conftest import make_settings
from tests.files.conftest import stored_files, upload_id
from tests.live import free_port

NOTICE = "notice"


async def attach(db, owner, ids, *, subject_id, purpose="notice_image", subject_type=NOTICE):
    await service.attach(
        db, owner_id=owner.id, upload_ids=ids, purpose=purpose, subject_type=subject_type, subject_id=subject_id
    )
    await db.commit()


async def subject_of(db, upload: uuid.UUID) -> tuple[str | None, uuid.UUID | None, int | None]:
    row = (
        await db.execute(select(Upload.subject_type, Upload.subject_id, Upload.position).where(Upload.id == upload))
    ).one()
    return row.subject_type, row.subject_id, row.position


async def test_attach_in_order_then_list_and_read(client, factory, db, storage):
    owner, headers = await factory.signed_in()
    first, second, third = [await upload_id(client, headers) for _ in range(3)]
    notice, other_notice = uuid.uuid4(), uuid.uuid4()
    await attach(db, owner, [third, first, second], subject_id=notice)

    listed = await service.attachments(db, NOTICE, [notice, other_notice])
    assert [u.id for u in listed[notice]] == [third, first, second]
    assert listed[other_notice] == []
    assert [await subject_of(db, u) for u in (third, first, second)] == [
        (NOTICE, notice, 0),
        (NOTICE, notice, 1),
        (NOTICE, notice, 2),
    ]
    data, content_type = await service.read_attachment(
        db, storage, subject_type=NOTICE, subject_id=notice, upload_id=first
    )
    assert content_type == "image/png"
    key = await db.scalar(select(Upload.storage_key).where(Upload.id == first))
    assert data == await storage.get(key)
    assert await service.attachments(db, NOTICE, []) == {}


async def test_attaching_again_replaces_the_list(client, factory, db, storage):
    owner, headers = await factory.signed_in()
    a, b, c = [await upload_id(client, headers) for _ in range(3)]
    notice = uuid.uuid4()
    await attach(db, owner, [a, b], subject_id=notice)
    await attach(db, owner, [c, a], subject_id=notice)  # reorder, add one, drop one
    assert [u.id for u in (await service.attachments(db, NOTICE, [notice]))[notice]] == [c, a]
    assert await subject_of(db, b) == (None, None, None)  # unattached: the maintenance job will remove it
    await attach(db, owner, [], subject_id=notice)
    assert (await service.attachments(db, NOTICE, [notice]))[notice] == []
    await attach(db, owner, [b, c], subject_id=notice)
    await service.detach_all(db, subject_type=NOTICE, subject_id=notice)
    assert [await subject_of(db, u) for u in (a, b, c)] == [(None, None, None)] * 3


async def _unusable(db, owner, ids, **kw) -> RuleViolation:
    with pytest.raises(RuleViolation) as err:
        await service.attach(
            db,
            owner_id=owner.id,
            upload_ids=ids,
            purpose=kw.get("purpose", "notice_image"),
            subject_type=NOTICE,
            subject_id=kw.get("subject_id", uuid.uuid4()),
        )
    assert err.value.status_code == 422
    assert err.value.code == "upload_unusable"
    assert err.value.detail_zh
    return err.value


async def test_attach_refuses_uploads_the_caller_may_not_use(client, factory, db, storage):
    owner, headers = await factory.signed_in()
    _, stranger_headers = await factory.signed_in()
    mine, also_mine = await upload_id(client, headers), await upload_id(client, headers)
    theirs = await upload_id(client, stranger_headers)
    notice = uuid.uuid4()
    await attach(db, owner, [mine], subject_id=notice)

    error = await _unusable(db, owner, [also_mine, theirs])  # another account's upload
    assert error.extra == {"upload_id": str(theirs)}
    await _unusable(db, owner, [also_mine], purpose="complaint_photo")  # uploaded for another purpose
    await _unusable(db, owner, [mine])  # already attached to another subject
    await _unusable(db, owner, [also_mine, also_mine])  # listed twice
    await _unusable(db, owner, [uuid.uuid4()])  # no such upload
    # Nothing changed on refusal.
    assert await subject_of(db, mine) == (NOTICE, notice, 0)
    assert [await subject_of(db, u) for u in (also_mine, theirs)] == [(None, None, None)] * 2
    # The uploads already on the subject may stay in its new list.
    await attach(db, owner, [also_mine, mine], subject_id=notice)
    assert await subject_of(db, mine) == (NOTICE, notice, 1)


async def test_read_attachment_only_through_its_subject(client, factory, db, storage):
    owner, headers = await factory.signed_in()
    attached, loose = await upload_id(client, headers), await upload_id(client, headers)
    notice = uuid.uuid4()
    await attach(db, owner, [attached], subject_id=notice)
    for subject_type, subject_id, upload in (
        (NOTICE, uuid.uuid4(), attached),  # another subject
        ("complaint", notice, attached),  # another kind of subject
        (NOTICE, notice, loose),  # not attached at all
        (NOTICE, notice, uuid.uuid4()),
    ):
        with pytest.raises(NotFound):
            await service.read_attachment(
                db, storage, subject_type=subject_type, subject_id=subject_id, upload_id=upload
            )
    key = await db.scalar(select(Upload.storage_key).where(Upload.id == attached))
    await storage.delete(key)  # the object vanished behind the row's back: 404, not 500
    with pytest.raises(NotFound):
        await service.read_attachment(db, storage, subject_type=NOTICE, subject_id=notice, upload_id=attached)


async def test_the_database_keeps_attachments_whole(client, factory, db, storage):
    owner, headers = await factory.signed_in()
    first, second = await upload_id(client, headers), await upload_id(client, headers)
    notice = uuid.uuid4()
    for values, constraint in (
        ({"subject_type": NOTICE}, "ck_uploads_attachment_complete"),
        ({"subject_type": NOTICE, "subject_id": notice, "position": -1}, "ck_uploads_position_non_negative"),
        ({"subject_type": "Notice!", "subject_id": notice, "position": 0}, "ck_uploads_subject_type_format"),
    ):
        with pytest.raises(IntegrityError, match=constraint):
            async with db.begin_nested():
                await db.execute(update(Upload).where(Upload.id == first).values(**values))
    await attach(db, owner, [first], subject_id=notice)
    with pytest.raises(IntegrityError, match="uq_uploads_subject_type_subject_id_position"):
        async with db.begin_nested():
            await db.execute(
                update(Upload).where(Upload.id == second).values(subject_type=NOTICE, subject_id=notice, position=0)
            )


async def _age(db, upload: uuid.UUID, hours: float) -> None:
    await db.execute(
        update(Upload).where(Upload.id == upload).values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours))
    )
    await db.commit()


async def test_the_maintenance_job_deletes_old_unattached_uploads(client, factory, db, storage, tmp_path):
    owner, headers = await factory.signed_in()
    old_orphan, old_attached, young_orphan, gone_object = [await upload_id(client, headers) for _ in range(4)]
    await attach(db, owner, [old_attached], subject_id=uuid.uuid4())
    for upload in (old_orphan, old_attached, gone_object):
        await _age(db, upload, 25)
    await _age(db, young_orphan, 23)
    keys = {u: await db.scalar(select(Upload.storage_key).where(Upload.id == u)) for u in (old_orphan, gone_object)}
    await storage.delete(keys[gone_object])  # its object is already gone: the row still goes

    job = maintenance.JOBS["uploads_unattached"]
    assert job is service.purge_unattached_job
    # The job builds the storage from the settings, like the app: here VAR_DIR/uploads is the test's directory.
    assert await job(db, make_settings(var_dir=tmp_path)) == 2
    await db.commit()

    left = set((await db.scalars(select(Upload.id).where(Upload.owner_id == owner.id))).all())
    assert left == {old_attached, young_orphan}
    assert not await storage.exists(keys[old_orphan])
    assert len(stored_files(storage.root)) == 2
    assert await job(db, make_settings(var_dir=tmp_path)) == 0


async def test_the_job_leaves_rows_when_storage_is_down(client, factory, db, storage):
    _, headers = await factory.signed_in()
    orphan = await upload_id(client, headers)
    await _age(db, orphan, 30)
    down = S3Storage(endpoint=f"127.0.0.1:{free_port()}", access_key="a", secret_key="b", bucket="x-y", secure=False)
    assert await service.purge_unattached(db, down) == 0
    assert await db.scalar(select(Upload.id).where(Upload.id == orphan)) == orphan
    assert await service.purge_unattached(db, storage) == 1
    assert await db.scalar(select(Upload.id).where(Upload.id == orphan)) is None


async def test_the_job_deletes_from_s3(client, factory, db, s3_server, s3_storage, use_storage):
    use_storage(s3_storage)
    owner, headers = await factory.signed_in()
    orphan, kept = await upload_id(client, headers), await upload_id(client, headers)
    await attach(db, owner, [kept], subject_id=uuid.uuid4())
    await _age(db, orphan, 48)
    await _age(db, kept, 48)
    assert len(s3_server.objects(s3_storage.bucket)) == 2
    assert await service.purge_unattached(db, s3_storage) == 1
    kept_key = await db.scalar(select(Upload.storage_key).where(Upload.id == kept))
    assert s3_server.objects(s3_storage.bucket) == [kept_key]


def test_attachments_are_served_inline_and_never_sniffed():
    response = attachment_response(b"\x89PNG...", "image/png")
    assert response.media_type == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, max-age=3600"
    assert "sandbox" in response.headers["Content-Security-Policy"]
