"""Commands through the API: errors typed, every attempt audited."""

import uuid

import pytest

pytestmark = pytest.mark.integration


async def test_offline_station_is_reported_at_once_and_audited(api):
    station_id = f"OFFLINE-{uuid.uuid4().hex[:8]}"
    response = await api.post(
        f"/stations/{station_id}/commands",
        json={"command": {"kind": "reset", "type": "hard"}, "timeout_s": 30},
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "offline"
    assert station_id in body["message"]

    audit = (await api.get("/audit-log", params={"station_id": station_id})).json()
    assert audit["total"] == 1
    entry = audit["items"][0]
    assert entry["actor"] == "environment"
    assert entry["action"] == "command.reset"
    assert entry["outcome"] == "offline"
    assert entry["request"] == {"kind": "reset", "type": "hard"}


async def test_a_command_that_is_not_one_is_refused_before_sending(api):
    response = await api.post("/stations/ANY/commands", json={"command": {"kind": "self_destruct"}})
    assert response.status_code == 422


async def test_a_malformed_station_id_is_refused(api):
    response = await api.post(
        "/stations/not%20valid/commands", json={"command": {"kind": "clear_cache"}}
    )
    assert response.status_code == 422
