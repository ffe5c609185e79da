"""Notices: audiences, who may see and post, scheduling, expiry, edits with history, soft deletion,
events for the live channels."""

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from backend.core import maintenance
from backend.core.outbox import Event
from backend.notices.models import Notice, NoticeRevision
from backend.notices.schemas import NoticeDetail, NoticeOut, RevisionOut
from tests.community import build_community
from tests.strict import strict


@pytest.fixture
async def c(factory):
    return await build_community(factory)


def later(**kw) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(**kw)).isoformat()


async def post(client, c, who=None, **body):
    body.setdefault("title", "本周五家长会")
    body.setdefault("body", "请各位家长**准时**参加。")
    body.setdefault("body_format", "markdown")
    return await client.post(f"/api/institutions/{c.inst.id}/notices", headers=(who or c.staff).headers, json=body)


async def posted(client, c, who=None, **body) -> NoticeDetail:
    r = await post(client, c, who, **body)
    assert r.status_code == 201, r.text
    return strict(r.content, NoticeDetail)


async def sees(client, who, notice_id) -> bool:
    r = await client.get(f"/api/notices/{notice_id}", headers=who.headers)
    assert r.status_code in (200, 404), r.text
    return r.status_code == 200


async def events_for(db, notice_id):
    return (await db.execute(select(Event).where(Event.subject_id == notice_id).order_by(Event.id))).scalars().all()


async def test_a_notice_to_the_institution_reaches_its_current_parents_only(client, db, c):
    n = await posted(client, c)
    assert n.status == "published" and n.posted_as == "staff" and n.version == 1
    assert "<strong>准时</strong>" in n.body_html
    for insider in (c.parent_a, c.parent_b, c.member, c.staff, c.admin):
        assert await sees(client, insider, n.id)
    for outsider in (c.former, c.other_parent, c.other_staff, c.city_admin):
        assert not await sees(client, outsider, n.id)
    assert (await client.get(f"/api/notices/{n.id}")).status_code == 401

    feed = strict((await client.get("/api/notices", headers=c.parent_a.headers)).content, list[NoticeOut])
    assert [x.id for x in feed] == [n.id]
    assert (await client.get("/api/notices", headers=c.former.headers)).json() == []
    # The institution's list: 404 for people outside it, not an empty page.
    assert (
        await client.get(f"/api/institutions/{c.inst.id}/notices", headers=c.other_parent.headers)
    ).status_code == 404
    assert (await client.get(f"/api/institutions/{c.inst.id}/notices", headers=c.former.headers)).status_code == 404

    (event,) = await events_for(db, n.id)
    assert event.type == "notice.published" and event.urgency == "normal"
    assert set(event.account_ids) == {c.parent_a.id, c.parent_b.id, c.member.id}
    assert event.institution_id == c.inst.id
    assert event.payload["title_zh"] == "新通知" and "家长会" not in str(event.payload)


async def test_class_and_committee_notices_reach_only_their_audience(client, db, c):
    for_class = await posted(client, c, audience="class", class_id=str(c.class_a))
    assert await sees(client, c.parent_a, for_class.id) and await sees(client, c.member, for_class.id)
    assert not await sees(client, c.parent_b, for_class.id)
    (event,) = await events_for(db, for_class.id)
    assert set(event.account_ids) == {c.parent_a.id, c.member.id}

    for_committee = await posted(client, c, audience="committee", urgent=True)
    assert await sees(client, c.member, for_committee.id) and await sees(client, c.staff, for_committee.id)
    assert not await sees(client, c.parent_a, for_committee.id)
    (event,) = await events_for(db, for_committee.id)
    assert set(event.account_ids) == {c.member.id}
    assert event.urgency == "high" and event.payload["title_zh"] == "紧急通知"


async def test_a_committee_member_posts_as_the_committee_and_others_cannot(client, c):
    n = await posted(client, c, c.member, title="家委会关于午餐的建议")
    assert n.posted_as == "committee"
    assert await sees(client, c.parent_b, n.id)
    r = await post(client, c, c.member, audience="class", class_id=str(c.class_a))
    assert r.status_code == 422 and r.json()["code"] == "audience_not_allowed"
    for outsider in (c.parent_a, c.former, c.other_parent, c.other_staff):
        assert (await post(client, c, outsider)).status_code == 404
    assert (await post(client, c, c.city_admin)).status_code == 403


async def test_a_member_whose_child_left_loses_the_committee_rights(client, db, c):
    from backend.enrolment.models import Application

    await db.execute(update(Application).where(Application.applicant_id == c.member.id).values(status="ended"))
    await db.commit()
    assert (await post(client, c, c.member)).status_code == 404
    n = await posted(client, c, audience="committee")
    assert not await sees(client, c.member, n.id)


async def test_a_scheduled_notice_appears_when_the_maintenance_loop_publishes_it(client, db, settings, c):
    n = await posted(client, c, publish_at=later(hours=2))
    assert n.status == "scheduled" and n.published_at is None
    assert not await sees(client, c.parent_a, n.id)
    assert await sees(client, c.staff, n.id)
    assert await events_for(db, n.id) == []

    await db.execute(update(Notice).where(Notice.id == n.id).values(publish_at=func.now() - dt.timedelta(minutes=1)))
    counts = await maintenance.run_once(db, settings)
    assert counts is not None and counts["notices.publish_due"] == 1
    assert await sees(client, c.parent_a, n.id)
    assert [e.type for e in await events_for(db, n.id)] == ["notice.published"]
    counts = await maintenance.run_once(db, settings)
    assert counts is not None and counts["notices.publish_due"] == 0  # published once only


async def test_expired_notices_leave_the_parents_view_but_not_the_staffs(client, db, c):
    n = await posted(client, c, expires_at=later(days=1))
    await db.execute(
        update(Notice)
        .where(Notice.id == n.id)
        .values(publish_at=func.now() - dt.timedelta(hours=2), expires_at=func.now() - dt.timedelta(seconds=1))
    )
    await db.commit()
    assert not await sees(client, c.parent_a, n.id)
    r = await client.get(f"/api/notices/{n.id}", headers=c.staff.headers)
    assert r.json()["status"] == "expired"


async def test_edits_keep_the_history_and_tell_the_audience(client, db, c):
    n = await posted(client, c)
    r = await client.patch(
        f"/api/notices/{n.id}", headers=c.staff.headers, json={"title": "家长会改到周六", "urgent": True}
    )
    assert r.status_code == 200, r.text
    edited = strict(r.content, NoticeDetail)
    assert edited.version == 2 and edited.title == "家长会改到周六" and edited.urgent
    history = strict(
        (await client.get(f"/api/notices/{n.id}/revisions", headers=c.staff.headers)).content, list[RevisionOut]
    )
    assert [(h.version, h.title) for h in history] == [(2, "家长会改到周六"), (1, "本周五家长会")]
    events = await events_for(db, n.id)
    assert [e.type for e in events] == ["notice.published", "notice.updated"]
    assert events[1].urgency == "high"

    # Only the author edits; another staff member, a parent and outsiders get 404 (or 403 by role).
    assert (
        await client.patch(f"/api/notices/{n.id}", headers=c.admin.headers, json={"pinned": True})
    ).status_code == 404
    assert (
        await client.patch(f"/api/notices/{n.id}", headers=c.parent_a.headers, json={"pinned": True})
    ).status_code == 404
    assert (await client.get(f"/api/notices/{n.id}/revisions", headers=c.parent_a.headers)).status_code == 404
    # A published notice's publish time cannot move; an empty edit is refused.
    r = await client.patch(f"/api/notices/{n.id}", headers=c.staff.headers, json={"publish_at": later(days=1)})
    assert r.status_code == 422 and r.json()["code"] == "already_published"
    assert (await client.patch(f"/api/notices/{n.id}", headers=c.staff.headers, json={})).status_code == 422
    assert await db.scalar(select(func.count()).where(NoticeRevision.notice_id == n.id)) == 2


async def test_deleting_is_soft_and_records_who_and_when(client, db, c):
    n = await posted(client, c, c.member)
    r = await client.delete(f"/api/notices/{n.id}", headers=c.admin.headers)  # admins moderate
    assert r.status_code == 204, r.text
    assert not await sees(client, c.parent_a, n.id)
    assert (await client.get(f"/api/institutions/{c.inst.id}/notices", headers=c.staff.headers)).json() == []
    listed = (
        await client.get(f"/api/institutions/{c.inst.id}/notices?include_deleted=true", headers=c.staff.headers)
    ).json()
    assert [x["status"] for x in listed] == ["deleted"]
    row = await db.scalar(select(Notice).where(Notice.id == n.id).execution_options(populate_existing=True))
    assert row.deleted_by == c.admin.id and row.deleted_at is not None
    deleted = (await events_for(db, n.id))[-1]
    assert deleted.type == "notice.deleted" and deleted.payload.get("silent") is True
    assert (await client.delete(f"/api/notices/{n.id}", headers=c.admin.headers)).status_code == 404
    # A parent may not delete a notice addressed to them.
    other = await posted(client, c)
    assert (await client.delete(f"/api/notices/{other.id}", headers=c.parent_a.headers)).status_code == 404


async def test_pinned_notices_come_first_in_the_feed(client, c):
    first = await posted(client, c, title="第一条")
    pinned = await posted(client, c, title="置顶", pinned=True)
    last = await posted(client, c, title="第三条")
    feed = (await client.get("/api/notices", headers=c.parent_a.headers)).json()
    assert [x["id"] for x in feed] == [str(pinned.id), str(last.id), str(first.id)]
