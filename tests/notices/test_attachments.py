"""Images on notices go through the shared uploads and storage layer, and are served only to the
notice's audience."""

import io
import uuid

import pytest
from PIL import Image

from tests.community import build_community
from tests.notices.test_notices import post, posted


@pytest.fixture
async def c(factory):
    return await build_community(factory)


def png(color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(out, "PNG")
    return out.getvalue()


async def upload(client, who) -> str:
    r = await client.post(
        "/api/uploads?purpose=notice_image",
        headers=who.headers,
        files={"file": ("photo.png", png(), "image/png")},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def test_a_notice_carries_images_that_only_its_audience_can_fetch(client, c):
    ids = [await upload(client, c.staff) for _ in range(2)]
    n = await posted(client, c, audience="class", class_id=str(c.class_a), attachment_ids=ids)
    assert [a.id for a in n.attachments] == [uuid.UUID(i) for i in ids]
    assert n.attachments[0].width == 40 and n.attachments[0].content_type == "image/png"
    url = n.attachments[0].url
    r = await client.get(url, headers=c.parent_a.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(r.content)).size == (40, 30)
    for outsider in (c.parent_b, c.former, c.other_parent, c.other_staff):
        assert (await client.get(url, headers=outsider.headers)).status_code == 404
    assert (await client.get(url)).status_code == 401
    # An image of this notice is not reachable through another notice.
    other = await posted(client, c)
    assert (
        await client.get(f"/api/notices/{other.id}/attachments/{ids[0]}", headers=c.parent_a.headers)
    ).status_code == 404


async def test_someone_elses_upload_cannot_be_attached(client, db, c):
    theirs = await upload(client, c.admin)
    r = await post(client, c, attachment_ids=[theirs])
    assert r.status_code == 422, r.text
    mine = await upload(client, c.staff)
    await posted(client, c, attachment_ids=[mine])
    again = await post(client, c, attachment_ids=[mine])  # already attached elsewhere
    assert again.status_code == 422, again.text


async def test_editing_replaces_the_attachment_list(client, c):
    first, second = await upload(client, c.staff), await upload(client, c.staff)
    n = await posted(client, c, attachment_ids=[first])
    r = await client.patch(f"/api/notices/{n.id}", headers=c.staff.headers, json={"attachment_ids": [second]})
    assert r.status_code == 200, r.text
    assert [a["id"] for a in r.json()["attachments"]] == [second]
