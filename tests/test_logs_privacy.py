"""Production logs (issue 19 §4): one JSON object per line, the request id accepted from and returned in
X-Request-ID, and no personal data. A whole journey runs on a real server logging as production does
(LOG_FORMAT=json, INFO): sign-in by SMS code, a child registered, an hourly booking, a complaint filed
with contact details and followed by its tracking code. The captured log must not contain the phone
numbers, the child's name, the contact's name or the tracking code."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.live import LiveServer, live_server, scratch_database

PHONE = "13800000001"  # the demo parent (王女士), signing in by SMS code
MASKED = f"{PHONE[:3]}****{PHONE[-4:]}"
CHILD_NAME = "隐私测试宝宝"
CONTACT_NAME = "投诉人赵敏"
CONTACT_PHONE = "13712345678"
SAERTU = {"lat": 46.63, "lng": 125.11}


@pytest.fixture(scope="module")
def server(server_url, tmp_path_factory):  # type: ignore[no-untyped-def]
    with (
        scratch_database(server_url, demo=True) as url,
        live_server(url, tmp_path_factory.mktemp("logs"), LOG_FORMAT="json", LOG_LEVEL="INFO") as srv,
    ):
        yield srv


def _code_from_log(server: LiveServer) -> str:
    """The development SMS sender logs the code with the masked phone (never the full number)."""
    deadline = time.monotonic() + 10
    while True:
        codes = re.findall(rf"SMS to {re.escape(MASKED)}: .*?(\d{{6}})", server.log())
        if codes:
            return codes[-1]
        assert time.monotonic() < deadline, "the SMS code was not logged"
        time.sleep(0.05)


def _journey(server: LiveServer) -> str:
    """Returns the complaint's tracking code."""
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        assert http.post("/api/auth/code", json={"phone": PHONE}).status_code == 202
        session = http.post("/api/auth/code/verify", json={"phone": PHONE, "code": _code_from_log(server)})
        assert session.status_code == 200, session.text
        auth = {"Authorization": f"Bearer {session.json()['token']}"}

        today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
        born = today.replace(year=today.year - 2) - dt.timedelta(days=180)  # 30 months: older_toddler
        child = http.post(
            "/api/me/children",
            headers=auth,
            json={
                "name": CHILD_NAME,
                "birth_date": born.isoformat(),
                "relation": "mother",
                "consent": {"policy_version": "2026-12", "accepted": True},
            },
        )
        assert child.status_code == 201, child.text
        child_id = child.json()["id"]

        near = http.get("/api/institutions/nearby", params={**SAERTU, "mode": "hourly", "filed": "true"}).json()[
            "items"
        ]
        booked = None
        for institution in near:
            for offset in range(1, 14):
                day = (today + dt.timedelta(days=offset)).isoformat()
                slots = http.get(
                    f"/api/institutions/{institution['id']}/slots", params={"day": day, "band": "older_toddler"}
                ).json()["slots"]
                free = next((s for s in slots if s["free"] > 0), None)
                if free:
                    booked = http.post(
                        "/api/bookings",
                        headers=auth,
                        json={
                            "child_id": child_id,
                            "institution_id": institution["id"],
                            "mode": "hourly",
                            "day": day,
                            "start": free["start"],
                            "end": free["end"],
                        },
                    )
                    break
            if booked is not None:
                break
        assert booked is not None and booked.status_code == 201, booked.text if booked else "no free hourly slot"
        assert http.get(f"/api/bookings/{booked.json()['id']}", headers=auth).status_code == 200

        form = {
            "category": "other",
            "description": "门口台阶太高，推车不方便。",
            "target_type": "place",
            "lat": str(SAERTU["lat"]),
            "lng": str(SAERTU["lng"]),
            "contact_name": CONTACT_NAME,
            "contact_phone": CONTACT_PHONE,
        }
        filed = http.post("/api/complaints", files=[(k, (None, v)) for k, v in form.items()])
        assert filed.status_code == 201, filed.text
        code = filed.json()["tracking_code"]
        tracked = http.post("/api/complaints/track", json={"tracking_code": code})
        assert tracked.status_code == 200, tracked.text
        return code


def test_a_whole_journey_logs_json_lines_without_personal_data(server: LiveServer) -> None:
    tracking_code = _journey(server)
    mine = httpx.get(server.base_url + "/health", headers={"X-Request-ID": "ops-check.42"})
    assert mine.headers["x-request-id"] == "ops-check.42"  # accepted and returned
    made = httpx.get(server.base_url + "/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])  # replaced by one of ours

    deadline = time.monotonic() + 10
    while '"ops-check.42"' not in server.log():  # the log is written by a listener thread
        assert time.monotonic() < deadline, "the request line never reached the log"
        time.sleep(0.05)
    log = server.log()

    lines = [line for line in log.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"ts", "level", "logger", "msg"} <= set(r) for r in records)
    requests = [r for r in records if r.get("event") == "request"]
    assert {r["route"] for r in requests} >= {"/api/auth/code", "/api/me/children", "/api/bookings", "/api/complaints"}
    assert any(r.get("request_id") == "ops-check.42" and r["route"] == "/health" for r in requests)
    sms = [r for r in records if MASKED in r["msg"]]
    assert sms and all(r.get("request_id") for r in sms)  # app lines carry their request's id

    for secret in (PHONE, CONTACT_PHONE, CHILD_NAME, CONTACT_NAME, tracking_code):
        assert secret not in log, f"{secret!r} is in the log"
    assert tracking_code.replace("-", "") not in log.replace("-", "")
