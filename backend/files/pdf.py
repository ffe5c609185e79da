"""Checking an uploaded PDF (filing documents): recognised by content, structurally plausible, no
active content.

A PDF cannot be cleaned like an image (re-rendering it would need a PDF library and would change a
legal document), so it is stored as uploaded — after these checks, which refuse anything that is not
a PDF or that is obviously broken:

* it starts with the ``%PDF-1.x`` / ``%PDF-2.0`` header (the client's file name and declared type are
  never trusted);
* its end holds ``startxref <offset>`` and ``%%EOF`` (only whitespace or a little padding after), and
  the offset points inside the file at a cross-reference table (``xref``) or a cross-reference
  stream object (``n g obj``) — what a reader needs to open the file;
* it has at least one indirect object (``n g obj`` … ``endobj``);
* it carries no active content a viewer could run or open: JavaScript (``/JavaScript``, ``/JS``),
  launch actions (``/Launch``), embedded files (``/EmbeddedFile``), rich media (``/RichMedia``).
  Scanned certificates need none of these. (Inside compressed object streams they would go unseen:
  the files are served with a sandboxing Content-Security-Policy and ``nosniff`` all the same.)

Every refusal is a 422 ``RuleViolation`` (``pdf_corrupt``, ``pdf_active_content``).
"""

from __future__ import annotations

import re

from backend.core.errors import RuleViolation

_HEADER = re.compile(rb"%PDF-(?:1\.[0-7]|2\.0)\b")
_TAIL_BYTES = 2048
_STARTXREF = re.compile(rb"startxref\s+(\d{1,12})\s+%%EOF\s*\Z", re.S)
_XREF_AT = re.compile(rb"\s*(?:xref\b|\d{1,10}\s+\d{1,5}\s+obj\b)")
_OBJECT = re.compile(rb"\b\d{1,10}\s+\d{1,5}\s+obj\b")
# A name token: '/' + the name, ended by a delimiter or whitespace (so '/JSON' is not '/JS').
_ACTIVE = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFile|RichMedia)(?=[\s/<>\[\]()%{}]|\Z)")


def corrupt() -> RuleViolation:
    return RuleViolation(
        "The PDF is damaged or incomplete", detail_zh="PDF 文件已损坏或不完整，请重新导出后上传", code="pdf_corrupt"
    )


def is_pdf(data: bytes) -> bool:
    """Does ``data`` claim to be a PDF (by its first bytes)?"""
    return data.startswith(b"%PDF-")


def check_pdf(data: bytes) -> None:
    """Raise a 422 unless ``data`` is a plausible PDF without active content."""
    if not _HEADER.match(data):
        raise corrupt()
    tail = data[-_TAIL_BYTES:].rstrip(b"\x00")
    found = list(re.finditer(rb"startxref", tail))
    if not found:
        raise corrupt()
    match = _STARTXREF.search(tail, found[-1].start())
    if match is None:
        raise corrupt()
    offset = int(match.group(1))
    if not 0 < offset < len(data) or not _XREF_AT.match(data, offset):
        raise corrupt()
    if not _OBJECT.search(data) or b"endobj" not in data:
        raise corrupt()
    if _ACTIVE.search(data):
        raise RuleViolation(
            "PDFs with scripts, launch actions or embedded files are not accepted; export the document again "
            "as a plain PDF or upload a photo of it",
            detail_zh="不接受含脚本、启动操作或嵌入文件的 PDF，请重新导出为普通 PDF 或上传照片",
            code="pdf_active_content",
        )


def tiny_pdf(text: str = "Demo", *, catalog_extra: bytes = b"") -> bytes:
    """A minimal valid one-page PDF (demo data and tests): a correct cross-reference table."""
    stream = f"BT /F1 18 Tf 40 100 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
