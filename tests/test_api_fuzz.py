"""schemathesis over the whole OpenAPI schema, against a real server, as every kind of caller: no input
produces a 500, and every answer matches what the schema documents (status codes, content types,
bodies). All of schemathesis's default checks run, with the fixed seed of ``schemathesis.toml``.

Cost (the module should run in a few minutes on 2 cores) is kept down by phase:

* the coverage phase (boundary and invalid values, missing parameters, unexpected methods; about
  50 requests per operation, deterministic) sends each case once, as one role picked from the case's
  content, so every role meets a share of the edge cases;
* the fuzzing phase (random, mostly schema-valid data, reusing ids seen in earlier answers) sends each
  case as EVERY role, so each role walks its own paths through the permission rules and SQL scopes
  with the same inputs; ``FUZZ_EXAMPLES`` examples per operation;
* stateful scenarios (``test_stateful_scenarios``): ``STATEFUL_EXAMPLES`` short walks per signed-in role.

Measured (2 cores shared with other test runs): about 5 minutes wall, 180 CPU-seconds for pytest and
the server. A deeper run by hand: ``FUZZ_EXAMPLES=25 STATEFUL_EXAMPLES=20`` (7 to 11 minutes, 300 CPU-seconds).
POST /api/auth/logout is left out: it would end the roles' sessions.
"""

import json
import os
import zlib

import httpx
import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from backend.app import create_app
from backend.core.config import REPO_ROOT
from backend.demo.data import DEMO_PASSWORD
from tests.conftest import make_settings
from tests.live import live_server, scratch_database

# Every kind of caller, each a demo account (backend/demo/data.py) with the grant named here.
ROLES: dict[str, tuple[str | None, tuple[str, str | None, int | None] | None]] = {
    "anonymous": (None, None),
    "parent": ("13800000001", ("parent", None, None)),
    "another_parent": ("13800000002", ("parent", None, None)),  # with a child of their own
    "institution_staff": ("inst.staff@daqing.example", ("institution_staff", None, None)),
    "institution_admin": ("inst.admin@daqing.example", ("institution_admin", None, None)),
    "other_institution_staff": ("other.staff@daqing.example", ("institution_staff", None, None)),
    "health_officer": ("health.officer@daqing.example", ("officer", "health", None)),
    "county_health_officer": ("zhaozhou.health@daqing.example", ("officer", "health", 230621)),
    "police_officer": ("police.officer@daqing.example", ("officer", "police", None)),
    "market_officer": ("market.officer@daqing.example", ("officer", "market", None)),
    "city_admin": ("city.admin@daqing.example", ("city_admin", None, None)),
}
ROLE_NAMES = list(ROLES)

# Random examples per operation in the fuzzing phase (each sent as all roles), and stateful scenarios
# per role. Raise both for a deeper run by hand.
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
STATEFUL_EXAMPLES = int(os.environ.get("STATEFUL_EXAMPLES", "5"))


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
    for role, (login, grant) in ROLES.items():
        if login is None:
            continue
        r = httpx.post(server.base_url + "/api/auth/login", json={"login": login, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        out[role] = r.json()["token"]
        me = httpx.get(server.base_url + "/api/me", headers={"Authorization": f"Bearer {out[role]}"}).json()
        held = {(g["role"], g.get("department_code"), g.get("unit_code")) for g in me["roles"]}
        assert grant in held, (role, me["roles"])
    return out


def test_every_role_is_a_distinct_caller(server, tokens):
    """The roles really differ: the other parent has a child of their own, the other institution's
    staff member works elsewhere, the county officer is scoped to a county."""
    me = {
        role: httpx.get(server.base_url + "/api/me", headers={"Authorization": f"Bearer {token}"}).json()
        for role, token in tokens.items()
    }
    assert len({m["id"] for m in me.values()}) == len(tokens)
    children = {
        role: httpx.get(
            server.base_url + "/api/me/children", headers={"Authorization": f"Bearer {tokens[role]}"}
        ).json()
        for role in ("parent", "another_parent")
    }
    assert children["parent"] and children["another_parent"]
    assert not {c["id"] for c in children["parent"]} & {c["id"] for c in children["another_parent"]}
    institution = {
        role: next(g["institution_id"] for g in me[role]["roles"] if g["institution_id"])
        for role in ("institution_staff", "institution_admin", "other_institution_staff")
    }
    assert institution["institution_staff"] == institution["institution_admin"]
    assert institution["other_institution_staff"] != institution["institution_staff"]


# Found by the fuzzer: a subnormal coordinate (5e-324) is schema-valid, but PostgreSQL's ll_to_earth
# fails on it with an underflow (answered 400). Coordinates are rounded to 7 decimals on the way in.
@pytest.mark.parametrize("path", ["/api/institutions/nearby", "/api/rooms/nearby", "/api/guidance/events"])
def test_subnormal_coordinates_are_searched_as_zero(path, server):
    for lat, lng in (("5e-324", "126.9"), ("46.6", "-5e-324")):
        r = httpx.get(server.base_url + path, params={"lat": lat, "lng": lng})
        assert r.status_code == 200, r.text


def test_request_bodies_round_coordinates():
    from backend.rooms.schemas import RoomFactsPatch

    patch = msgspec.json.decode(b'{"lat": 5e-324, "lng": 126.123456789}', type=RoomFactsPatch)
    assert (patch.lat, patch.lng) == (0.0, 126.1234568)


def _openapi_document() -> dict:
    """The app's OpenAPI document, built in-process (no database needed) so tests exist at collection."""
    app = create_app(make_settings(), database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    return app.openapi_schema.to_schema()


schema = schemathesis.openapi.from_dict(
    _openapi_document(), config=SchemathesisConfig.from_path(REPO_ROOT / "schemathesis.toml")
)


def test_no_header_is_documented_as_nullable():
    """A header is present or absent (``required: false``), never null: a client reading ``oneOf
    [string, null]`` would send the text ``null`` (found by the fuzzer on ``Idempotency-Key``).
    Query parameters may say null: Litestar reads ``?unit=null`` as absent."""
    document = _openapi_document()
    nullable = [
        (method, path, parameter["name"])
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict)
        for parameter in operation.get("parameters", [])
        if parameter["in"] != "query" and "null" in json.dumps(parameter["schema"])
    ]
    assert nullable == []


def test_the_served_schema_is_the_one_fuzzed(server):
    assert httpx.get(server.base_url + "/schema/openapi.json").json() == _openapi_document()


def _roles_for(case) -> list[str]:
    if case.meta is not None and case.meta.phase.name == "fuzzing":
        return ROLE_NAMES
    # Deterministic: the same case (a replay, a rerun) always goes to the same role.
    key = repr((case.method, case.formatted_path, case.query, case.body, case.headers)).encode()
    return [ROLE_NAMES[zlib.crc32(key) % len(ROLE_NAMES)]]


@schema.exclude(path="/api/auth/logout").parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_schema(case, tokens, server):
    for role in _roles_for(case):
        headers = {"Authorization": f"Bearer {tokens[role]}"} if role in tokens else None
        try:
            case.call_and_validate(base_url=server.base_url, headers=headers)
        except BaseException as exc:
            exc.add_note(f"as role: {role}")
            raise
    assert "Traceback" not in server.log()


# Stateful: schemathesis links operations through the ids their answers carry (inferred from the
# schema: an institution's id from POST /api/institutions into GET /api/institutions/{id}, ...) and
# walks short scenarios, as each signed-in role. Few and short: the per-operation test above is the
# broad one; this one reaches states random ids never do.
Workflow = schema.exclude(path="/api/auth/logout").as_state_machine()


@pytest.mark.parametrize("role", [r for r in ROLE_NAMES if r != "anonymous"])
def test_stateful_scenarios(role, tokens, server):
    headers = {"Authorization": f"Bearer {tokens[role]}"}

    class RoleWorkflow(Workflow):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case):
            return {"base_url": server.base_url, "headers": headers}

    RoleWorkflow.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
    assert "Traceback" not in server.log()
