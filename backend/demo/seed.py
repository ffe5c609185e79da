"""Load the Daqing demo data. Idempotent: running it again changes nothing it already created.

Institutions are upserted (so improved demo text reaches existing databases), classes and accounts
are inserted only when missing (so enrolment counts and passwords changed later are kept).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.accounts.models import Account, RoleGrant
from backend.bookings.models import Slot
from backend.core import tx, workdays
from backend.core.clock import local_today, minutes
from backend.core.config import Settings
from backend.core.db import create_engine
from backend.core.security import hash_password
from backend.demo.assessments import seed_assessments
from backend.demo.blacklist import seed_blacklist
from backend.demo.data import (
    ACCOUNTS,
    CHILDREN,
    COMMITTEE,
    DEMO_PASSWORD,
    DEMO_PLACES,
    NOTICES,
    build_institutions,
    demo_id,
    indexed,
)
from backend.demo.filing import seed_filings
from backend.demo.guidance import seed_guidance
from backend.demo.rooms import seed_rooms
from backend.families.models import Child, GuardianConsent, Guardianship
from backend.families.schemas import CHILD_DATA_POLICY_VERSION
from backend.government.models import Unit
from backend.institutions.models import CareClass, Institution, InstitutionMode

FLAG_COLUMNS = {
    "inclusive": "is_inclusive",
    "demonstration": "is_demonstration",
    "employer_run": "is_employer_run",
    "community_run": "is_community_run",
    "kindergarten_class": "is_kindergarten_class",
    "home_based": "is_home_based",
}


async def seed(url: str, settings: Settings) -> dict[str, int]:
    from backend.core import crypto

    crypto.install(crypto.ChildDataKeys.from_settings(settings))  # children's names are encrypted with these
    engine = create_engine(settings, url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as db:
            counts = await seed_session(db)
            counts.update(await seed_filings(db, settings, await _units(db)))
            await _backdate_registry(db)
            counts.update(await _seed_complaints(db, settings))
            counts.update(await seed_rooms(db))
            counts.update(await seed_blacklist(db, settings, await _units(db)))
            counts.update(await seed_assessments(db, await _units(db)))
            counts.update(await seed_guidance(db, await _units(db)))
            await tx.commit_outside_request(db)
            return counts
    finally:
        await engine.dispose()


async def _backdate_registry(db: AsyncSession) -> None:
    """Give the demo registry a history, so the statistics have monthly trends: a demo institution
    (and its classes) was registered a month before its filing was submitted, or, with no filing, on a
    day of the last 12 months fixed by its id. Deterministic: reseeding gives the same dates."""
    await db.execute(
        text(
            """
            UPDATE institutions i SET created_at = coalesce(
                (SELECT f.submitted_at - interval '30 days' FROM filings f WHERE f.institution_id = i.id),
                now() - make_interval(days => 20 + abs(hashtext(i.id::text)) % 340)
            )
            WHERE i.is_demo
            """
        )
    )
    await db.execute(
        text(
            "UPDATE classes c SET created_at = i.created_at FROM institutions i "
            "WHERE i.id = c.institution_id AND i.is_demo AND c.created_at > i.created_at"
        )
    )


# long: the demo world, built in order, read top to bottom
async def seed_session(db: AsyncSession) -> dict[str, int]:
    institutions = build_institutions(await _units(db))
    for inst in institutions:
        values: dict[str, Any] = {
            "id": inst.id,
            "name": inst.name,
            "legal_form": inst.legal_form,
            "registration_no": inst.registration_no,
            "filing_status": inst.filing_status,
            "unit_code": inst.unit_code,
            "address": inst.address,
            "lat": inst.lat,
            "lng": inst.lng,
            "phone": inst.phone,
            "ownership": inst.ownership,
            "opening_hours": inst.opening_hours,
            "description": inst.description,
            "is_demo": True,
            **{FLAG_COLUMNS[k]: v for k, v in inst.flags.items()},
        }
        update = {k: v for k, v in values.items() if k not in ("id", "registration_no")}
        await db.execute(insert(Institution).values(values).on_conflict_do_update(index_elements=["id"], set_=update))
        for mode, (price, unit) in inst.modes.items():
            await db.execute(
                insert(InstitutionMode)
                .values(institution_id=inst.id, mode=mode, price_fen=price, price_unit=unit)
                .on_conflict_do_update(
                    index_elements=["institution_id", "mode"], set_={"price_fen": price, "price_unit": unit}
                )
            )
        for cls in inst.classes:
            await db.execute(
                insert(CareClass)
                .values(
                    id=demo_id("class", f"{inst.id}:{cls.name}"),
                    institution_id=inst.id,
                    name=cls.name,
                    class_type=str(cls.class_type),
                    capacity=cls.capacity,
                    carers=cls.carers,
                    offline_count=cls.enrolled,
                )
                .on_conflict_do_nothing()
            )

    slots = await _seed_slots(db, institutions)

    password_hash = hash_password(DEMO_PASSWORD)
    inst_ids = {f"{i.unit_code}-{n}": i.id for n, i in indexed(institutions)}
    account_ids = {}
    for acc in ACCOUNTS:
        account_id = demo_id("account", acc.key)
        account_ids[acc.key] = account_id
        await db.execute(
            insert(Account)
            .values(
                id=account_id,
                phone=acc.phone,
                email=acc.email,
                display_name=acc.display_name,
                password_hash=password_hash,
                is_demo=True,
            )
            .on_conflict_do_nothing()
        )
        for role, inst_key, department, unit in acc.grants:
            await db.execute(
                insert(RoleGrant)
                .values(
                    id=demo_id("grant", f"{acc.key}:{role}:{inst_key}:{department}:{unit}"),
                    account_id=account_id,
                    role=role,
                    institution_id=inst_ids[inst_key] if inst_key else None,
                    department_code=department,
                    unit_code=unit,
                )
                .on_conflict_do_nothing()
            )

    from backend.core import crypto

    today = dt.date.today()
    for parent_key, child_key, name, age_days, relation in CHILDREN:
        child_id = demo_id("child", child_key)
        birth_date = today - dt.timedelta(days=age_days)
        await db.execute(insert(Child).values(id=child_id, name=name, birth_date=birth_date).on_conflict_do_nothing())
        await db.execute(
            insert(Guardianship)
            .values(
                child_id=child_id,
                account_id=account_ids[parent_key],
                relation=relation,
                child_fingerprint=crypto.current().fingerprint(name, birth_date),
            )
            .on_conflict_do_nothing()
        )
        await db.execute(
            insert(GuardianConsent)
            .values(
                id=demo_id("consent", child_key),
                account_id=account_ids[parent_key],
                child_id=child_id,
                policy_version=CHILD_DATA_POLICY_VERSION,
            )
            .on_conflict_do_nothing()
        )
    community = await _seed_community(db, inst_ids["230602-0"], account_ids)
    return {
        "institutions": len(institutions),
        "accounts": len(ACCOUNTS),
        "children": len(CHILDREN),
        "new_slots": slots,
        **community,
    }


# long: demo rows written out one by one
async def _seed_community(db: AsyncSession, institution_id: Any, account_ids: dict[str, Any]) -> dict[str, int]:
    """Places for the demo children at one institution, its parent committee and a few notices."""
    from sqlalchemy import update

    from backend.committees.models import CommitteeMember
    from backend.core.clock import utcnow
    from backend.enrolment.models import Application
    from backend.institutions.rules import age_in_months, class_types_for_age
    from backend.notices.markup import render
    from backend.notices.models import Consultation, Notice, NoticeRevision

    today = dt.date.today()
    places = 0
    guardians = {child_key: parent_key for parent_key, child_key, *_ in CHILDREN}
    for child_key, status in DEMO_PLACES:
        child_id = demo_id("child", child_key)
        birth = await db.scalar(select(Child.birth_date).where(Child.id == child_id))
        types = [str(t) for t in class_types_for_age(age_in_months(birth, today))] if birth else []
        class_id = await db.scalar(
            select(CareClass.id)
            .where(
                CareClass.institution_id == institution_id,
                CareClass.class_type.in_(types),
                CareClass.capacity > CareClass.offline_count + CareClass.offered_count + CareClass.enrolled_count,
            )
            .order_by(CareClass.name)
            .limit(1)
        )
        if class_id is None:
            continue
        inserted = await db.scalar(
            insert(Application)
            .values(
                id=demo_id("application", child_key),
                child_id=child_id,
                applicant_id=account_ids[guardians[child_key]],
                institution_id=institution_id,
                class_id=class_id,
                mode="full_day",
                start_date=today,
                status=status,
            )
            .on_conflict_do_nothing()
            .returning(Application.id)
        )
        if inserted is not None:
            await db.execute(
                update(CareClass).where(CareClass.id == class_id).values(enrolled_count=CareClass.enrolled_count + 1)
            )
            places += 1
    # The committee serves a school year (from 1 September).
    term_start = dt.date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    for parent_key, role in COMMITTEE:
        await db.execute(
            insert(CommitteeMember)
            .values(
                id=demo_id("committee", parent_key),
                institution_id=institution_id,
                account_id=account_ids[parent_key],
                role=role,
                source="elected",
                term_start=term_start,
                term_end=term_start.replace(year=term_start.year + 1) - dt.timedelta(days=1),
            )
            .on_conflict_do_nothing()
        )
    notices = 0
    now = utcnow()
    for key, title, body, pinned, urgent, question in NOTICES:
        notice_id = demo_id("notice", key)
        author = account_ids["inst_staff"]
        inserted = await db.scalar(
            insert(Notice)
            .values(
                id=notice_id,
                institution_id=institution_id,
                audience="institution",
                author_id=author,
                posted_as="staff",
                title=title,
                body=body,
                body_format="markdown",
                body_html=render(body, "markdown"),
                pinned=pinned,
                urgent=urgent,
                publish_at=now,
                published_at=now,
            )
            .on_conflict_do_nothing()
            .returning(Notice.id)
        )
        if inserted is None:
            continue
        notices += 1
        await db.execute(
            insert(NoticeRevision).values(
                notice_id=notice_id,
                version=1,
                title=title,
                body=body,
                body_format="markdown",
                pinned=pinned,
                urgent=urgent,
                publish_at=now,
                edited_by=author,
            )
        )
        if question is not None:
            await db.execute(
                insert(Consultation).values(
                    notice_id=notice_id,
                    question=question["question"],
                    choice_mode=question["choice_mode"],
                    options=question["options"],
                    allow_text=question["allow_text"],
                    deadline=now + dt.timedelta(days=question["deadline_days"]),
                    anonymous=question["anonymous"],
                )
            )
    return {"new_places": places, "new_notices": notices}


SLOT_DAYS = 14


async def _seed_slots(db: AsyncSession, institutions: list[Any]) -> int:
    """Hourly/temporary slots for the next two weeks, inside opening hours and not on public holidays,
    where those modes are offered: 60-minute slots for 托小 and 托大 ages, 3-6 places. Days already
    published stay as they are."""
    rows = []
    today = local_today()
    for inst in institutions:
        if not {"hourly", "temporary"} & set(inst.modes):
            continue
        places = 3 + int(inst.id.hex[:2], 16) % 4
        for offset in range(SLOT_DAYS):
            day = today + dt.timedelta(days=offset)
            if workdays.public_holiday(day):  # closed on public holidays, as publishing would refuse
                continue
            for period in inst.opening_hours:
                if day.isoweekday() not in period["days"]:
                    continue
                opens = -(-minutes(period["opens"]) // 60) * 60  # first whole hour inside the period
                closes = minutes(period["closes"]) // 60 * 60
                for band in ("toddler", "older_toddler"):
                    rows += [
                        {
                            "institution_id": inst.id,
                            "day": day,
                            "band": band,
                            "start_min": m,
                            "end_min": m + 60,
                            "capacity": places,
                        }
                        for m in range(opens, closes, 60)
                    ]
    created = 0
    for chunk in range(0, len(rows), 1000):
        result = await db.execute(
            insert(Slot).values(rows[chunk : chunk + 1000]).on_conflict_do_nothing().returning(Slot.id)
        )
        created += len(result.all())
    return created


async def _seed_complaints(db: AsyncSession, settings: Settings) -> dict[str, int]:
    """A few complaints for the officers' desks, each followed by its demo tracking code."""
    from backend.complaints import service as complaints
    from backend.complaints.models import Complaint, ComplaintUpdate
    from backend.complaints.routing import CATEGORIES, departments_for
    from backend.core.clock import utcnow
    from backend.core.workdays import add_working_days
    from backend.demo.data import DEMO_COMPLAINTS
    from backend.government.units import nearest_unit

    inst_by_key = {f"{i.unit_code}-{n}": i for n, i in indexed(build_institutions(await _units(db)))}
    now = utcnow()
    added = 0
    for key, code, category, inst_key, lat, lng, place_name, description, status in DEMO_COMPLAINTS:
        inst = inst_by_key.get(inst_key) if inst_key else None
        unit = inst.unit_code if inst else await nearest_unit(db, lat, lng)
        complaint_id = demo_id("complaint", key)
        inserted = await db.scalar(
            insert(Complaint)
            .values(
                id=complaint_id,
                tracking_digest=complaints.tracking_digest(settings, code),
                category=category,
                urgent=CATEGORIES[category].urgent,
                target_type="institution" if inst else "place",
                institution_id=inst.id if inst else None,
                place_name=place_name,
                description=description,
                lat=lat,
                lng=lng,
                unit_code=unit,
                department_codes=departments_for(
                    category, unit_code=unit, legal_form=inst.legal_form if inst else None
                ),
                status=status,
                ack_due_at=add_working_days(now, settings.complaint_ack_working_days).at,
                resolve_due_at=add_working_days(now, settings.complaint_resolve_working_days).at,
                acknowledged_at=now if status != "received" else None,
                accepted_at=now if status != "received" else None,
            )
            .on_conflict_do_nothing()
            .returning(Complaint.id)
        )
        if inserted is None:
            continue
        added += 1
        db.add(ComplaintUpdate(complaint_id=complaint_id, status="received"))
        if status != "received":
            db.add(
                ComplaintUpdate(
                    complaint_id=complaint_id,
                    status=status,
                    previous_status="received",
                    public_note="【演示】已受理，正在核实。",
                )
            )
    return {"new_complaints": added}


async def _units(db: AsyncSession) -> dict[int, tuple[str, float, float]]:
    return {u.code: (u.name_zh, u.center_lat, u.center_lng) for u in (await db.execute(select(Unit))).scalars()}
