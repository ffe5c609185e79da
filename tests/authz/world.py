"""The authorization matrix's world: two tenants, each with one of everything, and the callers.

*Home* (``own``): institution H in 萨尔图区 (230602) with its staff member and admin, a parent whose
children hold places and bookings there, the complaints routed to the health commission, the room its
staff member manages, ... *Away* (``other``): institution F in 肇州县 (230621), another parent, a staff
member of F, a food-safety complaint routed to the market regulator, ... Every object the routes take
in their path exists once per tenant; ``World.ids[ownership][name]`` is its id.

Callers (``World.headers[role]``): ``anonymous``; ``parent`` (home family) and ``other_parent`` (away
family); ``staff`` and ``inst_admin`` of H; ``other_staff`` of F; ``officer`` (health commission of
230602, the *right* department for the home complaints, filings and assessments) and
``other_officer`` (the market regulator, city-wide: another department, which the away complaints
are routed to); ``city_admin``.

Names, titles and descriptions carry ``SECRET``: no refused answer may contain it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.models import Account
from backend.bookings.models import Slot
from backend.childhealth.models import HealthClusterAlert, HealthFollowUp
from backend.childhealth.schemas import HEALTH_DATA_POLICY_VERSION
from backend.committees.models import CommitteeMember
from backend.core.authz import Role
from backend.core.clock import local_today, utcnow
from backend.enrolment.models import Application
from backend.files.pdf import tiny_pdf
from backend.filing.models import Filing
from backend.institutions.models import CareClass, InstitutionMode
from backend.rooms.models import Room, RoomManager, RoomRating, RoomRevision
from tests.blacklist.idnumbers import id_number
from tests.factories import EVERY_DAY, Factory, next_open_day
from tests.imagedata import PNG

SECRET = "机密SECRET"
ROLES = (
    "anonymous",
    "parent",
    "other_parent",
    "staff",
    "inst_admin",
    "other_staff",
    "officer",
    "other_officer",
    "city_admin",
)
HOME_ROLES = frozenset({"parent", "staff", "inst_admin", "officer"})
AWAY_ROLES = frozenset({"other_parent", "other_staff", "other_officer"})
TOMORROW = next_open_day()

_PLACES = {
    "own": {"unit": 230602, "lat": 46.63, "lng": 125.11},
    "other": {"unit": 230621, "lat": 45.70, "lng": 125.27},
}


class World:
    def __init__(self, db: AsyncSession, factory: Factory, http: httpx.AsyncClient) -> None:
        self.db, self.factory, self.http = db, factory, http
        self.headers: dict[str, dict[str, str]] = {"anonymous": {}}
        self.accounts: dict[str, Account] = {}
        self.ids: dict[str, dict[str, str]] = {"own": {}, "other": {}}

    # -- helpers ---------------------------------------------------------------------------------

    async def _signed_in(self, name: str, role: Role, **kw: Any) -> None:
        acc, headers = await self.factory.signed_in(role, **kw)
        self.accounts[name], self.headers[name] = acc, headers

    async def call(self, who: str, method: str, path: str, *, extra: dict[str, str] | None = None, **kw: Any) -> Any:
        r = await self.http.request(method, path, headers={**self.headers[who], **(extra or {})}, **kw)
        assert r.status_code < 300, f"{method} {path} as {who}: {r.status_code} {r.text}"
        return r.json() if r.content else None

    async def _child(self, parent: str, label: str) -> uuid.UUID:
        child = await self.factory.child(self.accounts[parent], name=f"{SECRET}{label}宝宝", age_months=14)
        return child.id

    async def _application(self, parent: str, child: uuid.UUID, inst: uuid.UUID, cls: uuid.UUID, status: str) -> str:
        app_id = uuid.uuid4()
        self.db.add(
            Application(
                id=app_id,
                child_id=child,
                applicant_id=self.accounts[parent].id,
                institution_id=inst,
                class_id=cls,
                mode="full_day",
                start_date=local_today(),
                status=status,
                offer_expires_at=utcnow() + dt.timedelta(days=3) if status == "offered" else None,
            )
        )
        column = {
            "enrolled": CareClass.enrolled_count,
            "accepted": CareClass.offered_count,
            "offered": CareClass.offered_count,
        }.get(status)
        if column is not None:
            await self.db.execute(update(CareClass).where(CareClass.id == cls).values({column: column + 1}))
        await self.db.commit()
        return str(app_id)

    async def _upload(self, who: str, purpose: str) -> str:
        out = await self.call(
            who, "POST", "/api/uploads", params={"purpose": purpose}, files={"file": ("p.png", PNG, "image/png")}
        )
        return out["id"]

    # -- the world -------------------------------------------------------------------------------

    async def build(self) -> World:
        f = self.factory
        insts = {}
        for own, place in _PLACES.items():
            inst = await f.institution(
                unit_code=place["unit"],
                lat=place["lat"],
                lng=place["lng"],
                name=f"矩阵测试托育中心{own}",
                opening_hours=EVERY_DAY,
                classes=[("toddler", 15, 3, 0)],
                modes={"full_day": (250000, "month"), "hourly": (3000, "hour")},
            )
            target = await f.institution(unit_code=place["unit"], lat=place["lat"], lng=place["lng"])
            insts[own] = inst
            cls = await self.db.scalar(select(CareClass.id).where(CareClass.institution_id == inst.id))
            self.ids[own].update(
                institution=str(inst.id), class_=str(cls), blacklist_target=str(target.id), mode="hourly"
            )
            self.db.add_all(
                Slot(
                    institution_id=inst.id,
                    day=TOMORROW,
                    band="toddler",
                    start_min=h * 60,
                    end_min=h * 60 + 60,
                    capacity=20,
                )
                for h in range(7, 19)
            )
            await self.db.commit()
        # a spare mode to delete
        for own in _PLACES:
            self.db.add(
                InstitutionMode(institution_id=insts[own].id, mode="temporary", price_fen=8000, price_unit="day")
            )
        await self.db.commit()

        h, a = insts["own"].id, insts["other"].id
        await self._signed_in("parent", Role.PARENT)
        await self._signed_in("other_parent", Role.PARENT)
        await self._signed_in("staff", Role.INSTITUTION_STAFF, institution_id=h)
        await self._signed_in("inst_admin", Role.INSTITUTION_ADMIN, institution_id=h)
        await self._signed_in("other_staff", Role.INSTITUTION_STAFF, institution_id=a)
        await self._signed_in("other_admin", Role.INSTITUTION_ADMIN, institution_id=a)  # builds the away side
        await self._signed_in("officer", Role.OFFICER, department="health", unit=230602)
        await self._signed_in("other_officer", Role.OFFICER, department="market")
        await self._signed_in("other_health", Role.OFFICER, department="health", unit=230621)  # builds the away side
        await self._signed_in("city_admin", Role.CITY_ADMIN)

        sides = {
            "own": {"parent": "parent", "staff": "staff", "admin": "inst_admin", "officer": "officer", "inst": h},
            "other": {
                "parent": "other_parent",
                "staff": "other_staff",
                "admin": "other_admin",
                "officer": "other_health",
                "inst": a,
            },
        }
        for own, side in sides.items():
            await self._tenant(own, side)
        self.ids["own"]["account"] = str(self.accounts["parent"].id)
        self.ids["other"]["account"] = str(self.accounts["other_parent"].id)
        return self

    async def _tenant(self, own: str, side: dict[str, Any]) -> None:
        ids = self.ids[own]
        parent, staff, admin, officer, inst = (
            side["parent"],
            side["staff"],
            side["admin"],
            side["officer"],
            side["inst"],
        )
        cls = uuid.UUID(ids["class_"])
        today = local_today()

        # Families: children holding places in each state, and one without an application.
        enrolled = await self._child(parent, "在园")
        ids["app_enrolled"] = await self._application(parent, enrolled, inst, cls, "enrolled")
        for status in ("submitted", "offered", "accepted"):
            child = await self._child(parent, status)
            ids[f"app_{status}"] = await self._application(parent, child, inst, cls, status)
        free = await self._child(parent, "自由")
        ids["child"] = str(free)
        ids["child_spare"] = str(await self._child(parent, "备用"))

        # Health: the enrolled child's guardian consented; staff measured a low weight (a follow-up item).
        ids["child_enrolled"] = str(enrolled)
        await self.call(
            parent,
            "PUT",
            f"/api/me/children/{enrolled}/health-profile",
            json={"sex": "female", "consent": {"policy_version": HEALTH_DATA_POLICY_VERSION, "accepted": True}},
        )
        await self.call(
            staff,
            "POST",
            f"/api/childhealth/children/{enrolled}/growth",
            json={"measured_on": today.isoformat(), "weight_kg": 5.0, "length_cm": 75.0},
        )
        report = await self.call(
            parent,
            "POST",
            "/api/uploads/documents",
            params={"purpose": "health_report"},
            files={"file": ("report.pdf", tiny_pdf("Report"), "application/pdf")},
        )
        ids["health_report"] = report["id"]
        ids["health_follow_up"] = str(
            await self.db.scalar(select(HealthFollowUp.id).where(HealthFollowUp.child_id == enrolled))
        )

        alert = HealthClusterAlert(
            id=uuid.uuid4(),
            institution_id=inst,
            class_id=cls,
            unit_code=_PLACES[own]["unit"],
            symptom="cough",
            first_day=today - dt.timedelta(days=2),
            last_day=today,
            child_count=3,
        )
        self.db.add(alert)
        await self.db.commit()
        ids["cluster_alert"] = str(alert.id)

        # Committee: the parent sits on it.
        member = CommitteeMember(
            id=uuid.uuid4(),
            institution_id=inst,
            account_id=self.accounts[parent].id,
            role="chair",
            source="appointed",
            term_start=today - dt.timedelta(days=30),
            term_end=today + dt.timedelta(days=335),
            created_by=self.accounts[admin].id,
        )
        self.db.add(member)
        await self.db.commit()
        ids["committee_member"] = str(member.id)

        # An hourly booking tomorrow.
        booking = await self.call(
            parent,
            "POST",
            "/api/bookings",
            json={
                "child_id": str(free),
                "institution_id": str(inst),
                "mode": "hourly",
                "day": TOMORROW.isoformat(),
                "start": "09:00",
                "end": "10:00",
            },
        )
        ids["booking"] = booking["id"]

        # A notice to all parents with an image and a consultation.
        image = await self._upload(staff, "notice_image")
        notice = await self.call(
            staff,
            "POST",
            f"/api/institutions/{inst}/notices",
            json={
                "title": f"{SECRET}通知",
                "body": f"{SECRET}正文",
                "audience": "institution",
                "attachment_ids": [image],
                "consultation": {
                    "question": f"{SECRET}问题",
                    "deadline": (utcnow() + dt.timedelta(days=7)).isoformat(),
                    "choice_mode": "single",
                    "options": ["好", "不好"],
                },
            },
        )
        ids["notice"], ids["notice_image"] = notice["id"], image

        # Complaints about the institution (reporter: the parent), accepted by the routed department.
        category, desk = ("health_hygiene", "officer") if own == "own" else ("food_safety", "other_officer")
        for key in ("complaint", "complaint_dup"):
            filed = await self._file_complaint(parent, own, key, category, inst)
            ids[key] = filed
            await self.call(
                desk,
                "POST",
                f"/api/complaints/desk/{filed}/transitions",
                json={"status": "accepted", "public_note": "已受理"},
            )

        # A mother-and-baby room the staff member manages, rated by the parent, with a suggestion and a photo.
        place = _PLACES[own]
        facts = {
            "name": f"矩阵母婴室{own}",
            "venue": "测试广场",
            "venue_type": "commercial_centre",
            "address": "测试路1号",
            "lat": place["lat"],
            "lng": place["lng"],
            "opening_hours": [{"days": [1, 2, 3, 4, 5, 6, 7], "opens": "08:00", "closes": "20:00"}],
            "exceptions": [],
            "amenities": ["changing_table"],
            "independent": True,
        }
        room = Room(id=uuid.uuid4(), unit_code=place["unit"], version=1, **facts)
        self.db.add(room)
        await self.db.flush()
        self.db.add(RoomRevision(room_id=room.id, version=1, facts=facts, changed_by=None, suggestion_id=None))
        self.db.add(RoomManager(room_id=room.id, account_id=self.accounts[staff].id))
        rating = RoomRating(
            id=uuid.uuid4(), room_id=room.id, account_id=self.accounts[parent].id, stars=4, comment="干净"
        )
        self.db.add(rating)
        await self.db.commit()
        ids["room"], ids["rating"] = str(room.id), str(rating.id)
        suggestion = await self.call(
            parent, "POST", f"/api/rooms/{room.id}/suggestions", json={"changes": {"location_hint": "二楼东侧"}}
        )
        ids["suggestion"] = suggestion["id"]
        photo = await self._upload(staff, "room_photo")
        await self.call(staff, "PUT", f"/api/rooms/{room.id}/photos", json={"upload_ids": [photo]})
        ids["room_photo"] = photo
        cover = await self._upload(staff, "institution_cover")
        await self.call(staff, "PUT", f"/api/institutions/{inst}/cover", json={"upload_id": cover})
        ids["institution_cover"] = cover

        # Quality assessments by the unit's health officer: a draft and a published one, each with an item.
        for key, publish in (("assessment_draft", False), ("assessment", True)):
            out = await self.call(officer, "POST", "/api/assessments", json=assessment_body(inst))
            if publish:
                out = await self.call(officer, "POST", f"/api/assessments/{out['id']}/publish")
            ids[key], ids[key + "_item"] = out["id"], out["items"][0]["id"]

        # A filing waiting for review (the institution stays filed meanwhile).
        filing = Filing(
            id=uuid.uuid4(),
            institution_id=inst,
            status="submitted",
            submission=1,
            submitted_at=utcnow(),
            due_at=utcnow() + dt.timedelta(days=21),
        )
        self.db.add(filing)
        await self.db.commit()
        ids["filing"] = str(filing.id)

        # A blacklist entry on another institution of the unit, by the unit's health officer.
        entry = await self.call(
            officer,
            "POST",
            "/api/blacklist/institutions",
            json={
                "institution_id": ids.pop("blacklist_target"),
                "reason": "违规收托",
                "decision_no": f"大卫罚〔2026〕{own}号",
                "decided_on": today.isoformat(),
            },
        )
        ids["blacklist_entry"] = entry["entry"]["id"]

        # A staff roster member.
        roster = await self.call(
            admin,
            "POST",
            f"/api/institutions/{inst}/staff",
            json={"display_name": f"{SECRET}保育员", "staff_role": "carer", "id_number": id_number()},
        )
        ids["staff_member"] = roster["id"]

        # A guidance event the institution hosts, with the parent registered.
        event = await self.call(staff, "POST", "/api/guidance/events", json=event_body())
        registration = await self.call(parent, "POST", f"/api/guidance/events/{event['id']}/registrations", json={})
        ids["event"], ids["registration"] = event["id"], registration["id"]

    async def _file_complaint(self, parent: str, own: str, key: str, category: str, inst: uuid.UUID) -> str:
        out = await self.call(
            parent,
            "POST",
            "/api/complaints",
            extra={"X-Device-Id": f"matrix-{own}-{key}"},
            files={
                "category": (None, category),
                "description": (None, f"{SECRET}投诉内容"),
                "target_type": (None, "institution"),
                "institution_id": (None, str(inst)),
            },
        )
        self.ids[own].setdefault("tracking_code", out["tracking_code"])
        return out["id"]


def assessment_body(institution_id: Any) -> dict[str, Any]:
    from backend.assessments.standard import DIMENSIONS

    today = local_today()
    return {
        "institution_id": str(institution_id),
        "assessed_on": (today - dt.timedelta(days=3)).isoformat(),
        "assessors": ["王专家"],
        "scores": {d.key: float(d.max_points) for d in DIMENSIONS},
        "summary": "保育照护规范。",
        "items": [{"description": "补齐晨检记录", "deadline": (today + dt.timedelta(days=30)).isoformat()}],
    }


def event_body() -> dict[str, Any]:
    return {
        "kind": "parent_class",
        "title": "矩阵家长课堂",
        "description": "讲解辅食添加要点。",
        "starts_at": (utcnow() + dt.timedelta(hours=48)).isoformat(),
        "ends_at": (utcnow() + dt.timedelta(hours=50)).isoformat(),
        "capacity": 5,
    }
