"""Demo guidance data: upcoming events in several units from institutions and health centres, past
events with attendance (families reached > 0 in recent months), consistent counters, idempotent."""

from backend.demo.seed import seed
from tests.demodb import rows

# The statistics helper's definition: distinct accounts attending events that start in a month, per unit.
FAMILIES_REACHED = """
SELECT e.unit_code, date_trunc('month', e.starts_at AT TIME ZONE 'Asia/Shanghai') AS month,
       count(DISTINCT r.account_id) AS families
FROM guidance_events e JOIN guidance_registrations r ON r.event_id = e.id AND r.status = 'attended'
GROUP BY 1, 2
"""


async def test_demo_guidance(demo_url, settings):
    upcoming = await rows(
        demo_url,
        """SELECT count(*), count(DISTINCT unit_code), count(*) FILTER (WHERE host_institution_id IS NULL),
                  count(DISTINCT kind)
           FROM guidance_events WHERE starts_at > now() AND status = 'published'""",
    )
    total, units, centres, kinds = upcoming[0]
    assert total >= 6 and units >= 4 and 0 < centres < total and kinds == 3
    reached = await rows(demo_url, FAMILIES_REACHED)
    assert len({r.month for r in reached}) >= 3 and all(r.families > 0 for r in reached)
    assert {r.unit_code for r in reached} >= {230602, 230621, 230604}
    consistent = await rows(
        demo_url,
        """SELECT bool_and(e.registered = (SELECT count(*) FROM guidance_registrations r
                                           WHERE r.event_id = e.id AND r.status <> 'cancelled'))
           FROM guidance_events e""",
    )
    assert consistent[0][0] is True
    marked = await rows(
        demo_url, "SELECT bool_and(starts_with(description, '【演示数据 Demo data】')) FROM guidance_events"
    )
    assert marked[0][0] is True

    count = "SELECT (SELECT count(*) FROM guidance_events), (SELECT count(*) FROM guidance_registrations)"
    before = await rows(demo_url, count)
    await seed(demo_url, settings)
    assert await rows(demo_url, count) == before
