"""Open311 GeoReport v2, seen by a client that knows only the spec.

The client part (``Georeport``) speaks plain HTTP with httpx to a real server (``python -m backend
serve`` on a scratch database) and knows nothing but the published wire format: the discovery
document, ``.json`` resources, form-encoded POSTs, errors as ``[{"code", "description"}]``. It
imports nothing from ``backend.complaints``. The test setup registers api keys with the real CLI
(``python -m backend open311-client``) and, where a test needs complaints in other states or
older than today, changes rows in the database directly — as officers will through the desk.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import http.server
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from backend.core.config import REPO_ROOT
from tests.conftest import TEST_SECRET, TEST_VAPID_PEM
from tests.live import live_server, scratch_database
from tests.world import execute

PUBLIC_BASE_URL = "https://tuoyu.daqing.example"
SPEC = "http://wiki.open311.org/GeoReport_v2"
# What docs/domain/complaints.md documents; the client otherwise learns everything from services.json.
CODES = {
    "child_safety",
    "food_safety",
    "fire_safety",
    "health_hygiene",
    "fees",
    "unregistered",
    "staff_conduct",
    "kindergarten_class",
    "nursing_room",
    "other",
}
REQUEST_KEYS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
SAERTU = {"lat": "46.63217", "long": "125.10853"}  # in 萨尔图区


# ---------------------------------------------------------------------------------------------- the client


class Open311Error(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


class Georeport:
    """A GeoReport v2 client: JSON format, form-encoded POSTs, spec errors."""

    def __init__(self, endpoint: str, api_key: str | None = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.api_key = api_key
        self.http = httpx.Client(timeout=10)

    def raw(self, method: str, resource: str, **kw: Any) -> httpx.Response:
        return self.http.request(method, f"{self.endpoint}/{resource}", **kw)

    def _json(self, response: httpx.Response) -> Any:
        assert response.headers["content-type"].startswith("application/json"), response.headers
        body = response.json()
        if response.status_code >= 400:
            assert_spec_error(response)
            raise Open311Error(response.status_code, body)
        assert response.status_code == 200, response.text
        return body

    def services(self) -> list[dict[str, Any]]:
        return self._json(self.raw("GET", "services.json"))

    def service_definition(self, code: str) -> dict[str, Any]:
        return self._json(self.raw("GET", f"services/{code}.json"))

    def post_request(self, **params: Any) -> dict[str, Any]:
        form = {"api_key": self.api_key, **params}
        body = self._json(self.raw("POST", "requests.json", data={k: v for k, v in form.items() if v is not None}))
        assert isinstance(body, list) and len(body) == 1, body
        return body[0]

    def requests(self, **params: Any) -> list[dict[str, Any]]:
        return self._json(self.raw("GET", "requests.json", params=params))

    def request(self, service_request_id: str) -> dict[str, Any]:
        body = self._json(self.raw("GET", f"requests/{service_request_id}.json"))
        assert isinstance(body, list) and len(body) == 1, body
        return body[0]

    def token(self, token: str) -> Any:
        return self._json(self.raw("GET", f"tokens/{token}.json"))


def assert_spec_error(response: httpx.Response) -> None:
    body = response.json()
    assert isinstance(body, list) and len(body) >= 1, body
    for error in body:
        assert set(error) == {"code", "description"}, error
        assert error["code"] == response.status_code
        assert isinstance(error["description"], str) and error["description"]


def error_of(call: Any, *args: Any, **kw: Any) -> Open311Error:
    with pytest.raises(Open311Error) as caught:
        call(*args, **kw)
    return caught.value


def when(value: str) -> dt.datetime:
    assert W3C.match(value), value
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


# ---------------------------------------------------------------------------------------------- setup


def cli(url: str, var_dir: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": url,
        "SECRET_KEY": TEST_SECRET,
        "VAPID_PRIVATE_KEY": TEST_VAPID_PEM,
        "VAR_DIR": str(var_dir),
        "LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore",
    }
    return subprocess.run(
        [sys.executable, "-m", "backend", "open311-client", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def register(url: str, var_dir: Any, name: str) -> tuple[str, str]:
    """A new client through the CLI: (client id, api key)."""
    done = cli(url, var_dir, "add", name)
    assert done.returncode == 0, done.stderr
    client_id = re.search(r"^client (\S+) ", done.stdout, re.M).group(1)  # type: ignore[union-attr]
    key = re.search(r"^api_key (\S+)$", done.stdout, re.M).group(1)  # type: ignore[union-attr]
    return client_id, key


@pytest.fixture(scope="module")
def site(server_url, tmp_path_factory):
    logs = tmp_path_factory.mktemp("open311")
    env = {
        "PUSH_WORKER": "false",
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "COMPLAINT_MAX_PER_HOUR_PER_CLIENT": "100000",
        "COMPLAINT_MAX_PER_HOUR_PER_DEVICE": "100000",
    }
    with scratch_database(server_url, demo=False) as url, live_server(url, logs, **env) as server:
        client_id, key = register(url, logs / "cli", "Spec test client 规范测试")
        yield {"server": server, "url": url, "key": key, "client_id": client_id, "var": logs / "cli"}


@pytest.fixture
def anonymous(site) -> Iterator[Georeport]:
    """Reads need no key. The endpoint is where the server runs (discovery names the public URL)."""
    client = Georeport(site["server"].base_url + "/open311/v2")
    yield client
    client.http.close()


@pytest.fixture
def georeport(site) -> Iterator[Georeport]:
    client = Georeport(site["server"].base_url + "/open311/v2", site["key"])
    yield client
    client.http.close()


def count_complaints(site) -> int:
    return asyncio.run(execute(site["url"], text("SELECT count(*) FROM complaints")))[0][0]


def sql(site, statement: str, **params: Any) -> list[Any]:
    return asyncio.run(execute(site["url"], text(statement).bindparams(**params)))


def number(service_request_id: str) -> int:
    assert re.fullmatch(r"DQ-\d+", service_request_id), service_request_id
    return int(service_request_id[3:])


# ---------------------------------------------------------------------------------------------- discovery, services


def test_discovery_names_the_geoReport_v2_endpoint_in_json(anonymous):
    response = httpx.get(anonymous.endpoint + "/discovery.json")
    assert response.status_code == 200
    doc = response.json()
    assert set(doc) == {"changeset", "contact", "key_service", "endpoints"}
    when(doc["changeset"])
    assert doc["contact"] and doc["key_service"]
    [endpoint] = doc["endpoints"]
    assert endpoint["specification"] == SPEC
    assert endpoint["url"] == PUBLIC_BASE_URL + "/open311/v2"
    assert endpoint["formats"] == ["application/json"]
    assert endpoint["type"] in ("production", "test")
    when(endpoint["changeset"])


def test_services_are_the_complaint_categories(anonymous):
    services = anonymous.services()
    assert {s["service_code"] for s in services} == CODES
    for s in services:
        assert set(s) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
        assert s["metadata"] is False
        assert s["type"] == "realtime"
        assert re.search(r"[\u4e00-\u9fff]", s["service_name"]) and re.search(r"[A-Za-z]", s["service_name"])
        assert s["description"] and s["keywords"] and s["group"]
    food = next(s for s in services if s["service_code"] == "food_safety")
    assert food["service_name"] == "食品安全 Food safety"
    assert "市市场监管局" in food["description"]


def test_service_definitions_have_no_attributes_and_unknown_codes_are_404(anonymous):
    for code in CODES:
        assert anonymous.service_definition(code) == {"service_code": code, "attributes": []}
    assert error_of(anonymous.service_definition, "potholes").status == 404
    assert anonymous.raw("GET", "services/food_safety.xml").status_code == 404  # JSON only
    assert_spec_error(anonymous.raw("GET", "services/food_safety.xml"))


# ---------------------------------------------------------------------------------------------- filing


def test_post_with_lat_long_files_a_complaint_and_reading_it_back_publishes_no_personal_data(site, georeport):
    before = count_complaints(site)
    filed = georeport.post_request(
        service_code="food_safety",
        description="午餐的肉有异味，孩子回家后腹泻。联系我 13812345678",
        first_name="小红",
        last_name="王",
        phone="(138) 1234-5678",
        email="wang.xiaohong@example.com",
        device_id="spec-device-0001",
        account_id="ignored-account",
        jurisdiction_id="daqing",
        **SAERTU,
    )
    assert set(filed) == {"service_request_id", "service_notice", "account_id"}
    assert filed["account_id"] is None
    assert "110" not in filed["service_notice"]  # only urgent complaints get the emergency line
    tracking = re.search(r"[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{5}", filed["service_notice"])
    assert tracking, filed["service_notice"]
    assert count_complaints(site) == before + 1

    raw = georeport.raw("GET", f"requests/{filed['service_request_id']}.json")
    for secret in ("13812345678", "1234-5678", "小红", "wang.xiaohong", "腹泻", "spec-device", tracking.group()):
        assert secret not in raw.text
    got = georeport.request(filed["service_request_id"])
    assert set(got) == REQUEST_KEYS
    assert got["service_request_id"] == filed["service_request_id"]
    assert got["status"] == "open"
    assert got["status_notes"] is None
    assert got["service_code"] == "food_safety"
    assert got["service_name"] == "食品安全 Food safety"
    assert got["description"] is None
    assert got["media_url"] is None
    assert (got["lat"], got["long"]) == (46.632, 125.109)
    assert got["address"] == "黑龙江省大庆市萨尔图区"
    assert "大庆市市场监督管理局" in got["agency_responsible"]
    assert "萨尔图区人民政府" in got["agency_responsible"]
    requested, updated, expected = (
        when(got[k]) for k in ("requested_datetime", "updated_datetime", "expected_datetime")
    )
    assert abs(requested - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    assert updated >= requested
    assert expected - requested >= dt.timedelta(days=15)  # 15 working days
    assert got["service_notice"]

    # What the officers get: the contact details and the text, kept off the public API.
    [(source, client_id, name, phone, device)] = sql(
        site,
        "SELECT source, open311_client_id::text, contact_name, contact_phone, reporter_id FROM complaints WHERE number = :n",
        n=number(filed["service_request_id"]),
    )
    assert (source, client_id, name, phone, device) == ("open311", site["client_id"], "王小红", "138 1234-5678", None)


def test_post_with_an_address_string_only(georeport):
    filed = georeport.post_request(
        service_code="fees", description="收费与公示价格不一致", address_string="大庆市萨尔图区某某路1号"
    )
    got = georeport.request(filed["service_request_id"])
    assert got["service_code"] == "fees"
    assert (got["lat"], got["long"]) == (None, None)
    assert got["address"] is None  # the reporter's own words are never published
    assert "大庆市市场监督管理局" in got["agency_responsible"]


def test_missing_and_bad_parameters_are_400_and_write_nothing(site, georeport):
    before = count_complaints(site)
    base = {"service_code": "other", "description": "情况说明", **SAERTU}
    cases = [
        {k: v for k, v in base.items() if k != "service_code"},
        {k: v for k, v in base.items() if k != "description"},
        {**base, "description": "   "},
        {"service_code": "other", "description": "没有位置"},
        {"service_code": "other", "description": "只有 address_id", "address_id": "12345"},
        {"service_code": "other", "description": "只有纬度", "lat": "46.6"},
        {**base, "service_code": "potholes"},
        {**base, "lat": "91"},
        {**base, "lat": "-90.5"},
        {**base, "long": "181"},
        {**base, "lat": "abc"},
        {**base, "lat": "NaN"},
        {**base, "lat": "1e2"},
        {**base, "lat": "39.9042", "long": "116.4074"},  # Beijing: outside Daqing
        {**base, "description": "<script>alert(1)</script>"},
        {**base, "phone": "call me"},
        {**base, "first_name": "名" * 41},
        {**base, "address_string": "路" * 201},
        {**base, "device_id": "d" * 65},
        {**base, "media_url": "file:///etc/passwd"},
        {**base, "media_url": "ftp://example.com/a.jpg"},
        {**base, "media_url": "http://user:pw@example.com/a.jpg"},
        {**base, "media_url": "javascript:alert(1)"},
    ]
    for params in cases:
        error = error_of(georeport.post_request, **params)
        assert error.status == 400, (params, error.body)
    # Missing api_key, an empty body, a JSON body, repeated parameters.
    for response in (
        georeport.raw("POST", "requests.json", data=base),
        georeport.raw("POST", "requests.json"),
        georeport.raw("POST", "requests.json", json={"api_key": georeport.api_key, **base}),
        georeport.raw(
            "POST",
            "requests.json",
            content=f"api_key={georeport.api_key}&service_code=other&service_code=fees&description=x&lat=46.6&long=125.1",
            headers={"content-type": "application/x-www-form-urlencoded"},
        ),
    ):
        assert response.status_code == 400, response.text
        assert_spec_error(response)
    assert count_complaints(site) == before


@pytest.mark.parametrize("description", [b"%FF%FE", b"a%00b", b"%C0%AF", b"\xff"])
def test_a_form_that_is_not_utf8_is_refused_not_stored_mangled(site, georeport, description):
    """Found as an attacker: invalid UTF-8 was stored as replacement characters (U+FFFD)."""
    before = count_complaints(site)
    response = georeport.raw(
        "POST",
        "requests.json",
        content=f"api_key={georeport.api_key}&service_code=other&lat=46.6&long=125.1&description=".encode()
        + description,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400, response.text  # Open311 answers every client error as 400
    assert_spec_error(response)
    assert count_complaints(site) == before


def test_description_longer_than_4000_characters_is_refused(site, georeport):
    before = count_complaints(site)
    error = error_of(georeport.post_request, service_code="other", description="长" * 4001, **SAERTU)
    assert error.status == 400 and "4000" in error.body[0]["description"]
    error = error_of(
        georeport.post_request,
        service_code="other",
        description="长" * 3990,
        media_url="https://example.com/photo.jpg",
        **SAERTU,
    )
    assert error.status == 400 and "media_url" in error.body[0]["description"]
    error = error_of(georeport.post_request, service_code="other", description="长" * 1_000_000, **SAERTU)
    assert error.status == 413  # over the request body limit: refused while it arrives
    assert count_complaints(site) == before
    filed = georeport.post_request(service_code="other", description="长" * 4000, **SAERTU)
    assert georeport.request(filed["service_request_id"])["description"] is None


def test_a_bad_or_revoked_api_key_is_403_and_writes_nothing(site, georeport):
    before = count_complaints(site)
    params = {"service_code": "other", "description": "情况说明", **SAERTU}
    for key in ("wrong-key", "", " ", "k" * 5000, georeport.api_key + "x"):
        error = error_of(Georeport(georeport.endpoint, key).post_request, **params)
        assert error.status in (400, 403), error.body  # an empty key is a missing parameter
        if key.strip():
            assert error.status == 403
    client_id, key = register(site["url"], site["var"], "Short-lived client")
    assert Georeport(georeport.endpoint, key).post_request(**params)["service_request_id"]
    revoked = cli(site["url"], site["var"], "revoke", client_id)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert error_of(Georeport(georeport.endpoint, key).post_request, **params).status == 403
    listed = cli(site["url"], site["var"], "list")
    assert client_id in listed.stdout and "Short-lived client" in listed.stdout and key not in listed.stdout
    assert count_complaints(site) == before + 1


def test_media_url_is_passed_on_as_text_and_never_fetched(site, georeport):
    hits: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    target = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=target.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{target.server_port}/evidence.jpg"
        filed = georeport.post_request(service_code="health_hygiene", description="卫生间很脏", media_url=url, **SAERTU)
        got = georeport.request(filed["service_request_id"])
        assert got["media_url"] is None and got["description"] is None
    finally:
        target.shutdown()
        thread.join()
    assert hits == []
    [(description,)] = sql(
        site, "SELECT description FROM complaints WHERE number = :n", n=number(filed["service_request_id"])
    )
    assert description.startswith("卫生间很脏") and url in description


def test_form_content_type_is_required(georeport):
    response = georeport.raw(
        "POST",
        "requests.json",
        content=b"api_key=x",
        headers={"content-type": "text/plain"},
    )
    assert response.status_code == 400
    assert_spec_error(response)


# ---------------------------------------------------------------------------------------------- reading


@pytest.fixture(scope="module")
def dataset(site):
    """Complaints in known states: filed now, then moved by 'officers' in the database."""
    client = Georeport(site["server"].base_url + "/open311/v2", site["key"])
    ids = {}
    for name, code in (("open_fees", "fees"), ("closed_fire", "fire_safety"), ("old_food", "food_safety")):
        ids[name] = client.post_request(service_code=code, description=f"{name} 情况", **SAERTU)["service_request_id"]
    sql(
        site,
        "UPDATE complaints SET status = 'resolved', acknowledged_at = now(), accepted_at = now(), closed_at = now()"
        " WHERE number = :n",
        n=number(ids["closed_fire"]),
    )
    sql(
        site,
        "INSERT INTO complaint_updates (complaint_id, status, previous_status, public_note, internal_note)"
        " SELECT id, 'accepted', 'received', '已受理，将派员检查。', '内部：联系人王某' FROM complaints WHERE number = :n",
        n=number(ids["closed_fire"]),
    )
    sql(
        site,
        "INSERT INTO complaint_updates (complaint_id, status, previous_status, public_note, internal_note)"
        " SELECT id, 'resolved', 'accepted', '已检查，消防通道已清理。', '内部备注' FROM complaints WHERE number = :n",
        n=number(ids["closed_fire"]),
    )
    sql(
        site,
        "UPDATE complaints SET created_at = now() - interval '200 days' WHERE number = :n",
        n=number(ids["old_food"]),
    )
    client.http.close()
    return ids


def ids_of(requests: list[dict[str, Any]]) -> set[str]:
    for r in requests:
        assert set(r) == REQUEST_KEYS
        assert r["description"] is None
    return {r["service_request_id"] for r in requests}


def test_list_defaults_to_the_last_90_days_newest_first(anonymous, dataset):
    listed = anonymous.requests()
    found = ids_of(listed)
    assert {dataset["open_fees"], dataset["closed_fire"]} <= found
    assert dataset["old_food"] not in found
    times = [when(r["requested_datetime"]) for r in listed]
    assert times == sorted(times, reverse=True)
    assert len(listed) <= 1000


def test_list_filters_by_status_and_service_code(anonymous, dataset):
    open_ = anonymous.requests(status="open")
    closed = anonymous.requests(status="closed")
    assert {r["status"] for r in open_} == {"open"} and {r["status"] for r in closed} == {"closed"}
    assert dataset["open_fees"] in ids_of(open_) and dataset["open_fees"] not in ids_of(closed)
    assert dataset["closed_fire"] in ids_of(closed) and dataset["closed_fire"] not in ids_of(open_)
    both = ids_of(anonymous.requests(status="open,closed"))
    assert {dataset["open_fees"], dataset["closed_fire"]} <= both
    fees = anonymous.requests(service_code="fees")
    assert {r["service_code"] for r in fees} == {"fees"} and dataset["open_fees"] in ids_of(fees)
    assert ids_of(anonymous.requests(service_code="fees", status="closed")) == set()
    fire = anonymous.request(dataset["closed_fire"])
    assert fire["status"] == "closed"
    assert fire["status_notes"] == "已检查，消防通道已清理。"  # the latest public note; internal notes never
    assert fire["expected_datetime"] is None


def test_list_filters_by_dates(anonymous, dataset):
    now = dt.datetime.now(dt.UTC)
    old = ids_of(
        anonymous.requests(
            start_date=(now - dt.timedelta(days=210)).isoformat(), end_date=(now - dt.timedelta(days=190)).isoformat()
        )
    )
    assert dataset["old_food"] in old and dataset["open_fees"] not in old
    # One bound opens a 90-day window from or to it.
    assert dataset["old_food"] in ids_of(anonymous.requests(start_date=(now - dt.timedelta(days=201)).isoformat()))
    assert dataset["open_fees"] not in ids_of(anonymous.requests(start_date=(now - dt.timedelta(days=201)).isoformat()))
    assert dataset["old_food"] in ids_of(anonymous.requests(end_date=(now - dt.timedelta(days=150)).isoformat()))
    # A span longer than 90 days is allowed (at most 1,000 results, newest first).
    wide = ids_of(
        anonymous.requests(start_date="2020-01-01T00:00:00+08:00", end_date=(now + dt.timedelta(days=1)).isoformat())
    )
    assert {dataset["old_food"], dataset["open_fees"], dataset["closed_fire"]} <= wide
    # Zulu time, and an end before the start, are fine; the latter finds nothing.
    assert anonymous.requests(start_date="2030-01-01T00:00:00Z", end_date="2029-01-01T00:00:00Z") == []
    # Extreme but valid dates do not break anything.
    assert isinstance(anonymous.requests(start_date="0001-01-01T00:00:00+14:00"), list)
    assert isinstance(anonymous.requests(end_date="9999-12-31T23:59:59-12:00"), list)


def test_list_by_ids_overrides_other_filters(anonymous, dataset):
    chosen = f"{dataset['old_food']},{dataset['closed_fire']}, {dataset['open_fees']}"
    got = ids_of(anonymous.requests(service_request_id=chosen, status="open", service_code="other"))
    assert got == {dataset["old_food"], dataset["closed_fire"], dataset["open_fees"]}
    assert anonymous.requests(service_request_id="DQ-999999999") == []


def test_bad_list_parameters_are_400(anonymous):
    for params in (
        {"status": "pending"},
        {"service_code": "potholes"},
        {"start_date": "yesterday"},
        {"end_date": "2026-13-01T00:00:00Z"},
        {"start_date": "2026-01-01T00:00:00"},  # the spec requires the offset
        {"start_date": "2026-01-01"},
        {"start_date": "1767225600"},
        {"service_request_id": "123"},
        {"service_request_id": "DQ-1;DROP TABLE complaints"},
        {"service_request_id": ",".join(f"DQ-{n}" for n in range(101))},
    ):
        error = error_of(anonymous.requests, **params)
        assert error.status == 400, (params, error.body)


def test_one_request_unknown_ids_and_formats_are_404(anonymous, dataset):
    assert anonymous.request(dataset["open_fees"])["service_code"] == "fees"
    for resource in ("DQ-999999999", "DQ-0", "whatever", "DQ-99999999999999999999"):
        assert error_of(anonymous.request, resource).status == 404
    for resource in (f"requests/{dataset['open_fees']}.xml", f"requests/{dataset['open_fees']}", "requests/.json"):
        response = anonymous.raw("GET", resource)
        assert response.status_code == 404, resource
        assert_spec_error(response)


def test_tokens_are_never_issued(anonymous):
    error = error_of(anonymous.token, "12345")
    assert error.status == 404
    assert "token" in error.body[0]["description"]


def test_child_safety_complaints_are_filed_but_never_published(site, georeport, anonymous):
    filed = georeport.post_request(service_code="child_safety", description="看到老师打孩子", **SAERTU)
    ref = filed["service_request_id"]
    assert "110" in filed["service_notice"]
    assert sql(site, "SELECT urgent FROM complaints WHERE number = :n", n=number(ref)) == [(True,)]
    assert error_of(anonymous.request, ref).status == 404
    assert ref not in ids_of(anonymous.requests())
    assert anonymous.requests(service_code="child_safety") == []
    assert anonymous.requests(service_request_id=ref) == []
    assert ref not in ids_of(anonymous.requests(start_date="2020-01-01T00:00:00Z", end_date="2100-01-01T00:00:00Z"))


def test_no_input_produces_a_server_error(site, georeport):
    weird = ["", " ", "\x00", "%", "😀" * 50, "a" * 20000, "DQ-1", "null", "[]", "{}", "-0", "1e309"]
    params = ["api_key", "service_code", "description", "lat", "long", "address_string", "media_url", "phone"]
    before = count_complaints(site)
    for param in params:
        for value in weird:
            form = {"api_key": georeport.api_key, "service_code": "other", "description": "x", **SAERTU, param: value}
            response = georeport.raw("POST", "requests.json", data=form)
            assert response.status_code < 500, (param, value, response.text)
            if response.status_code >= 400:
                assert_spec_error(response)
    for param in ("service_request_id", "service_code", "start_date", "end_date", "status", "jurisdiction_id"):
        for value in weird:
            response = georeport.raw("GET", "requests.json", params={param: value})
            assert response.status_code in (200, 400), (param, value, response.text)
    for value in ("%00.json", "..%2F..%2Fetc.json", "😀.json", "a" * 3000 + ".json"):
        for resource in ("requests", "services", "tokens"):
            assert georeport.raw("GET", f"{resource}/{value}").status_code in (400, 404)
    # Only the phone/address variants that are valid filed anything; all are ordinary complaints.
    assert count_complaints(site) >= before
    assert "Traceback" not in site["server"].log()
