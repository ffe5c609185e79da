"""The app as `make run` serves it: a real uvicorn process on a migrated, seeded database."""

import httpx
import pytest

from tests.live import live_server, scratch_database


@pytest.fixture(scope="module")
def server(server_url, tmp_path_factory):
    with scratch_database(server_url, demo=True) as url, live_server(url, tmp_path_factory.mktemp("live")) as srv:
        yield srv


def test_serves_health_docs_openapi_and_the_pwa(server):
    assert httpx.get(server.base_url + "/health").json() == {"status": "ok", "database": "ok"}
    spec = httpx.get(server.base_url + "/schema/openapi.json").json()
    assert spec["info"]["title"].startswith("大庆市婴幼儿照护服务平台")
    assert "/api/institutions/nearby" in spec["paths"]
    docs = httpx.get(server.base_url + "/schema")
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]
    page = httpx.get(server.base_url + "/")
    assert page.status_code == 200 and "大庆市婴幼儿照护服务平台" in page.text


def test_public_reads_run_without_a_transaction_and_still_answer(server):
    # The autocommit read path (no BEGIN/ROLLBACK) only runs against a real engine, as here.
    near = httpx.get(server.base_url + "/api/institutions/nearby", params={"lat": 46.63, "lng": 125.11}).json()
    assert near["items"]
    first = near["items"][0]
    detail = httpx.get(f"{server.base_url}/api/institutions/{first['id']}").json()
    assert detail["name"] == first["name"]
    listed = httpx.get(server.base_url + "/api/institutions", params={"unit": 230624}).json()
    assert {i["unit_code"] for i in listed["items"]} == {230624}


def test_no_stack_traces_in_error_bodies(server):
    r = httpx.get(server.base_url + "/api/institutions/nearby", params={"lat": "x", "lng": 1})
    assert r.status_code == 400
    assert "Traceback" not in r.text
