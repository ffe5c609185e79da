"""The demo assessments: a good share of institutions graded A-D, one with open rectification items,
all marked fictional, and seeding twice adds nothing."""

from backend.core.clock import local_today
from backend.demo.seed import seed
from tests.demodb import rows


async def test_demo_assessments(demo_url, settings):
    [(institutions, rated, grades, marked, drafts)] = await rows(
        demo_url,
        """
        SELECT (SELECT count(*) FROM institutions),
               count(DISTINCT institution_id) FILTER (WHERE status = 'published'),
               array_agg(DISTINCT grade ORDER BY grade) FILTER (WHERE status = 'published'),
               bool_and(starts_with(summary, '【演示】') AND starts_with(findings, '【演示】')),
               count(*) FILTER (WHERE status = 'draft')
        FROM assessments
        """,
    )
    assert rated >= institutions / 2
    assert grades == ["A", "B", "C", "D"]
    assert marked and drafts == 1
    [(open_items, overdue)] = await rows(
        demo_url,
        "SELECT count(*) FILTER (WHERE status = 'open'), count(*) FILTER (WHERE status = 'open' AND deadline < :today)"
        " FROM assessment_items",
        today=local_today(),
    )
    assert open_items == 2 and overdue == 1
    before = await rows(demo_url, "SELECT count(*) FROM assessments UNION ALL SELECT count(*) FROM assessment_items")
    await seed(demo_url, settings)
    assert (
        await rows(demo_url, "SELECT count(*) FROM assessments UNION ALL SELECT count(*) FROM assessment_items")
        == before
    )
