"""Filing documents: POST /api/uploads/documents takes PDFs (checked by content) and images (cleaned),
refuses anything else with a clear 4xx and writes nothing; other purposes are unchanged."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backend.files.models import Upload
from backend.files.pdf import tiny_pdf
from tests.imagedata import PNG, photo_with_gps

DOCS = "/api/uploads/documents"
MIB = 1024 * 1024


async def send(client, headers, data, *, name="doc.pdf", ctype="application/pdf", purpose="filing_document"):
    return await client.post(DOCS, params={"purpose": purpose}, files={"file": (name, data, ctype)}, headers=headers)


async def rows_of(db, owner_id) -> int:
    return await db.scalar(select(func.count()).select_from(Upload).where(Upload.owner_id == owner_id))


async def test_a_pdf_is_stored_as_uploaded_and_an_image_is_cleaned(client, factory, db, storage):
    owner, headers = await factory.signed_in()
    pdf = tiny_pdf("Licence")
    r = await send(client, headers, pdf, name="photo.png", ctype="image/png")  # the declared type is ignored
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["content_type"] == "application/pdf" and body["width"] is None and body["height"] is None
    row = await db.get(Upload, __import__("uuid").UUID(body["id"]))
    assert row.purpose == "filing_document" and row.byte_size == len(pdf)
    assert await storage.get(row.storage_key) == pdf

    r = await send(client, headers, photo_with_gps(), name="scan.pdf", ctype="application/pdf")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["content_type"] == "image/jpeg" and body["width"] > 0
    row = await db.get(Upload, __import__("uuid").UUID(body["id"]))
    assert b"GPS" not in await storage.get(row.storage_key)  # cleaned like every image
    assert await rows_of(db, owner.id) == 2


BAD = {
    "plain text": (b"just some text, not a document", 422, "document_unsupported"),
    "html named .pdf": (b"<html><script>alert(1)</script></html>", 422, "document_unsupported"),
    "empty file": (b"", 422, "document_unsupported"),
    "pdf header only": (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", 422, "pdf_corrupt"),
    "truncated pdf": (tiny_pdf()[:-40], 422, "pdf_corrupt"),
    "pdf with a wrong xref offset": (tiny_pdf().replace(b"startxref\n", b"startxref\n9"), 422, "pdf_corrupt"),
    "pdf with javascript": (
        tiny_pdf(catalog_extra=b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"),
        422,
        "pdf_active_content",
    ),
    "broken png": (PNG[:30], 422, "image_unsupported"),
    "too large": (tiny_pdf() + b"\n" * (20 * MIB), 413, "file_too_large"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
async def test_bad_documents_are_refused_and_write_nothing(client, factory, db, storage, case):
    owner, headers = await factory.signed_in()
    data, status, code = BAD[case]
    r = await send(client, headers, data)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code and body["detail"] and body["detail_zh"]
    assert await rows_of(db, owner.id) == 0


async def test_purposes_stay_apart(client, factory, db, storage):
    owner, headers = await factory.signed_in()
    # Images-only purposes still refuse PDFs; documents only go to their own route.
    r = await client.post(
        "/api/uploads",
        params={"purpose": "notice_image"},
        files={"file": ("a.pdf", tiny_pdf(), "application/pdf")},
        headers=headers,
    )
    assert r.status_code == 422 and r.json()["code"] == "image_unsupported"
    r = await client.post(
        "/api/uploads",
        params={"purpose": "filing_document"},
        files={"file": ("a.pdf", tiny_pdf(), "application/pdf")},
        headers=headers,
    )
    assert r.status_code == 400
    assert (await send(client, headers, tiny_pdf(), purpose="notice_image")).status_code == 400
    assert (await send(client, {}, tiny_pdf())).status_code == 401
    assert await rows_of(db, owner.id) == 0


async def test_a_body_far_above_the_document_limit_is_refused_before_it_is_read(client, factory, db, storage):
    owner, headers = await factory.signed_in()
    pulled = 0

    async def body():
        nonlocal pulled
        for _ in range(64):
            pulled += 1
            yield b"\0" * MIB

    multipart = {**headers, "Content-Type": "multipart/form-data; boundary=dqboundary"}
    r = await client.post(
        DOCS,
        params={"purpose": "filing_document"},
        content=body(),
        headers={**multipart, "Content-Length": str(64 * MIB)},
    )
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"
    assert pulled == 0
    assert await rows_of(db, owner.id) == 0
