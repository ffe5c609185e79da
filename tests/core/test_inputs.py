"""The input gate (backend/core/inputs.py): each defect of issue 24 that it closes, as reproduced.

``tests/test_malformed_input.py`` sends every malformation to every route of a real server; these
pin the reproduced cases and the exact answers."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from backend.core.errors import RuleViolation
from backend.core.inputs import MAX_DEPTH, check_dates, checked_json

JSON = {"Content-Type": "application/json"}
LOGIN = "/api/auth/login"


def assert_refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"status_code", "code", "detail", "detail_zh", "extra"}
    assert body["code"] == code, body
    return body


async def test_deep_nesting_is_a_400_naming_the_problem(client):
    body = ("[" * 500 + "]" * 500).encode()
    answer = assert_refused(await client.post(LOGIN, content=body, headers=JSON), 400, "malformed_json")
    assert "nested deeper" in answer["detail"] and "嵌套" in answer["detail_zh"]


async def test_nesting_within_the_limit_is_decoded(client):
    # at the limit the body is well-formed JSON of the wrong shape: a validation error, not a decode error
    body = ("[" * MAX_DEPTH + "]" * MAX_DEPTH).encode()
    assert_refused(await client.post(LOGIN, content=body, headers=JSON), 400, "validation_error")


async def test_invalid_utf8_is_a_400_naming_the_problem(client):
    answer = assert_refused(
        await client.post(LOGIN, content=b'{"login":"\xff","password":"x"}', headers=JSON), 400, "malformed_json"
    )
    assert "UTF-8" in answer["detail"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"login": "a", "login": "b", "password": "x"}', "duplicate key"),
        (b'{"login": NaN, "password": "x"}', "NaN"),
        (b'{"login": Infinity, "password": "x"}', "Infinity"),
        (b'{"login": "a", "password": "x"', "JSON"),
    ],
)
async def test_json_that_is_not_strict_json_is_refused(client, body, problem):
    answer = assert_refused(await client.post(LOGIN, content=body, headers=JSON), 400, "malformed_json")
    assert problem in answer["detail"]


def test_the_depth_scan_ignores_brackets_inside_strings():
    assert checked_json(b'{"a": "' + b"[" * 1000 + b'"}') == {"a": "[" * 1000}
    assert checked_json(b'["\\"[[[", 1]') == ['"[[[', 1]


@pytest.mark.parametrize("path", ["/api/guidance/events?to=9999-12-31", "/api/guidance/events?from=0001-01-01"])
async def test_far_dates_in_a_query_are_out_of_range_not_an_overflow(client, path):
    answer = assert_refused(await client.get(path), 422, "out_of_range")
    assert answer["extra"]["key"] in ("to", "from")


async def test_dates_inside_the_years_answer(client):
    assert (await client.get("/api/guidance/events?to=2199-12-31&from=1900-01-01")).status_code == 200


def test_far_dates_in_a_body_are_out_of_range():
    class Inner(msgspec.Struct):
        at: dt.datetime

    class Body(msgspec.Struct):
        day: dt.date
        items: list[Inner]

    check_dates(Body(dt.date(2026, 12, 8), [Inner(dt.datetime(2199, 12, 31, 23, 59))]))
    with pytest.raises(RuleViolation) as refused:
        check_dates(Body(dt.date(2026, 12, 8), [Inner(dt.datetime(9999, 12, 31))]))
    assert refused.value.code == "out_of_range" and refused.value.extra["key"] == "items[0].at"
    with pytest.raises(RuleViolation):
        check_dates(Body(dt.date(1, 1, 1), []))


@pytest.mark.parametrize(
    "query", ["lat=46.59&lng=125.1&limit=99999999999999999999999", "lat=NaN&lng=125.1", "lat=1e400&lng=125.1"]
)
async def test_numbers_beyond_64_bits_or_not_finite_are_out_of_range(client, query):
    assert_refused(await client.get(f"/api/institutions/nearby?{query}"), 422, "out_of_range")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"login": 1e400, "password": "x"}', "out_of_range"),
        (b'{"login": 123456789012345678901234567890, "password": "x"}', "out_of_range"),
        (b'{"login": "a\\u0000b", "password": "x"}', "bad_text"),
        (b'{"login": "a\\ud800b", "password": "x"}', "bad_text"),
    ],
)
async def test_json_no_field_can_take_is_a_422(client, body, code):
    """Well-formed (even schema-valid) JSON: numbers beyond 64 bits, NUL and lone surrogates."""
    assert_refused(await client.post(LOGIN, content=body, headers=JSON), 422, code)


@pytest.mark.parametrize("query", ["q=%FF", "q=%C0%AF"])
async def test_a_query_that_is_not_utf8_is_refused(client, query):
    assert_refused(await client.get(f"/api/institutions?{query}"), 400, "bad_encoding")


@pytest.mark.parametrize("query", ["q=a%00b", "q=%1B", "q=%7F"])
async def test_a_query_with_nul_or_control_characters_is_refused(client, query):
    assert_refused(await client.get(f"/api/institutions?{query}"), 422, "bad_text")


@pytest.mark.parametrize(
    ("segment", "status", "code"),
    [
        ("%FF", 400, "bad_encoding"),
        ("%C0%AF", 400, "bad_encoding"),
        ("a%00b", 404, "not_found"),
        ("a%1Bb", 404, "not_found"),
    ],
)
async def test_a_path_that_is_not_utf8_or_has_nul_is_refused(client, segment, status, code):
    assert_refused(await client.get(f"/api/files/signed/{segment}"), status, code)


async def test_a_path_segment_no_file_system_holds_is_a_json_404(client):
    assert_refused(await client.get("/" + "x" * 300), 404, "not_found")


async def test_text_plain_is_not_json(client):
    """A cross-site form can send text/plain without a preflight: JSON routes refuse it."""
    response = await client.post(
        LOGIN, content=b'{"login": "13800000001", "password": "x"}', headers={"Content-Type": "text/plain"}
    )
    assert_refused(response, 415, "unsupported_media_type")
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/json;charset=UTF-8"])
async def test_json_with_its_charset_is_accepted(client, content_type):
    response = await client.post(
        LOGIN, content=b'{"login": "nobody@x.cn", "password": "x"}', headers={"Content-Type": content_type}
    )
    assert response.status_code == 401  # read, and the account does not exist


@pytest.mark.parametrize("path", [LOGIN, "/api/auth/logout", "/api/auth/code"])
async def test_sign_in_and_out_from_another_site_is_refused(client, path):
    response = await client.post(
        path,
        json={"login": "13800000001", "password": "x"},
        headers={"Origin": "https://evil.example"},
    )
    assert_refused(response, 403, "cross_origin")
    assert "set-cookie" not in response.headers


async def test_sign_in_from_our_own_pages_is_read(client):
    response = await client.post(
        LOGIN, json={"login": "nobody@x.cn", "password": "x"}, headers={"Origin": "http://127.0.0.1:8000"}
    )
    assert response.status_code == 401


async def test_head_answers_like_get_without_a_body(client):
    path = "/api/institutions/nearby?lat=46.59&lng=125.1"
    get, head = await client.get(path), await client.head(path)
    assert get.status_code == head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"]


async def test_head_on_a_missing_resource_is_404(client):
    response = await client.head("/api/institutions/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404 and response.content == b""


async def test_deep_links_name_their_charset_once(client):
    response = await client.get("/bookings/123", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
