"""The Daqing demo data: plenty, varied, clearly marked, and loading it twice changes nothing."""

import httpx

from backend.app import create_app
from backend.demo.data import ACCOUNTS, DEMO_MARK, DEMO_PASSWORD
from backend.demo.seed import seed
from tests.demodb import rows as query_rows

COUNTS = """
SELECT (SELECT count(*) FROM institutions), (SELECT count(*) FROM classes), (SELECT count(*) FROM institution_modes),
       (SELECT count(*) FROM accounts), (SELECT count(*) FROM role_grants), (SELECT count(*) FROM children),
       (SELECT count(*) FROM guardianships), (SELECT count(*) FROM applications),
       (SELECT sum(enrolled_count) FROM classes), (SELECT count(*) FROM committee_members),
       (SELECT count(*) FROM notices), (SELECT count(*) FROM consultations), (SELECT count(*) FROM complaints),
       (SELECT count(*) FROM complaint_updates), (SELECT count(*) FROM rooms), (SELECT count(*) FROM room_revisions)
"""


async def test_seeding_twice_changes_nothing(demo_url, settings):
    before = await query_rows(demo_url, COUNTS)
    await seed(demo_url, settings)
    assert await query_rows(demo_url, COUNTS) == before


async def test_demo_data_covers_the_city_and_every_kind_of_care(demo_url):
    rows = await query_rows(
        demo_url,
        f"""
        SELECT count(*), count(DISTINCT unit_code), bool_and(is_demo), bool_and(starts_with(description, '{DEMO_MARK}')),
               count(*) FILTER (WHERE is_inclusive), count(*) FILTER (WHERE is_demonstration),
               count(DISTINCT unit_code) FILTER (WHERE is_demonstration),
               count(*) FILTER (WHERE is_home_based), count(*) FILTER (WHERE is_kindergarten_class),
               count(*) FILTER (WHERE is_employer_run), count(*) FILTER (WHERE is_community_run)
        FROM institutions""",
    )
    total, units, all_demo, all_marked, inclusive, demonstration, demo_units, home, kg, employer, community = rows[0]
    assert total >= 80 and units == 10 and all_demo and all_marked
    assert inclusive > 10 and demonstration == 10 and demo_units == 10  # one demonstration centre per unit
    assert home and kg and employer and community
    types = {r[0] for r in await query_rows(demo_url, "SELECT DISTINCT class_type FROM classes")}
    assert types == {"infant", "toddler", "older_toddler", "mixed"}
    modes = {r[0] for r in await query_rows(demo_url, "SELECT DISTINCT mode FROM institution_modes")}
    assert modes == {"full_day", "half_day", "hourly", "temporary"}
    full = await query_rows(demo_url, "SELECT count(*) FROM classes WHERE offline_count = capacity")
    assert full[0][0] > 5
    # Demo positions stay near Daqing (WGS-84).
    box = await query_rows(demo_url, "SELECT min(lat), max(lat), min(lng), max(lng) FROM institutions")
    min_lat, max_lat, min_lng, max_lng = box[0]
    assert min_lat > 45.3 and max_lat < 47.4 and min_lng > 124.2 and max_lng < 125.5


async def test_demo_rooms_cover_every_kind_of_venue(demo_url):
    from backend.rooms.models import VENUE_TYPES

    [
        (total, units, all_demo, all_marked, verified, shared, round_the_clock, with_exceptions, revisions)
    ] = await query_rows(
        demo_url,
        """
        SELECT count(*), count(DISTINCT unit_code), bool_and(is_demo), bool_and(starts_with(name, '【演示】')),
               count(*) FILTER (WHERE verified AND verified_on IS NOT NULL), count(*) FILTER (WHERE NOT independent),
               count(*) FILTER (WHERE opening_hours @> '[{"opens": "00:00", "closes": "24:00"}]'),
               count(*) FILTER (WHERE exceptions <> '[]'),
               (SELECT count(*) FROM room_revisions WHERE version = 1)
        FROM rooms""",
    )
    assert total >= 40 and units == 10 and all_demo and all_marked and revisions == total
    assert verified and shared and round_the_clock and with_exceptions
    types = {r[0] for r in await query_rows(demo_url, "SELECT DISTINCT venue_type FROM rooms")}
    assert types == set(VENUE_TYPES)
    amenities = {r[0] for r in await query_rows(demo_url, "SELECT DISTINCT unnest(amenities) FROM rooms")}
    assert len(amenities) == 10
    box = await query_rows(demo_url, "SELECT min(lat), max(lat), min(lng), max(lng) FROM rooms")
    min_lat, max_lat, min_lng, max_lng = box[0]
    assert min_lat > 45.3 and max_lat < 47.4 and min_lng > 124.2 and max_lng < 125.5


async def test_every_role_has_a_demo_account_that_signs_in(demo_url, settings):
    roles = {r[0] for r in await query_rows(demo_url, "SELECT DISTINCT role FROM role_grants")}
    assert roles == {"parent", "institution_staff", "institution_admin", "officer", "city_admin"}
    app = create_app(settings, database_url=demo_url)
    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        for account in ACCOUNTS:
            login = account.email or account.phone
            r = await c.post("/api/auth/login", json={"login": login, "password": DEMO_PASSWORD})
            assert r.status_code == 200, (login, r.text)
        near = await c.get("/api/institutions/nearby", params={"lat": 46.63, "lng": 125.11, "radius_m": 5000})
        assert len(near.json()["items"]) >= 5

        # The demo parent books an hourly slot for their older child at a filed demo institution, from
        # tomorrow in China (between 16:00 and 24:00 UTC, the database's current_date is China's yesterday).
        token = (await c.post("/api/auth/login", json={"login": "13800000001", "password": DEMO_PASSWORD})).json()
        headers = {"Authorization": f"Bearer {token['token']}"}
        child = max((await c.get("/api/me/children", headers=headers)).json(), key=lambda ch: ch["age_months"])
        ((inst_id, day, start),) = await query_rows(
            demo_url,
            """
            SELECT s.institution_id, s.day, s.start_min FROM slots s JOIN institution_modes m
              ON m.institution_id = s.institution_id AND m.mode = 'hourly'
              JOIN institutions i ON i.id = s.institution_id AND i.filing_status = 'filed'
            WHERE s.band = 'older_toddler' AND s.day > (now() AT TIME ZONE 'Asia/Shanghai')::date
            ORDER BY s.day, s.start_min LIMIT 1""",
        )
        r = await c.post(
            "/api/bookings",
            headers=headers,
            json={
                "child_id": child["id"],
                "institution_id": str(inst_id),
                "mode": "hourly",
                "day": day.isoformat(),
                "start": f"{start // 60:02d}:00",
                "end": f"{start // 60 + 1:02d}:00",
            },
        )
        assert r.status_code == 201, r.text


async def test_the_demo_parents_have_a_committee_and_notices(demo_url):
    [(places, members, chairs, notices, readers)] = await query_rows(
        demo_url,
        """
        SELECT (SELECT count(*) FROM applications WHERE status = 'enrolled'),
               (SELECT count(*) FROM committee_members WHERE ended_at IS NULL AND current_date BETWEEN term_start AND term_end),
               (SELECT count(*) FROM committee_members WHERE role = 'chair'),
               (SELECT count(*) FROM notices WHERE published_at IS NOT NULL),
               (SELECT count(DISTINCT g.account_id) FROM guardianships g JOIN applications a USING (child_id)
                 JOIN notices n ON n.institution_id = a.institution_id)
        """,
    )
    assert places == 2 and members == 2 and chairs == 1 and notices == 2 and readers == 2


async def test_the_demo_centre_that_consults_on_its_menu_serves_meals(demo_url):
    """Found as an attacker (of the story): the centre consulted parents on next month's breakfast
    but its filing said it serves no meals. Every institution with meal notices or food complaints
    serves meals."""
    rows = await query_rows(
        demo_url,
        """
        SELECT i.id, coalesce(bool_or(f.serves_meals), false)
        FROM institutions i LEFT JOIN filings f ON f.institution_id = i.id
        WHERE EXISTS (SELECT 1 FROM notices n WHERE n.institution_id = i.id AND n.title ~ '食谱|早餐|午餐')
           OR EXISTS (SELECT 1 FROM complaints c WHERE c.institution_id = i.id AND c.category = 'food_safety')
        GROUP BY i.id
        """,
    )
    assert rows and all(serves for _, serves in rows), rows


async def test_the_demo_complaints_can_be_followed_by_their_codes(demo_url, settings):
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from backend.complaints import service
    from backend.core.db import create_engine
    from backend.demo.data import DEMO_COMPLAINTS

    engine = create_engine(settings, demo_url)
    try:
        async with async_sessionmaker(engine)() as db:
            for _key, code, category, *_rest, status in DEMO_COMPLAINTS:
                public = await service.track(db, settings, code)
                assert (public.category, public.status) == (category, status)
    finally:
        await engine.dispose()
