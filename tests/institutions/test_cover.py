"""Institution cover photos: set by the institution's staff through the image pipeline (EXIF removed),
shown on search cards (nearby, list) and the detail, served publicly; refused for others."""

from __future__ import annotations

import uuid

import pytest

from backend.core.authz import Role
from backend.institutions.schemas import InstitutionDetail, NearbyPage
from tests.imagedata import PNG, assert_no_metadata, photo_with_gps
from tests.strict import strict


@pytest.fixture
async def inst(factory):
    return await factory.institution(name="封面测试托育园", classes=[("toddler", 15, 3, 5)], lat=46.59, lng=125.10)


async def upload(client, headers, data=PNG, *, purpose="notice_image", content_type="image/png"):
    files = {"file": ("photo", data, content_type)}
    return await client.post("/api/uploads", params={"purpose": purpose}, files=files, headers=headers)


async def cover_upload(client, headers) -> uuid.UUID:
    r = await upload(client, headers, photo_with_gps(), purpose="institution_cover", content_type="image/jpeg")
    assert r.status_code == 201, r.text
    return uuid.UUID(r.json()["id"])


async def test_staff_set_a_cleaned_cover_shown_on_cards_and_served_to_anyone(client, factory, inst):
    _, staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=inst.id)
    first = await cover_upload(client, staff)
    r = await client.put(f"/api/institutions/{inst.id}/cover", headers=staff, json={"upload_id": str(first)})
    assert r.status_code == 200, r.text
    cover = strict(r.content, InstitutionDetail).cover
    assert cover is not None and cover.url == f"/api/institutions/{inst.id}/cover/{first}"
    assert cover.width > 0 and cover.height > 0

    # Anyone may fetch it (no sign-in); the bytes carry no EXIF (GPS, camera, time).
    photo = await client.get(cover.url)
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert photo.headers["x-content-type-options"] == "nosniff"
    assert_no_metadata(photo.content)

    # The search cards carry it; others have none.
    other = await factory.institution(name="无封面托育园", classes=[("toddler", 15, 3, 5)], lat=46.591, lng=125.10)
    r = await client.get("/api/institutions/nearby", params={"lat": 46.59, "lng": 125.10, "radius_m": 2000})
    covers = {i.id: i.cover for i in strict(r.content, NearbyPage).items}
    assert covers[inst.id] == cover and covers[other.id] is None
    listed = (await client.get("/api/institutions", params={"q": "封面测试"})).json()["items"]
    assert listed[0]["cover"]["url"] == cover.url

    # A new photo replaces it (new address; the old one no longer served); null removes it.
    second = await cover_upload(client, staff)
    r = await client.put(f"/api/institutions/{inst.id}/cover", headers=staff, json={"upload_id": str(second)})
    assert strict(r.content, InstitutionDetail).cover.url.endswith(str(second))
    assert (await client.get(cover.url)).status_code == 404
    r = await client.put(f"/api/institutions/{inst.id}/cover", headers=staff, json={"upload_id": None})
    assert r.status_code == 200 and strict(r.content, InstitutionDetail).cover is None


async def test_others_cannot_set_a_cover_nor_use_someone_elses_upload(client, factory, inst):
    _, admin = await factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=inst.id)
    elsewhere = await factory.institution(name="别家托育园", classes=[("toddler", 15, 3, 5)])
    _, other_staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=elsewhere.id)
    _, parent = await factory.signed_in(Role.PARENT)
    theirs = await cover_upload(client, other_staff)
    url = f"/api/institutions/{inst.id}/cover"
    # Another institution's staff: 404 (outside their scope); a parent: 403; anonymous: 401.
    assert (await client.put(url, headers=other_staff, json={"upload_id": str(theirs)})).status_code == 404
    assert (await client.put(url, headers=parent, json={"upload_id": None})).status_code == 403
    assert (await client.put(url, json={"upload_id": None})).status_code == 401
    # The admin cannot attach another account's upload, nor an upload of another purpose.
    r = await client.put(url, headers=admin, json={"upload_id": str(theirs)})
    assert r.status_code == 422 and r.json()["code"] == "upload_unusable"
    notice_image = (await upload(client, admin)).json()["id"]
    r = await client.put(url, headers=admin, json={"upload_id": notice_image})
    assert r.status_code == 422 and r.json()["code"] == "upload_unusable"
    assert (await client.get(f"/api/institutions/{inst.id}")).json()["cover"] is None
    # An unknown institution, a photo that is not its cover: 404.
    assert (
        await client.put(f"/api/institutions/{uuid.uuid4()}/cover", headers=admin, json={"upload_id": None})
    ).status_code == 404
    assert (await client.get(f"{url}/{theirs}")).status_code == 404
