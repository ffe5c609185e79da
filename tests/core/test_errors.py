"""Every failure answers the one JSON error shape; bad input never reaches the database."""

import pytest


def assert_error_shape(body: dict, status: int) -> None:
    assert set(body) == {"status_code", "code", "detail", "detail_zh", "extra"}
    assert body["status_code"] == status
    assert body["detail"] and body["detail_zh"]


async def test_unknown_route_is_a_json_404(client):
    response = await client.get("/api/does-not-exist")
    assert response.status_code == 404
    assert_error_shape(response.json(), 404)


async def test_wrong_method_is_a_json_405(client):
    response = await client.delete("/api/units")
    assert response.status_code == 405
    assert_error_shape(response.json(), 405)


async def test_malformed_json_is_a_400(client):
    response = await client.post("/api/auth/login", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert_error_shape(response.json(), 400)


async def test_unknown_fields_are_rejected(client):
    response = await client.post("/api/auth/login", json={"login": "a@b.cn", "password": "x", "admin": True})
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


async def test_oversized_body_is_refused_with_413(client, settings):
    payload = b'{"login": "' + b"a" * (settings.max_body_bytes + 10) + b'", "password": "x"}'
    response = await client.post("/api/auth/login", content=payload, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert_error_shape(response.json(), 413)


@pytest.mark.parametrize(
    "path", ["/api/institutions/not-a-uuid", "/api/institutions/00000000-0000-0000-0000-000000000000"]
)
async def test_unknown_ids_are_404(client, path):
    response = await client.get(path)
    assert response.status_code == 404
    assert_error_shape(response.json(), 404)


async def test_wrong_types_in_query_are_400_naming_the_field(client):
    response = await client.get("/api/institutions/nearby", params={"lat": "north", "lng": 125})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert any(item["key"] == "lat" for item in body["extra"])
    assert "lat" in body["detail_zh"]


async def test_plain_options_request_describes_the_route(client):
    response = await client.options("/api/me")
    assert response.status_code == 204
    assert "GET" in response.headers["allow"]


async def test_json_bodies_are_validated_strictly(client, factory):
    """0 is not false and "3" is not 3: the server rejects what the schema rejects."""
    from backend.core.authz import Role

    _, headers = await factory.signed_in(Role.PARENT)
    lax = await client.put(
        "/api/me/notification-preferences",
        headers=headers,
        json={"preferences": [{"category": "notices", "websocket": 0, "push": True}]},
    )
    assert lax.status_code == 400
    assert lax.json()["extra"][0]["key"] == "preferences[0].websocket"
    inst = await factory.institution()
    _, staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=inst.id)
    text_number = await client.post(
        f"/api/institutions/{inst.id}/classes",
        headers=staff,
        json={"name": "x", "class_type": "toddler", "capacity": "5", "carers": 1},
    )
    assert text_number.status_code == 400
    assert text_number.json()["extra"][0]["key"] == "capacity"
