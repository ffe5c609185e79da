"""Filing (备案): the institution's dossier, submission, the health officers' review, time limits,
who may see and do what, events, audit, the public page, and bad input."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from backend.core.audit import AuditEntry
from backend.core.authz import Role
from backend.core.clock import CHINA
from backend.core.outbox import Event
from backend.core.workdays import add_working_days
from backend.files.pdf import tiny_pdf
from backend.filing.models import Filing, FilingHistory
from backend.filing.schemas import FilingOut, FilingQueueItem
from backend.institutions.models import Institution
from tests.imagedata import PNG
from tests.strict import strict

REQUIRED = [
    "business_licence",
    "site_proof",
    "staff_qualifications",
    "health_certificates",
    "health_evaluation",
    "fire_safety",
]
ZHAOZHOU = 230621


async def doc(client: httpx.AsyncClient, headers: dict[str, str], data: bytes | None = None) -> str:
    r = await client.post(
        "/api/uploads/documents",
        params={"purpose": "filing_document"},
        files={"file": ("d.pdf", data or tiny_pdf(), "application/pdf")},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


class Setup:
    def __init__(self, client: httpx.AsyncClient, factory: Any, db: Any) -> None:
        self.client, self.factory, self.db = client, factory, db

    async def build(self) -> Setup:
        self.inst = await self.factory.institution(unit_code=ZHAOZHOU, lat=45.70, lng=125.27, filing_status="unfiled")
        self.admin_acc, self.admin = await self.factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=self.inst.id)
        _, self.staff = await self.factory.signed_in(Role.INSTITUTION_STAFF, institution_id=self.inst.id)
        self.zz_acc, self.zz = await self.factory.signed_in(Role.OFFICER, department="health", unit=ZHAOZHOU)
        self.city_acc, self.city = await self.factory.signed_in(Role.OFFICER, department="health")
        _, self.other_unit = await self.factory.signed_in(Role.OFFICER, department="health", unit=230602)
        _, self.market = await self.factory.signed_in(Role.OFFICER, department="market")
        _, self.city_admin = await self.factory.signed_in(Role.CITY_ADMIN)
        _, self.parent = await self.factory.signed_in(Role.PARENT)
        return self

    @property
    def url(self) -> str:
        return f"/api/institutions/{self.inst.id}/filing"

    async def complete(self, kinds: list[str] = REQUIRED, serves_meals: bool = False) -> dict[str, list[str]]:
        documents = {kind: [await doc(self.client, self.admin)] for kind in kinds}
        r = await self.client.put(
            self.url, headers=self.admin, json={"serves_meals": serves_meals, "documents": documents}
        )
        assert r.status_code == 200, r.text
        return documents

    async def submit(self) -> httpx.Response:
        return await self.client.post(f"{self.url}/submit", headers=self.admin)

    async def status(self) -> tuple[str, dt.datetime | None]:
        row = (
            await self.db.execute(
                select(Institution.filing_status, Institution.filed_at)
                .where(Institution.id == self.inst.id)
                .execution_options(populate_existing=True)
            )
        ).one()
        return row.filing_status, row.filed_at


@pytest.fixture
async def s(client, factory, db, storage) -> Setup:
    return await Setup(client, factory, db).build()


async def test_submit_return_resubmit_approve(s: Setup, client, db, settings):
    # A fresh institution: nothing on file, everything missing.
    r = await client.get(s.url, headers=s.admin)
    assert r.status_code == 200, r.text
    out = strict(r.content, FilingOut)
    assert (out.id, out.status, out.editable) == (None, "unfiled", True)
    assert out.missing_kinds == ["business_licence", "legal_person_certificate", *REQUIRED[1:]]

    # Missing kinds: 422 naming them, nothing changes.
    await s.complete(REQUIRED[:3])
    r = await s.submit()
    assert r.status_code == 422 and r.json()["code"] == "filing_documents_missing"
    assert r.json()["extra"]["missing"] == REQUIRED[3:]
    assert "健康证明" in r.json()["detail_zh"]
    assert await s.status() == ("unfiled", None)

    # Complete (the legal-person certificate may stand for the licence), submit.
    await s.complete(["legal_person_certificate", *REQUIRED[1:]])
    r = await s.submit()
    assert r.status_code == 200, r.text
    out = strict(r.content, FilingOut)
    assert (out.status, out.submission, out.editable, out.missing_kinds) == ("submitted", 1, False, [])
    assert out.due_at == add_working_days(out.submitted_at, settings.filing_review_working_days).at
    assert not out.overdue
    assert await s.status() == ("submitted", None)
    filing_id = out.id

    # Locked while under review.
    assert (await client.put(s.url, headers=s.admin, json={})).json()["code"] == "filing_not_editable"
    assert (await s.submit()).status_code == 409

    # The county officer of the unit and a city-wide one see it; others do not.
    for headers in (s.zz, s.city, s.city_admin):
        queue = strict((await client.get("/api/filings", headers=headers)).content, list[FilingQueueItem])
        assert filing_id in [q.id for q in queue]
    for headers in (s.other_unit, s.market):
        assert filing_id not in [q["id"] for q in (await client.get("/api/filings", headers=headers)).json()]
        assert (await client.get(f"/api/filings/{filing_id}", headers=headers)).status_code == 404
    detail = strict((await client.get(f"/api/filings/{filing_id}", headers=s.zz)).content, FilingOut)
    licence = next(k for k in detail.documents if k.kind == "legal_person_certificate")
    assert len(licence.files) == 1 and licence.files[0].content_type == "application/pdf"
    served = await client.get(licence.files[0].url.removeprefix("http://127.0.0.1:8000"))
    assert served.status_code == 200 and served.content.startswith(b"%PDF-")

    # Return: reasons required (blank refused), then returned with reasons the institution sees.
    r = await client.post(f"/api/filings/{filing_id}/return", headers=s.zz, json={"reasons": "   "})
    assert r.status_code == 422 and r.json()["code"] == "reasons_required"
    r = await client.post(
        f"/api/filings/{filing_id}/return", headers=s.zz, json={"reasons": "消防安全证明已过期，请更新"}
    )
    assert r.status_code == 200, r.text
    assert await s.status() == ("returned", None)
    mine = strict((await client.get(s.url, headers=s.staff)).content, FilingOut)
    assert (mine.status, mine.return_reasons, mine.editable) == ("returned", "消防安全证明已过期，请更新", True)
    assert [(h.action, h.submission, h.by_officer) for h in mine.history] == [
        ("submitted", 1, False),
        ("returned", 1, True),
    ]
    # Deciding a filing that is not submitted: 409.
    r = await client.post(f"/api/filings/{filing_id}/approve", headers=s.zz, json={})
    assert r.status_code == 409 and r.json()["code"] == "filing_not_submitted"

    # Correct and resubmit (keeping the other documents, uploaded by this admin or another).
    _, other_admin = await s.factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=s.inst.id)
    current = {k.kind: [str(f.id) for f in k.files] for k in mine.documents if k.files}
    current["fire_safety"] = [await doc(client, other_admin, PNG)]
    r = await client.put(s.url, headers=other_admin, json={"documents": current})
    assert r.status_code == 200, r.text
    r = await client.post(f"{s.url}/submit", headers=other_admin)
    assert r.status_code == 200 and r.json()["submission"] == 2

    # A decision on the old submission is refused; on the current one it files the institution.
    r = await client.post(f"/api/filings/{filing_id}/approve", headers=s.city, json={"expected_submission": 1})
    assert r.status_code == 409 and r.json()["code"] == "submission_changed"
    r = await client.post(f"/api/filings/{filing_id}/approve", headers=s.city, json={"expected_submission": 2})
    assert r.status_code == 200, r.text
    status, filed_at = await s.status()
    assert status == "filed" and filed_at is not None
    assert (await client.put(s.url, headers=s.admin, json={})).status_code == 409

    # Public page: status and date, never the documents.
    public = (await client.get(f"/api/institutions/{s.inst.id}")).json()
    assert public["filing_status"] == "filed"
    assert public["filed_at"] == filed_at.astimezone(CHINA).date().isoformat()
    assert "documents" not in public

    # History, events (to the institution and the unit's health department), audit notes.
    actions = (
        await db.execute(
            select(FilingHistory.action, FilingHistory.actor_id)
            .where(FilingHistory.filing_id == filing_id)
            .order_by(FilingHistory.id)
        )
    ).all()
    assert [a for a, _ in actions] == ["submitted", "returned", "submitted", "approved"]
    assert actions[1][1] == s.zz_acc.id and actions[3][1] == s.city_acc.id
    events = (
        (
            await db.execute(
                select(Event).where(Event.subject_type == "filing", Event.subject_id == filing_id).order_by(Event.id)
            )
        )
        .scalars()
        .all()
    )
    assert [e.type for e in events] == ["filing.submitted", "filing.returned", "filing.submitted", "filing.approved"]
    assert all(
        e.institution_id == s.inst.id and e.department_codes == ["health"] and e.unit_code == ZHAOZHOU for e in events
    )
    assert all(set(e.payload) <= {"status", "institution_id", "submission", "title_zh", "title"} for e in events)
    notes = (
        await db.execute(
            select(AuditEntry.action, AuditEntry.note)
            .where(AuditEntry.account_id.in_([s.zz_acc.id, s.city_acc.id]))
            .order_by(AuditEntry.id)
        )
    ).all()
    assert [(a, n.get("decision")) for a, n in notes] == [("filing.decide", "returned"), ("filing.decide", "approved")]


async def test_meals_need_the_food_licence(s: Setup, client):
    await s.complete(REQUIRED, serves_meals=True)
    r = await s.submit()
    assert r.status_code == 422 and r.json()["extra"]["missing"] == ["food_licence"]
    out = (await client.get(s.url, headers=s.admin)).json()
    assert next(k for k in out["documents"] if k["kind"] == "food_licence")["required"] is True
    await s.complete([*REQUIRED, "food_licence"], serves_meals=True)
    assert (await s.submit()).status_code == 200


async def test_overdue_filings_are_flagged_and_filtered(s: Setup, client, db):
    await s.complete()
    filing_id = (await s.submit()).json()["id"]
    assert filing_id not in [q["id"] for q in (await client.get("/api/filings?overdue=true", headers=s.zz)).json()]
    await db.execute(
        update(Filing).where(Filing.id == uuid.UUID(filing_id)).values(due_at=func.now() - dt.timedelta(hours=1))
    )
    await db.commit()
    overdue = (await client.get("/api/filings", params={"overdue": "true"}, headers=s.zz)).json()
    assert [q["id"] for q in overdue if q["id"] == filing_id] == [filing_id] and all(q["overdue"] for q in overdue)
    within = (await client.get("/api/filings", params={"overdue": "false"}, headers=s.zz)).json()
    assert filing_id not in [q["id"] for q in within]
    assert (await client.get(s.url, headers=s.admin)).json()["overdue"] is True
    filed = (await client.get("/api/filings", params={"status": "filed", "unit": ZHAOZHOU}, headers=s.zz)).json()
    assert filing_id not in [q["id"] for q in filed]


async def test_who_may_see_and_do_what(s: Setup, client):
    await s.complete()
    assert (await client.get(s.url)).status_code == 401
    assert (await client.get(s.url, headers=s.parent)).status_code == 403
    assert (await client.get(s.url, headers=s.zz)).status_code == 403  # officers review through /api/filings
    assert (await client.put(s.url, headers=s.staff, json={})).status_code == 403  # staff read only
    assert (await client.post(f"{s.url}/submit", headers=s.city_admin)).status_code == 403
    other = await s.factory.institution(filing_status="unfiled")
    _, other_admin = await s.factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=other.id)
    assert (await client.get(s.url, headers=other_admin)).status_code == 404
    assert (await client.put(s.url, headers=other_admin, json={})).status_code == 404
    filing_id = (await s.submit()).json()["id"]
    assert (await client.get("/api/filings", headers=s.admin)).status_code == 403
    for headers in (s.other_unit, s.market):
        r = await client.post(f"/api/filings/{filing_id}/approve", headers=headers, json={})
        assert r.status_code == 404
    assert (await client.post(f"/api/filings/{filing_id}/approve", headers=s.admin, json={})).status_code == 403
    assert (await client.post(f"/api/filings/{filing_id}/approve", headers=s.city_admin, json={})).status_code == 200


async def test_bad_input_is_refused_and_writes_nothing(s: Setup, client, db, factory):
    mine = await doc(client, s.admin)
    _, stranger = await factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=(await factory.institution()).id)
    theirs = await doc(client, stranger)
    notice = await client.post(
        "/api/uploads", params={"purpose": "notice_image"}, files={"file": ("a.png", PNG, "image/png")}, headers=s.admin
    )
    cases = [
        ({"documents": {"passport": [mine]}}, 400, "validation_error"),
        ({"documents": {"site_proof": ["not-a-uuid"]}}, 400, "validation_error"),
        ({"documents": {"site_proof": [mine] * 11}}, 400, "validation_error"),
        ({"documents": {"site_proof": [theirs]}}, 422, "upload_unusable"),
        ({"documents": {"site_proof": [notice.json()["id"]]}}, 422, "upload_unusable"),
        ({"documents": {"site_proof": [str(uuid.uuid4())]}}, 422, "upload_unusable"),
        ({"documents": {"site_proof": [mine], "fire_safety": [mine]}}, 422, "upload_unusable"),
        ({"serves_meals": "yes"}, 400, "validation_error"),
    ]
    for body, status, code in cases:
        r = await client.put(s.url, headers=s.admin, json=body)
        assert (r.status_code, r.json()["code"]) == (status, code), (body, r.text)
    assert await db.scalar(select(func.count()).select_from(Filing).where(Filing.institution_id == s.inst.id)) == 0
    # A submission with nothing: 422, and nothing is written.
    r = await s.submit()
    assert r.status_code == 422
    assert await db.scalar(select(func.count()).select_from(Filing).where(Filing.institution_id == s.inst.id)) == 0
    # Decisions: unknown filing, bad bodies.
    await s.complete()
    filing_id = (await s.submit()).json()["id"]
    assert (await client.post(f"/api/filings/{uuid.uuid4()}/approve", headers=s.zz, json={})).status_code == 404
    for body in ({}, {"reasons": ""}, {"reasons": "<script>x</script>"}, {"reasons": "ok", "extra": 1}):
        r = await client.post(f"/api/filings/{filing_id}/return", headers=s.zz, json=body)
        assert r.status_code == 400, (body, r.text)
    assert await s.status() == ("submitted", None)
    assert (
        await db.scalar(
            select(func.count()).select_from(FilingHistory).where(FilingHistory.filing_id == uuid.UUID(filing_id))
        )
        == 1
    )


async def test_an_institution_filed_before_the_platform_cannot_start_a_new_dossier(client, factory, db, storage):
    inst = await factory.institution()  # filed
    _, admin = await factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=inst.id)
    out = (await client.get(f"/api/institutions/{inst.id}/filing", headers=admin)).json()
    assert (out["id"], out["status"], out["editable"]) == (None, "filed", False)
    assert out["filed_at"] is not None  # the trigger set it
    r = await client.put(f"/api/institutions/{inst.id}/filing", headers=admin, json={})
    assert r.status_code == 409 and r.json()["code"] == "filing_not_editable"


async def test_filed_at_follows_the_status(factory, db):
    inst = await factory.institution(filing_status="unfiled")
    read = select(Institution.filed_at).where(Institution.id == inst.id)
    assert await db.scalar(read) is None
    await db.execute(update(Institution).where(Institution.id == inst.id).values(filing_status="filed"))
    assert await db.scalar(read) is not None
    await db.execute(update(Institution).where(Institution.id == inst.id).values(filing_status="returned"))
    assert await db.scalar(read) is None


def test_demo_filings(server_url):
    """Filed demo institutions have a decided record; two 肇州县 submissions wait for the demo health
    officers, one overdue, with documents; 230602-0 stays filed; seeding again changes nothing."""
    import asyncio

    from sqlalchemy import text

    from backend.demo.data import demo_id
    from backend.demo.seed import seed
    from tests.conftest import make_settings
    from tests.live import scratch_database
    from tests.world import execute

    check = text(
        """
        SELECT (SELECT count(*) FROM institutions WHERE filing_status = 'filed'),
               (SELECT count(*) FROM institutions i JOIN filings f ON f.institution_id = i.id
                 WHERE i.filing_status = 'filed' AND f.status = 'filed' AND i.filed_at IS NOT NULL),
               (SELECT count(*) FROM filings f JOIN institutions i ON i.id = f.institution_id
                 WHERE f.status = 'submitted' AND i.unit_code = 230621),
               (SELECT count(*) FROM filings f JOIN institutions i ON i.id = f.institution_id
                 WHERE f.status = 'submitted' AND i.unit_code = 230621 AND f.due_at < now()),
               (SELECT count(*) FROM uploads WHERE purpose = 'filing_document' AND subject_id IS NOT NULL),
               (SELECT filing_status FROM institutions WHERE id = :keep),
               (SELECT count(*) FROM filings), (SELECT count(*) FROM filing_history)
        """
    ).bindparams(keep=demo_id("institution", "230602-0"))

    with scratch_database(server_url, demo=True) as url:
        first = asyncio.run(execute(url, check))[0]
        asyncio.run(seed(url, make_settings()))
        again = asyncio.run(execute(url, check))[0]
    filed, filed_with_record, waiting, overdue, docs, keep, *_ = first
    assert filed == filed_with_record > 40
    assert (waiting, overdue, keep) == (2, 1, "filed")
    assert docs == 12
    assert again == first
