"""The SMS rules under real processes: two app processes never send one SMS twice, a graceful restart
in the middle loses nothing and repeats nothing, the request rate stays under SMS_MAX_QPS, quiet hours
hold back normal pushes (never critical ones), the daily cap and the city budget hold, a provider 5xx
is retried and an invalid number is not, and an exhausted balance raises an alert."""

from __future__ import annotations

import asyncio
import collections

import pytest

from tests.live import live_server, scratch_database
from tests.notify.helpers import (
    all_sms_decided,
    app_env,
    beijing_window_around_now,
    phone_of,
    rows,
    urgent_notice,
    wait_until,
)
from tests.realtime.test_live_updates import book
from tests.realtime.test_push import Browser, subscribe
from tests.smsgateway import sms_gateway
from tests.world import World


@pytest.fixture
def database(server_url):
    with scratch_database(server_url, demo=False) as url:
        yield url


async def families(world: World, n: int) -> list[tuple]:
    care = await world.care_class()
    out = []
    for _ in range(n):
        account, token = await world.placed_family(care)
        out.append((account, token, await phone_of(world.url, account)))
    return out


async def test_two_processes_and_a_restart_send_each_sms_exactly_once_under_the_rate(database, tmp_path):
    n, qps = 14, 4
    async with sms_gateway() as gw:
        gw.delay_s = 0.3  # sends are in flight when the restart comes
        env = app_env(gw, SMS_MAX_QPS=str(qps))
        world = await World(database, slots_tomorrow=False).build()
        people = await families(world, n)
        with live_server(database, tmp_path, **env) as a, live_server(database, tmp_path, **env) as b:
            await urgent_notice(b, world)
            await gw.wait_for(lambda g: len(g.received) >= 5, timeout=20)
            a.process.terminate()  # a graceful stop in the middle: in-flight sends finish and are recorded
            await asyncio.to_thread(a.process.wait, 30)
            with live_server(database, tmp_path, **env):  # and it comes back
                decided = await wait_until(lambda: all_sms_decided(database, n), what="every SMS decided")
        assert [r.status for r in decided] == ["sent"] * n
        per_phone = collections.Counter(r.phone for r in gw.received)
        assert per_phone == {phone: 1 for _, _, phone in people}  # each person exactly once, nobody missed
        assert gw.max_per_second() <= qps
        ((used,),) = await rows(database, "SELECT used FROM sms_counters WHERE scope = 'city'")
        assert used == n


async def test_quiet_hours_hold_back_normal_pushes_but_not_critical_ones(database, push_service, tmp_path):
    async with sms_gateway() as gw:
        env = app_env(gw, push_service, NOTIFY_QUIET_HOURS=beijing_window_around_now())
        with live_server(database, tmp_path, **env) as server:
            world = await World(database).build()
            parent, child, token = await world.family()
            await subscribe(server, token, push_service.endpoint("night"), Browser())
            await book(server, world, child, token, 9)  # a normal event: booking.booked
            held = await wait_until(
                lambda: rows(
                    database,
                    "SELECT d.next_attempt_at - now() AS wait FROM push_deliveries d JOIN events e ON e.id = d.event_id"
                    " WHERE e.type = 'booking.booked'",
                ),
                what="the booking's push delivery",
            )
            assert held[0].wait.total_seconds() > 30 * 60  # waits for the end of quiet hours (an hour from now)
            # A critical event goes at once, quiet hours or not (the parent's child is not placed, so the
            # notice reaches a placed family's phone instead).
            placed, placed_token = await world.placed_family(await world.care_class())
            await subscribe(server, placed_token, push_service.endpoint("urgent"), Browser())
            await urgent_notice(server, world)
            await push_service.wait_for("urgent")
            assert [r.path for r in push_service.received] == ["urgent"]  # the booking's push still waits
            # Normal events never go by SMS.
            assert (
                await rows(
                    database,
                    "SELECT 1 FROM notify_deliveries d JOIN events e ON e.id = d.event_id"
                    " WHERE d.channel = 'sms' AND e.type LIKE 'booking.%'",
                )
                == []
            )
            assert parent != placed


async def test_daily_cap_and_city_budget_hold(database, tmp_path):
    async with sms_gateway() as gw:
        env = app_env(gw, SMS_DAILY_CAP_PER_ACCOUNT="1", SMS_DAILY_BUDGET="4")
        world = await World(database, slots_tomorrow=False).build()
        care = await world.care_class()
        first = [await world.placed_family(care) for _ in range(3)]
        with live_server(database, tmp_path, **env) as server:
            await urgent_notice(server, world, "第一条")
            await wait_until(lambda: all_sms_decided(database, 3), what="the first notice's SMS")
            await urgent_notice(server, world, "第二条")  # everyone is at their cap of 1
            await wait_until(lambda: all_sms_decided(database, 6), what="the second notice's SMS")
            later = [await world.placed_family(care) for _ in range(2)]
            await urgent_notice(server, world, "第三条")  # 2 new people, 1 SMS left in the budget
            decided = await wait_until(lambda: all_sms_decided(database, 11), what="the third notice's SMS")
        outcome = collections.Counter((r.status, r.detail) for r in decided)
        assert outcome == {
            ("sent", "no_push"): 4,
            ("failed", "daily_cap"): 6,
            ("failed", "budget"): 1,
        }
        assert len(gw.delivered()) == 4
        new_ids = {a for a, _ in later}
        assert collections.Counter(r.status for r in decided if r.account_id in new_ids) == {"sent": 1, "failed": 1}
        assert {a for a, _ in first} | new_ids == {r.account_id for r in decided}
        assert "SMS ALERT budget" in server.log()


async def test_5xx_is_retried_invalid_number_and_balance_are_not(database, tmp_path):
    async with sms_gateway() as gw:
        env = app_env(gw, backend="aliyun")
        world = await World(database, slots_tomorrow=False).build()
        (flaky, _, flaky_phone), (wrong, _, wrong_phone), (broke, _, broke_phone) = await families(world, 3)
        gw.script = {flaky_phone: ["5xx", "5xx"], wrong_phone: ["invalid_number"], broke_phone: ["balance"]}
        with live_server(database, tmp_path, **env) as server:
            await urgent_notice(server, world)
            decided = await wait_until(lambda: all_sms_decided(database, 3), what="every SMS decided")
            await asyncio.sleep(0)  # the log is read below, after the server has written it
            log = server.log()
        by_account = {r.account_id: r for r in decided}
        assert (by_account[flaky].status, by_account[flaky].attempts) == ("sent", 3)
        assert [r.answer for r in gw.received if r.phone == flaky_phone] == ["5xx", "5xx", "ok"]
        assert (by_account[wrong].status, by_account[wrong].detail, by_account[wrong].attempts) == (
            "failed",
            "invalid_number",
            1,
        )
        assert len([r for r in gw.received if r.phone == wrong_phone]) == 1
        assert (by_account[broke].status, by_account[broke].detail) == ("failed", "balance_exhausted")
        assert "SMS ALERT aliyun: balance_exhausted" in log
        for phone in (flaky_phone, wrong_phone, broke_phone):
            assert phone not in log
        assert gw.bad_signatures == 0
