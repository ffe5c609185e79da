"""Retention jobs: grown children with nothing live, erased accounts' tombstones, old events and
expired push deliveries are deleted; everything else stays."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

from sqlalchemy import func, select, text, update

from backend.accounts.models import Account
from backend.core.maintenance import JOBS
from backend.core.outbox import Event, emit
from backend.enrolment.models import Application
from backend.families.models import Child, Guardianship
from backend.institutions.models import CareClass
from backend.privacy import retention
from backend.realtime.models import PushDelivery, PushSubscription
from tests.factories import months_ago


async def _exists(db, model, id_) -> bool:
    return bool(await db.scalar(select(func.count()).select_from(model).where(model.id == id_)))


def test_the_jobs_are_registered():
    assert {"children_retention", "erased_accounts", "outbox_events", "push_deliveries_expired"} <= set(JOBS)


async def test_grown_children_with_nothing_live_are_deleted_and_the_others_kept(db, factory, settings):
    parent = await factory.account()
    inst = await factory.institution()
    class_id = await db.scalar(select(CareClass.id).where(CareClass.institution_id == inst.id))
    grown = await factory.child(parent, name="长大了", birth_date=months_ago(80))
    young = await factory.child(parent, name="还小", age_months=20)
    grown_in_care = await factory.placed_child(parent, inst.id, class_id)
    await db.execute(update(Child).where(Child.id == grown_in_care.id).values(birth_date=months_ago(80)))
    grown_left = await factory.placed_child(parent, inst.id, class_id, status="ended")
    await db.execute(update(Child).where(Child.id == grown_left.id).values(birth_date=months_ago(80)))
    await db.commit()
    left_application = await db.scalar(select(Application.id).where(Application.child_id == grown_left.id))

    assert await retention.purge_children(db, dataclasses.replace(settings, child_retention_months=0)) == 0
    assert await retention.purge_children(db, settings) == 2
    await db.commit()
    assert not await _exists(db, Child, grown.id) and not await _exists(db, Child, grown_left.id)
    assert not await _exists(db, Application, left_application)  # its rows go with it
    assert await _exists(db, Child, young.id) and await _exists(db, Child, grown_in_care.id)
    assert await db.scalar(select(func.count()).select_from(Guardianship).where(Guardianship.child_id == grown.id)) == 0
    assert await retention.purge_children(db, settings) == 0  # nothing more to do


async def test_a_child_left_without_guardians_is_deleted_after_a_day(db, factory, settings):
    parent = await factory.account()
    child = await factory.child(parent, age_months=20)
    await db.execute(Guardianship.__table__.delete().where(Guardianship.child_id == child.id))
    await db.commit()
    assert await retention.purge_children(db, settings) == 0  # not yet a day
    await db.execute(update(Child).where(Child.id == child.id).values(created_at=func.now() - dt.timedelta(days=2)))
    await db.commit()
    assert await retention.purge_children(db, settings) == 1
    assert not await _exists(db, Child, child.id)


async def _tombstone(db, erased_days_ago: int) -> uuid.UUID:
    account = Account(
        id=uuid.uuid4(),
        erased_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=erased_days_ago),
        disabled_at=dt.datetime.now(dt.UTC),
    )
    db.add(account)
    await db.commit()
    return account.id


async def test_erased_accounts_are_deleted_when_old_and_no_longer_referenced(db, factory, settings):
    old = await _tombstone(db, 40)
    recent = await _tombstone(db, 5)
    referenced = await _tombstone(db, 40)
    # Another family's child's application still names the erased applicant: the tombstone stays.
    other = await factory.account()
    inst = await factory.institution()
    class_id = await db.scalar(select(CareClass.id).where(CareClass.institution_id == inst.id))
    child = await factory.placed_child(other, inst.id, class_id)
    await db.execute(update(Application).where(Application.child_id == child.id).values(applicant_id=referenced))
    await db.commit()

    assert await retention.purge_erased_accounts(db, settings) == 1
    await db.commit()
    assert not await _exists(db, Account, old)
    assert await _exists(db, Account, recent) and await _exists(db, Account, referenced)
    assert await _exists(db, Account, other.id)  # live accounts are never touched
    assert (
        await retention.purge_erased_accounts(db, dataclasses.replace(settings, erased_account_retention_days=0)) == 0
    )


async def test_old_events_and_expired_push_deliveries_are_deleted(db, factory, settings):
    account = await factory.account()
    old = emit(db, "test.old", subject_type="test", subject_id=uuid.uuid4(), accounts=[account.id])
    new = emit(db, "test.new", subject_type="test", subject_id=uuid.uuid4(), accounts=[account.id])
    sub = PushSubscription(
        account_id=account.id, endpoint=f"https://push.example.com/{uuid.uuid4()}", p256dh="k", auth="a"
    )
    db.add(sub)
    await db.commit()
    await db.execute(update(Event).where(Event.id == old.id).values(created_at=func.now() - dt.timedelta(days=800)))
    stale = PushDelivery(subscription_id=sub.id, event_id=new.id)
    fresh = PushDelivery(subscription_id=sub.id, event_id=new.id)
    db.add_all([stale, fresh])
    await db.flush()
    await db.execute(
        update(PushDelivery).where(PushDelivery.id == stale.id).values(created_at=func.now() - dt.timedelta(days=2))
    )
    await db.commit()

    assert await retention.purge_events(db, dataclasses.replace(settings, event_retention_days=0)) == 0
    assert await retention.purge_events(db, settings) >= 1
    assert await retention.purge_push_deliveries(db, settings) == 1
    await db.commit()
    assert not await _exists(db, Event, old.id) and await _exists(db, Event, new.id)
    assert not await _exists(db, PushDelivery, stale.id) and await _exists(db, PushDelivery, fresh.id)
    assert await db.scalar(text("SELECT count(*) FROM events WHERE id = :id"), {"id": new.id}) == 1
