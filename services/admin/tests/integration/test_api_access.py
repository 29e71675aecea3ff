"""Authentication and roles on the real app, with keys stored in the real database."""

import pytest

pytestmark = pytest.mark.integration


async def test_no_key_wrong_key_and_revoked_key_are_refused(api, client_for):
    async with client_for(None) as anonymous:
        response = await anonymous.get("/stations")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    async with client_for("ocpms_not-a-key") as stranger:
        assert (await stranger.get("/stations")).status_code == 401

    issued = (await api.post("/api-keys", json={"name": "soon revoked", "role": "viewer"})).json()
    async with client_for(issued["key"]) as holder:
        assert (await holder.get("/stations")).status_code == 200
        assert (await api.delete(f"/api-keys/{issued['key_id']}")).status_code == 204
        assert (await holder.get("/stations")).status_code == 401


async def test_x_api_key_header_works_as_well(api, admin_service, bootstrap_key):
    import httpx

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=admin_service.app),
        base_url="http://admin.test/api/v1",
        headers={"X-API-Key": bootstrap_key},
    ) as client:
        assert (await client.get("/stations")).status_code == 200


async def test_health_needs_no_key(client_for):
    async with client_for(None) as anonymous:
        response = await anonymous.get("http://admin.test/healthz")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("viewer", set()), ("operator", {"command"}), ("admin", {"command", "keys", "audit"})],
)
async def test_roles_limit_what_a_key_may_do(api, client_for, role, allowed):
    issued = (await api.post("/api-keys", json={"name": f"a {role}", "role": role})).json()
    async with client_for(issued["key"]) as client:
        assert (await client.get("/stations")).status_code == 200
        command = await client.post(
            "/stations/NOBODY-HERE/commands", json={"command": {"kind": "clear_cache"}}
        )
        # Allowed, the command fails only because the station is offline.
        assert command.status_code == (409 if "command" in allowed else 403)
        keys = await client.get("/api-keys")
        assert keys.status_code == (200 if "keys" in allowed else 403)
        audit = await client.get("/audit-log")
        assert audit.status_code == (200 if "audit" in allowed else 403)


async def test_key_names_are_unique(api):
    first = await api.post("/api-keys", json={"name": "twice", "role": "viewer"})
    second = await api.post("/api-keys", json={"name": "twice", "role": "viewer"})
    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["code"] == "conflict"


async def test_listed_keys_never_show_the_key(api):
    issued = (await api.post("/api-keys", json={"name": "listed", "role": "operator"})).json()
    listed = (await api.get("/api-keys", params={"limit": 500})).json()
    mine = next(k for k in listed["items"] if k["key_id"] == issued["key_id"])
    assert mine["role"] == "operator"
    assert mine["created_by"] == "environment"
    assert issued["key"] not in str(listed)
