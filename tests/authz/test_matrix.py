"""The authorization matrix: every route of Litestar's route table × every role × object ownership,
answered with the status written down in ``matrix.toml``.

* The matrix and the route table must name the same routes: a new route without an entry fails, and
  so does an entry for a route that no longer exists.
* The entries must agree with the declared rules (``backend/core/authz.py``): the anonymous get 401 on
  every protected route, a role the action does not admit gets 403.
* Tenancy: a caller of one tenant asking for the other tenant's object gets 404 (never 200, never a
  403 that depends on the object); no refused answer carries the object's data, and no successful
  answer to a tenant's caller (lists included) names one of the other tenant's private objects.
* Each case is one test: one request against one world (``tests/authz/world.py``), built once per
  module and rolled back to a savepoint after every case, so writes never leak into other cases.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.app import create_app
from backend.core.authz import ACTIONS, Role
from backend.core.clock import local_today
from backend.files.pdf import tiny_pdf
from tests.authz.world import AWAY_ROLES, HOME_ROLES, ROLES, SECRET, World, assessment_body, event_body
from tests.blacklist.idnumbers import id_number
from tests.conftest import _session_maker, make_settings
from tests.factories import Factory, months_ago, random_uscc
from tests.imagedata import PNG

MATRIX_FILE = Path(__file__).with_name("matrix.toml")
MATRIX: dict[str, dict[str, Any]] = tomllib.loads(MATRIX_FILE.read_text(encoding="utf-8"))
OWNERSHIPS = ("own", "other")
# The world's objects only their tenant may see (institutions, classes, rooms and events are public).
PRIVATE = (
    "child",
    "child_spare",
    "app_enrolled",
    "app_submitted",
    "app_offered",
    "app_accepted",
    "booking",
    "notice",
    "notice_image",
    "complaint",
    "complaint_dup",
    "committee_member",
    "suggestion",
    "assessment_draft",
    "assessment_draft_item",
    "assessment",
    "assessment_item",
    "filing",
    "blacklist_entry",
    "staff_member",
    "registration",
    "account",
)
ERROR_KEYS = {"status_code", "code", "detail", "detail_zh", "extra"}
# The roles each matrix role holds (for checking entries against the declared rules).
GRANTS: dict[str, set[Role]] = {
    "anonymous": set(),
    "parent": {Role.PARENT},
    "other_parent": {Role.PARENT},
    "staff": {Role.INSTITUTION_STAFF},
    "inst_admin": {Role.INSTITUTION_ADMIN},
    "other_staff": {Role.INSTITUTION_STAFF},
    "officer": {Role.OFFICER},
    "other_officer": {Role.OFFICER},
    "city_admin": {Role.CITY_ADMIN},
}
_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Placeholders filled with fresh values rather than a tenant's object (see ``_values``).
GENERATED = {"today", "tomorrow", "in_two_days", "next_week", "next_year", "next_year_end", "birth_date", "uscc"}
GENERATED |= {"id_number", "lat", "lng"}


def route_table(app: Any) -> dict[str, str]:
    """``"METHOD /path"`` → the route's declared action, for every route Litestar serves."""
    out = {}
    for route in app.routes:
        handlers = getattr(route, "route_handlers", None) or [getattr(route, "route_handler", None)]
        for handler in filter(None, handlers):
            methods = getattr(handler, "http_methods", None)
            if methods == {"OPTIONS"}:
                continue  # Litestar's automatic OPTIONS answers: they describe a route and perform nothing
            for method in sorted(methods) if methods else ["WS"]:
                out[f"{method} {route.path}"] = handler.opt.get("action")
    return out


ROUTES = route_table(create_app(make_settings(), database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none"))


def _uses_objects(entry: dict[str, Any]) -> bool:
    """Whether the request names a tenant's object (a path object, or one in the body)."""
    if any(not str(v).startswith("=") for v in entry.get("path", {}).values()):
        return True
    body = json.dumps([entry.get("json"), entry.get("data")], ensure_ascii=False)
    return entry.get("json") in ("assessment", "event") or bool(set(_PLACEHOLDER.findall(body)) - GENERATED)


def ownerships(entry: dict[str, Any]) -> tuple[str, ...]:
    return OWNERSHIPS if _uses_objects(entry) else ("any",)


def cases() -> list[Any]:
    out = []
    for key, entry in MATRIX.items():
        if key not in ROUTES or "declared_only" in entry:
            continue
        for ownership in ownerships(entry):
            for role in ROLES:
                out.append(pytest.param(key, ownership, role, id=f"{key} | {ownership} | {role}"))
    return out


# -- the matrix describes exactly the route table, and agrees with the declared rules -------------


def test_every_route_has_an_entry_and_every_entry_a_route():
    assert sorted(set(ROUTES) - set(MATRIX)) == [], "routes missing from tests/authz/matrix.toml"
    assert sorted(set(MATRIX) - set(ROUTES)) == [], "entries in tests/authz/matrix.toml for routes that do not exist"


def test_every_entry_names_every_role_for_each_ownership():
    problems = []
    for key, entry in MATRIX.items():
        if "declared_only" in entry:
            continue
        expected = {o for o in ("own", "other", "any") if o in entry}
        if expected != set(ownerships(entry)):
            problems.append(f"{key}: has {sorted(expected)}, needs {sorted(ownerships(entry))}")
        for ownership in expected:
            if set(entry[ownership]) != set(ROLES):
                problems.append(f"{key} {ownership}: roles {sorted(set(ROLES) ^ set(entry[ownership]))}")
    assert problems == []


def test_entries_agree_with_the_declared_rules():
    """Anonymous → 401 on protected routes; a role the action does not admit → 403; a caller of one
    tenant asking for the other tenant's object → 404, or a 403 that does not depend on the object
    (the same role is refused its own tenant's object too), never a success."""
    problems = []
    for key, entry in MATRIX.items():
        action = ACTIONS[ROUTES[key]] if key in ROUTES else None
        if action is None:
            continue
        for ownership in ("own", "other", "any"):
            for role, status in entry.get(ownership, {}).items():
                admitted = action.roles is None or bool(GRANTS[role] & action.roles)
                where = f"{key} | {ownership} | {role}: {status}"
                if role == "anonymous" and not action.public and status != 401:
                    problems.append(f"{where}, the rule says 401")
                elif role != "anonymous" and not admitted and status != 403:
                    problems.append(f"{where}, the rule says 403")
                elif role != "anonymous" and not action.public and status == 401:
                    problems.append(f"{where} although the caller is signed in")
                foreign = (ownership == "other" and role in HOME_ROLES) or (ownership == "own" and role in AWAY_ROLES)
                if not foreign or "shared" in entry:
                    continue
                mine = entry["own" if ownership == "other" else "other"][role]
                if status < 400:
                    problems.append(f"{where} on another tenant's object")
                elif status == 403 and mine != 403:
                    problems.append(f"{where}: a 403 that depends on the object (its own tenant's answers {mine})")
                elif status not in (403, 404):
                    problems.append(f"{where}, another tenant's object must answer 404")
    assert problems == []


# -- the requests --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def world(app: Any, engine: Any, settings: Any) -> AsyncIterator[tuple[Any, httpx.AsyncClient, World]]:
    """One world for the module, in a transaction rolled back at the end; cases run in savepoints."""
    async with engine.connect() as conn:
        transaction = await conn.begin()
        key = app.state.alchemy.session_maker_app_state_key
        original = app.state[key]
        maker = _session_maker(conn)
        app.state[key] = maker
        try:
            async with (
                maker() as db,
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app, client=("203.0.113.9", 40000)),
                    base_url="http://127.0.0.1:8000",
                ) as http,
            ):
                built = await World(db, Factory(db, settings), http).build()
                yield conn, http, built
        finally:
            app.state[key] = original
            await transaction.rollback()


def _values(world: World, ownership: str) -> dict[str, Any]:
    today = local_today()
    ids = world.ids["own" if ownership == "any" else ownership]
    coords = {"own": (46.63, 125.11), "other": (45.70, 125.27)}.get(ownership, (46.63, 125.11))
    return {
        **ids,
        "today": today.isoformat(),
        "tomorrow": (today + dt.timedelta(days=1)).isoformat(),
        "in_two_days": (today + dt.timedelta(days=2)).isoformat(),
        "next_week": (today + dt.timedelta(days=7)).isoformat(),
        "next_year": (today + dt.timedelta(days=400)).isoformat(),
        "next_year_end": (today + dt.timedelta(days=700)).isoformat(),
        "birth_date": months_ago(10).isoformat(),
        "uscc": random_uscc(),
        "id_number": id_number(),
        "lat": coords[0],
        "lng": coords[1],
    }


def _fill(template: Any, values: dict[str, Any]) -> Any:
    if isinstance(template, dict):
        return {k: _fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, values) for v in template]
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template)
        if whole:
            return values[whole.group(1)]
        return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template)
    return template


# Imports: one valid row of each register (CSV, as the departments save it: GB18030).
REGISTERS = {
    "population_csv": ("人口.csv", "区县,年份,常住人口,0-3岁婴幼儿数\r\n萨尔图区,2024,420000,9800\r\n"),
    "institutions_csv": (
        "备案名单.csv",
        "机构名称,统一社会信用代码,所属区县,地址,经度,纬度\r\n"
        "矩阵托育园,52230602MJ00000011,萨尔图区,萨尔图区矩阵路1号,125.11,46.63\r\n",
    ),
    "rooms_csv": (
        "母婴室.csv",
        "来源编号,母婴室名称,地址,经度,纬度\r\nMATRIX-1,矩阵母婴室,萨尔图区矩阵路2号,125.12,46.62\r\n",
    ),
}


def request_for(key: str, entry: dict[str, Any], world: World, ownership: str) -> dict[str, Any]:
    method, path = key.split(" ", 1)
    values = _values(world, ownership)

    def param(m: re.Match[str]) -> str:
        ref = entry["path"][m.group(1)]
        return ref[1:] if ref.startswith("=") else values[ref]

    out: dict[str, Any] = {"method": method, "url": _PARAM.sub(param, path)}
    body = entry.get("json")
    if body == "assessment":
        out["json"] = assessment_body(values["institution"])
    elif body == "assessment_edit":
        out["json"] = {k: v for k, v in assessment_body(values["institution"]).items() if k != "institution_id"}
    elif body == "event":
        out["json"] = {**event_body(), "institution_id": values["institution"]}
    elif body is not None:
        out["json"] = _fill(body, values)
    if "data" in entry and entry.get("multipart"):
        out["files"] = {k: (None, str(v)) for k, v in _fill(entry["data"], values).items()}
    elif "data" in entry:
        out["data"] = _fill(entry["data"], values)
    if "query" in entry:
        out["params"] = _fill(entry["query"], values)
    field = entry.get("upload_field", "file")
    if entry.get("upload") == "png":
        out["files"] = {**out.get("files", {}), field: ("m.png", PNG, "image/png")}
    elif entry.get("upload") == "pdf":
        out["files"] = {**out.get("files", {}), field: ("m.pdf", tiny_pdf(), "application/pdf")}
    elif entry.get("upload") in REGISTERS:  # imports: a valid register of that kind
        name, content = REGISTERS[entry["upload"]]
        out["files"] = {**out.get("files", {}), field: (name, content.encode("gb18030"), "text/csv")}
    return out


def _record(key: str, ownership: str, role: str, status: int, text: str = "") -> None:
    """With ``AUTHZ_MATRIX_RECORD=<file>``, append every answer to the file: to compare with the
    matrix when adding a route — never to copy into it unread."""
    record = os.environ.get("AUTHZ_MATRIX_RECORD")
    if record:
        with open(record, "a", encoding="utf-8") as out:
            out.write(
                json.dumps({"key": key, "ownership": ownership, "role": role, "status": status, "text": text}) + "\n"
            )


@pytest.mark.parametrize(("key", "ownership", "role"), cases())
async def test_route_answers_as_the_matrix_says(world, key: str, ownership: str, role: str) -> None:
    conn, http, built = world
    entry = MATRIX[key]
    expected = entry.get(ownership, {}).get(role)  # missing: reported by the entry tests, and here
    savepoint = await conn.begin_nested()
    try:
        request = request_for(key, entry, built, ownership)
        r = await http.request(headers=built.headers[role], **request)
    finally:
        await savepoint.rollback()
    _record(key, ownership, role, r.status_code, r.text[:120])
    assert r.status_code == expected, f"{request['method']} {request['url']} as {role}: {r.text[:300]}"
    action = ACTIONS[ROUTES[key]]
    foreign = "other" if role in HOME_ROLES else "own" if role in AWAY_ROLES else None
    if r.status_code < 300 and foreign and not action.public and "shared" not in entry:
        # A tenant's caller never receives the other tenant's private objects (lists included).
        leaked = sorted(name for name in PRIVATE if built.ids[foreign][name] in r.text)
        assert leaked == [], f"{request['method']} {request['url']} as {role} shows the other tenant's {leaked}"
    if r.status_code >= 400:
        assert SECRET not in r.text, "a refused answer carries the object's data"
        if r.headers.get("content-type", "").startswith("application/json") and not key.split()[1].startswith(
            "/open311/"  # GeoReport v2 answers errors in its own documented shape
        ):
            assert set(r.json()) == ERROR_KEYS, r.text[:300]


MIXED = tomllib.loads(MATRIX_FILE.with_name("mixed.toml").read_text(encoding="utf-8"))["case"]
_MIXED_REF = re.compile(r"\{(own|other)\.(\w+)\}")


@pytest.mark.parametrize("case", MIXED, ids=[c["what"] for c in MIXED])
async def test_mixed_request(world, case: dict[str, Any]) -> None:
    """A caller's own object together with the other tenant's (``mixed.toml``) is refused."""
    conn, http, built = world
    method, template = case["request"].split(" ", 1)

    def fill(text: str) -> str:
        return _PLACEHOLDER.sub(
            lambda m: str(_values(built, "own")[m.group(1)]),
            _MIXED_REF.sub(lambda m: built.ids[m.group(1)][m.group(2)], text),
        )

    body = json.loads(fill(json.dumps(case["json"], ensure_ascii=False))) if "json" in case else None
    savepoint = await conn.begin_nested()
    try:
        r = await http.request(method, fill(template), headers=built.headers[case["role"]], json=body)
    finally:
        await savepoint.rollback()
    assert r.status_code == case["status"], r.text[:300]
    assert SECRET not in r.text
