"""schemathesis over the whole OpenAPI schema, against a real server: no input produces a 500, and
every answer matches what the schema documents (status codes, content types, bodies)."""

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from backend.app import create_app
from backend.core.config import REPO_ROOT
from backend.demo.data import DEMO_PASSWORD
from tests.conftest import make_settings
from tests.live import live_server, scratch_database

ROLES = {
    "anonymous": None,
    "parent": "13800000001",
    "institution_admin": "inst.admin@daqing.example",
    "officer": "health.officer@daqing.example",
    "city_admin": "city.admin@daqing.example",
}


@pytest.fixture(scope="module")
def server(server_url, tmp_path_factory):
    # Fuzzing writes (as a city admin it registers institutions): it gets a database of its own.
    with (
        scratch_database(server_url, demo=True) as url,
        live_server(
            url,
            tmp_path_factory.mktemp("fuzz"),
            OTP_MAX_PER_CLIENT_PER_HOUR="100000",
            LOGIN_MAX_FAILURES_PER_HOUR="100000",
        ) as srv,
    ):
        yield srv


@pytest.fixture(scope="module")
def tokens(server):
    out = {}
    for role, login in ROLES.items():
        if login:
            r = httpx.post(server.base_url + "/api/auth/login", json={"login": login, "password": DEMO_PASSWORD})
            assert r.status_code == 200, r.text
            out[role] = r.json()["token"]
    return out


def _openapi_document() -> dict:
    """The app's OpenAPI document, built in-process (no database needed) so tests exist at collection."""
    app = create_app(make_settings(), database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    return app.openapi_schema.to_schema()


schema = schemathesis.openapi.from_dict(
    _openapi_document(), config=SchemathesisConfig.from_path(REPO_ROOT / "schemathesis.toml")
)


def test_the_served_schema_is_the_one_fuzzed(server):
    assert httpx.get(server.base_url + "/schema/openapi.json").json() == _openapi_document()


@schema.exclude(path="/api/auth/logout").parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_schema(case, tokens, server):
    """Each generated request is sent once per role: anonymous, parent, institution admin, officer, city admin."""
    for role in ROLES:
        headers = {"Authorization": f"Bearer {tokens[role]}"} if role in tokens else None
        case.call_and_validate(base_url=server.base_url, headers=headers)
    assert "Traceback" not in server.log()
