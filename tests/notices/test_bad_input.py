"""Bad input on notices: oversized, too many attachments, markup anywhere. Stored XSS must be
impossible: refused at the door, and whatever gets in renders to a short allow-list of HTML."""

from html.parser import HTMLParser

import msgspec
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select

from backend.core.errors import RuleViolation
from backend.notices.markup import LINK_SCHEMES, TAGS, render
from backend.notices.models import Notice
from backend.notices.schemas import NoticeIn
from tests.community import build_community


@pytest.fixture
async def c(factory):
    return await build_community(factory)


async def notice_count(db, c) -> int:
    return await db.scalar(select(func.count()).select_from(Notice).where(Notice.institution_id == c.inst.id))


BAD_BODIES = [
    {"title": "<script>alert(1)</script>"},
    {"title": "正常", "body": "<img src=x onerror=alert(1)>"},
    {"title": "正常", "body": "hello <script>alert(1)</script>", "body_format": "plain"},
    {"title": "正常", "body": "[点我](javascript:alert(document.cookie))", "body_format": "markdown"},
    {"title": "正常", "body": "[点我](  JAVASCRIPT:alert(1))", "body_format": "markdown"},
    {"title": "正常", "body": "[点我](data:text/html;base64,PHNjcmlwdD4=)", "body_format": "markdown"},
    {"title": "正常", "body": "![x](https://example.com/a.png)", "body_format": "markdown"},
    {"title": "正常", "body": "<a href='https://x'>x</a>", "body_format": "markdown"},
    {"title": "正常", "body": "x" * 10_001},
    {"title": "标" * 101},
    {"title": "   "},
    {"title": "two\nlines"},
    {"title": "正常", "attachment_ids": [f"00000000-0000-4000-8000-{i:012d}" for i in range(10)]},
    {"title": "正常", "body_format": "html"},
    {"title": "正常", "audience": "class"},
    {"title": "正常", "audience": "everyone"},
    {"title": "正常", "publish_at": "2026-13-01T00:00:00Z"},
    {"title": "正常", "publish_at": "2026-12-01T08:00:00"},
    {"title": "正常", "expires_at": "2020-01-01T00:00:00Z"},
    {"title": "正常", "publish_at": "2099-01-01T00:00:00Z"},
    {"title": "正常", "unknown_field": 1},
]


@pytest.mark.parametrize("body", BAD_BODIES, ids=range(len(BAD_BODIES)))
async def test_bad_notices_get_a_clear_4xx_and_write_nothing(client, db, c, body):
    r = await client.post(f"/api/institutions/{c.inst.id}/notices", headers=c.staff.headers, json=body)
    assert 400 <= r.status_code < 500, r.text
    error = r.json()
    assert error["code"] and error["detail"] and error["detail_zh"]
    assert await notice_count(db, c) == 0


async def test_an_oversized_request_is_refused_before_it_is_read(client, db, c):
    r = await client.post(
        f"/api/institutions/{c.inst.id}/notices",
        headers={**c.staff.headers, "content-type": "application/json"},
        content=b'{"title": "x", "body": "' + b"x" * 2_000_000 + b'"}',
    )
    assert r.status_code == 413
    assert await notice_count(db, c) == 0


async def test_markup_in_edits_and_answers_is_refused_too(client, db, c):
    r = await client.post(
        f"/api/institutions/{c.inst.id}/notices",
        headers=c.staff.headers,
        json={
            "title": "征求意见",
            "consultation": {
                "question": "时间？",
                "choice_mode": "none",
                "allow_text": True,
                "deadline": "2099-01-01T00:00:00Z",
            },
        },
    )
    # The deadline is fine (no expiry set); the notice is created.
    assert r.status_code == 201, r.text
    notice_id = r.json()["id"]
    r = await client.patch(f"/api/notices/{notice_id}", headers=c.staff.headers, json={"body": "<iframe src=x>"})
    assert r.status_code == 400
    r = await client.put(
        f"/api/notices/{notice_id}/answer", headers=c.parent_a.headers, json={"text": "<svg onload=alert(1)>"}
    )
    assert r.status_code == 400
    detail = (await client.get(f"/api/notices/{notice_id}", headers=c.staff.headers)).json()
    assert detail["version"] == 1 and detail["body"] == ""


# ---------------------------------------------------------------------------------------------- the renderer


class AllowListChecker(HTMLParser):
    """Fails on any tag, attribute or URL scheme outside the allow-list."""

    def handle_starttag(self, tag, attrs):
        assert tag in TAGS, tag
        for name, value in attrs:
            assert tag == "a" and name in {"href", "rel"}, (tag, name)
            if name == "href":
                assert value.split(":", 1)[0].lower() in LINK_SCHEMES, value

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_comment(self, data):
        raise AssertionError("comment in output")


PIECES = st.sampled_from(
    [
        "<",
        ">",
        "&",
        '"',
        "'",
        "`",
        "[",
        "]",
        "(",
        ")",
        "!",
        "*",
        "_",
        "#",
        "\n",
        "\n\n",
        " ",
        ":",
        "/",
        "javascript:",
        "JaVaScRiPt:",
        "data:",
        "vbscript:",
        "https://a.cn",
        "mailto:x@y.cn",
        "script",
        "img",
        "onerror=",
        "alert(1)",
        "&lt;",
        "&#60;",
        "&#x3C;",
        "\\",
        "<!--",
        "-->",
        "style",
        "svg",
        "文字",
        "- ",
        "> ",
    ]
)


@hsettings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(PIECES, max_size=40), fmt=st.sampled_from(["plain", "markdown"]))
def test_whatever_passes_validation_renders_to_allow_listed_html(pieces, fmt):
    body = "".join(pieces)
    try:
        data = msgspec.convert({"title": "t", "body": body, "body_format": fmt}, NoticeIn)
    except msgspec.ValidationError:
        return  # refused at the door: 4xx
    try:
        html = render(data.body, data.body_format)
    except RuleViolation:
        return  # refused by the renderer: 422
    checker = AllowListChecker(convert_charrefs=True)
    checker.feed(html)
    checker.close()
    assert "<script" not in html.lower()
