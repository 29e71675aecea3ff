"""Issue: an operator starts and stops a charging session from the admin API; the station
is an ``ocpp`` client, the session becomes a real transaction and its CDR follows."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.e2e.conftest import eventually
from tests.e2e.remote_stations import METER_START_WH, METER_STOP_WH, REMOTE_STATIONS
from tests.e2e.stations import (
    charge_point,
    create_token,
    new_password,
    new_station_id,
    register_station,
)

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_remote_start_and_stop_make_a_billed_transaction(running_system, admin, version):
    station_id, password = new_station_id("RMT"), new_password()
    tag = f"R{uuid.uuid4().hex[:8]}"
    await register_station(admin, station_id, password)
    await create_token(admin, tag)
    async with charge_point(
        running_system.gateway_url,
        station_id,
        password,
        version=version,
        station_class=REMOTE_STATIONS[version],
    ) as station:

        async def connected():
            return (await admin.get(f"/stations/{station_id}")).json()["connected"]

        await eventually(connected)
        started = await admin.post(
            f"/stations/{station_id}/commands",
            json={"command": {"kind": "remote_start", "id_token": {"value": tag}, "evse_id": 1}},
        )
        assert started.status_code == 200, started.text
        assert started.json()["status"] == "Accepted"
        assert started.json()["ocpp_version"] == version
        await asyncio.wait_for(station.started.wait(), 10)

        async def running():
            listed = (
                await admin.get(
                    "/transactions", params={"station_id": station_id, "status": "Running"}
                )
            ).json()
            return listed["items"][0] if listed["total"] == 1 else None

        transaction = await eventually(running)
        assert transaction["id_token"]["value"] == tag
        stopped = await admin.post(
            f"/stations/{station_id}/commands",
            json={
                "command": {
                    "kind": "remote_stop",
                    "station_transaction_id": transaction["station_transaction_id"],
                }
            },
        )
        assert stopped.status_code == 200, stopped.text
        assert stopped.json()["status"] == "Accepted"
        await asyncio.wait_for(station.stopped.wait(), 10)

    async def billed():
        listed = (await admin.get("/cdrs", params={"station_id": station_id})).json()
        return listed["items"][0] if listed["total"] == 1 else None

    cdr = await eventually(billed)
    assert cdr["transaction_id"] == transaction["transaction_id"]
    assert cdr["energy_wh"] == METER_STOP_WH - METER_START_WH
    ended = (await admin.get(f"/transactions/{transaction['transaction_id']}")).json()
    assert ended["status"] == "Ended"
    assert ended["stop_reason"] == "Remote"

    audit = (await admin.get("/audit-log", params={"station_id": station_id})).json()
    actions = [(e["action"], e["outcome"]) for e in reversed(audit["items"])]
    assert ("command.remote_start", "ok") in actions
    assert ("command.remote_stop", "ok") in actions


async def test_a_viewer_may_look_but_not_command(running_system, admin):
    import httpx

    issued = (await admin.post("/api-keys", json={"name": "e2e viewer", "role": "viewer"})).json()
    async with httpx.AsyncClient(
        base_url=running_system.admin_url + "/api/v1",
        headers={"Authorization": f"Bearer {issued['key']}"},
    ) as viewer:
        assert (await viewer.get("/stations")).status_code == 200
        response = await viewer.post(
            "/stations/ANY-1/commands", json={"command": {"kind": "clear_cache"}}
        )
        assert response.status_code == 403


async def test_local_list_sync_sends_the_id_tokens_authorization_holds(running_system, admin):
    from tests.e2e.answering_station import answering_station

    station_id, password = new_station_id("LL"), new_password()
    accepted, blocked = f"LLA{uuid.uuid4().hex[:6]}", f"LLB{uuid.uuid4().hex[:6]}"
    await register_station(admin, station_id, password)
    await create_token(admin, accepted)
    await create_token(admin, blocked, status="Blocked")
    async with answering_station(running_system.gateway_url, station_id, password) as station:
        response = await admin.post(f"/stations/{station_id}/local-list/sync", json={"version": 42})
        assert response.status_code == 200, response.text
        assert response.json()["action"] == "SendLocalList"
    action, payload = station.received[-1]
    assert action == "SendLocalList"
    assert payload["listVersion"] == 42
    assert payload["updateType"] == "Full"
    statuses = {e["idTag"]: e["idTagInfo"]["status"] for e in payload["localAuthorizationList"]}
    assert statuses[accepted] == "Accepted"
    assert statuses[blocked] == "Blocked"
