"""Read receipts, unread counts, and consultations (named and anonymous)."""

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from backend.notices.models import Consultation, ConsultationAnswer, ConsultationParticipant, NoticeRead
from backend.notices.schemas import AnswerOut, ReceiptsOut, ResultsOut, UnreadOut
from tests.community import build_community
from tests.notices.test_notices import later, posted
from tests.strict import strict


@pytest.fixture
async def c(factory):
    return await build_community(factory)


def question(**kw):
    return {
        "question": "六一活动在哪里办？",
        "choice_mode": "single",
        "options": ["园内", "公园", "博物馆"],
        "allow_text": True,
        "deadline": later(days=3),
        **kw,
    }


async def test_receipts_counts_and_the_not_read_list(client, db, c):
    n = await posted(client, c)
    unread = strict((await client.get("/api/notices/unread", headers=c.parent_a.headers)).content, UnreadOut)
    assert unread.total == 1 and unread.institutions[0].institution_id == c.inst.id

    first = await client.post(f"/api/notices/{n.id}/read", headers=c.parent_a.headers)
    again = await client.post(f"/api/notices/{n.id}/read", headers=c.parent_a.headers)
    assert first.status_code == again.status_code == 200
    assert first.json()["read_at"] == again.json()["read_at"]  # the first read is kept
    assert (await client.get("/api/notices/unread", headers=c.parent_a.headers)).json()["total"] == 0
    detail = (await client.get(f"/api/notices/{n.id}", headers=c.parent_a.headers)).json()
    assert detail["read_at"] == first.json()["read_at"]

    for overseer in (c.staff, c.member):  # staff and the committee
        r = await client.get(f"/api/notices/{n.id}/receipts", headers=overseer.headers)
        assert r.status_code == 200, r.text
        receipts = strict(r.content, ReceiptsOut)
        assert (receipts.audience_count, receipts.read_count) == (3, 1)
        assert {x.account_id for x in receipts.not_read} == {c.parent_b.id, c.member.id}
        assert all("****" in x.name for x in receipts.not_read)
        assert "测试宝宝" not in r.text
    # A parent sees only their own state.
    assert (await client.get(f"/api/notices/{n.id}/receipts", headers=c.parent_a.headers)).status_code == 404
    # Outsiders cannot mark or read anything.
    for outsider in (c.former, c.other_parent):
        assert (await client.post(f"/api/notices/{n.id}/read", headers=outsider.headers)).status_code == 404
    assert (await client.post(f"/api/notices/{n.id}/read", headers=c.staff.headers)).status_code == 403
    assert await db.scalar(select(func.count()).where(NoticeRead.notice_id == n.id)) == 1


async def test_a_named_consultation_one_answer_per_guardian_changeable_until_the_deadline(client, db, c):
    n = await posted(client, c, consultation=question())
    assert n.consultation is not None and n.consultation.open and not n.consultation.answered
    url = f"/api/notices/{n.id}/answer"
    r = await client.put(url, headers=c.parent_a.headers, json={"choices": [1], "text": "公园空气好"})
    assert r.status_code == 200, r.text
    assert strict(r.content, AnswerOut).receipt is None
    r = await client.put(url, headers=c.parent_a.headers, json={"choices": [2]})  # changed their mind
    assert r.status_code == 200
    assert (await client.put(url, headers=c.parent_b.headers, json={"choices": [2]})).status_code == 200
    mine = (await client.get(f"/api/notices/{n.id}", headers=c.parent_a.headers)).json()["consultation"]
    assert mine["answered"] and mine["my_choices"] == [2] and mine["my_text"] is None

    results = strict((await client.get(f"/api/notices/{n.id}/results", headers=c.member.headers)).content, ResultsOut)
    assert (results.eligible, results.answered) == (3, 2)
    assert [o.count for o in results.options] == [0, 0, 2]
    assert (await client.get(f"/api/notices/{n.id}/results", headers=c.parent_a.headers)).status_code == 404

    # Bad answers: out-of-range, two choices for a single-choice question, empty.
    for body in ({"choices": [3]}, {"choices": [0, 1]}, {"choices": []}, {"choices": [0, 0]}):
        r = await client.put(url, headers=c.parent_b.headers, json=body)
        assert r.status_code == 422, (body, r.text)
    # Non-members (other institution, former parent) and staff cannot answer.
    for outsider in (c.other_parent, c.former):
        assert (await client.put(url, headers=outsider.headers, json={"choices": [0]})).status_code == 404
    assert (await client.put(url, headers=c.staff.headers, json={"choices": [0]})).status_code == 403

    # After the deadline: refused, nothing changes.
    await db.execute(
        update(Consultation).where(Consultation.notice_id == n.id).values(deadline=func.now() - dt.timedelta(seconds=1))
    )
    await db.commit()
    r = await client.put(url, headers=c.parent_a.headers, json={"choices": [0]})
    assert r.status_code == 422 and r.json()["code"] == "consultation_closed"
    r = await client.put(url, headers=c.member.headers, json={"choices": [0]})
    assert r.status_code == 422
    choices = (
        await db.execute(select(ConsultationAnswer.choices).where(ConsultationAnswer.notice_id == n.id))
    ).scalars()
    assert sorted(map(list, choices)) == [[2], [2]]


async def test_an_anonymous_consultation_stores_no_link_from_answer_to_account(client, db, c):
    n = await posted(client, c, consultation=question(choice_mode="multiple", anonymous=True))
    url = f"/api/notices/{n.id}/answer"
    r = await client.put(url, headers=c.parent_a.headers, json={"choices": [0, 2], "text": "都可以"})
    assert r.status_code == 200, r.text
    receipt = strict(r.content, AnswerOut).receipt
    assert receipt is not None and len(receipt) == 43

    answers = (await db.execute(select(ConsultationAnswer).where(ConsultationAnswer.notice_id == n.id))).scalars().all()
    assert len(answers) == 1
    assert answers[0].account_id is None and answers[0].answered_at is None
    assert str(c.parent_a.id) not in repr(answers[0].__dict__)
    participants = (
        (await db.execute(select(ConsultationParticipant.account_id).where(ConsultationParticipant.notice_id == n.id)))
        .scalars()
        .all()
    )
    assert participants == [c.parent_a.id]

    # A second answer without the receipt is refused; with it, the answer changes.
    again = await client.put(url, headers=c.parent_a.headers, json={"choices": [1]})
    assert again.status_code == 409 and again.json()["code"] == "already_answered"
    changed = await client.put(
        url, headers=c.parent_a.headers, json={"choices": [1], "text": "都可以", "receipt": receipt}
    )
    assert changed.status_code == 200 and changed.json()["receipt"] is None
    # Someone else's (or a made-up) receipt changes nothing.
    forged = await client.put(url, headers=c.parent_b.headers, json={"choices": [0], "receipt": "A" * 43})
    assert forged.status_code == 404
    # The app knows you answered, not what.
    mine = (await client.get(f"/api/notices/{n.id}", headers=c.parent_a.headers)).json()["consultation"]
    assert mine["answered"] is True and mine["my_choices"] is None

    results = strict((await client.get(f"/api/notices/{n.id}/results", headers=c.staff.headers)).content, ResultsOut)
    assert results.anonymous and results.answered == 1
    assert [o.count for o in results.options] == [0, 1, 0] and results.texts == ["都可以"]


async def test_consultation_shapes_are_checked_when_posting(client, db, c):
    from backend.notices.models import Notice

    bad = [
        question(options=["只有一个"]),
        question(options=["一样", "一样"]),
        question(choice_mode="none", options=[], allow_text=False),
        question(choice_mode="none", options=["多余"], allow_text=True),
        question(deadline=(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()),
        question(options=[str(i) for i in range(11)]),
        question(question="<b>粗体</b>"),
        question(options=["<img src=x onerror=alert(1)>", "正常"]),
    ]
    for q in bad:
        r = await client.post(
            f"/api/institutions/{c.inst.id}/notices",
            headers=c.staff.headers,
            json={"title": "征求意见", "consultation": q},
        )
        assert 400 <= r.status_code < 500, (q, r.text)
    assert await db.scalar(select(func.count()).select_from(Notice).where(Notice.institution_id == c.inst.id)) == 0
