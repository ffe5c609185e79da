"""An offer about to expire becomes one critical event (once per offer), which the pipeline may send by SMS."""

from __future__ import annotations

from sqlalchemy import select, text

from backend.core import maintenance
from backend.core.outbox import Event
from backend.notify.urgency import is_critical, sms_title
from tests.enrolment.test_applications import apply, family, place  # noqa: F401 (fixture)


async def test_an_offer_about_to_expire_is_announced_once(client, factory, place, db, settings):  # noqa: F811
    inst, _cls, staff = place
    parent, child, headers = await family(factory)
    app_id = (await apply(client, headers, child, inst)).json()["id"]
    assert (
        await client.post(f"/api/institutions/{inst.id}/applications/{app_id}/offer", headers=staff)
    ).status_code == 200
    # Not yet within the notice period (3 days ahead, 24 h notice): nothing.
    assert (await maintenance.run_once(db, settings))["offer_expiring"] == 0
    await db.execute(
        text("UPDATE applications SET offer_expires_at = now() + interval '5 hours' WHERE id = :i"), {"i": app_id}
    )
    await db.commit()
    assert (await maintenance.run_once(db, settings))["offer_expiring"] == 1
    assert (await maintenance.run_once(db, settings))["offer_expiring"] == 0  # once per offer
    (event,) = (await db.execute(select(Event).where(Event.type == "application.offer_expiring"))).scalars()
    assert event.account_ids == [parent.id] and is_critical(event) and sms_title(event) == "录取确认即将截止"
    assert "name" not in str(event.payload)
