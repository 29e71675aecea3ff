"""Issue: operator commands reach a station through whichever of two gateway processes holds
it, over the broker's RPC contract (what an operator's own service would use)."""

from __future__ import annotations

import asyncio

import pytest

from opencpms_contracts.command_examples import COMMAND_EXAMPLES
from opencpms_contracts.commands import ClearCache, Reset, StationCommand
from opencpms_messaging.rpc_errors import (
    NotSupportedError,
    RpcTimeoutError,
    StationCallError,
    StationOfflineError,
)
from tests.e2e.answering_station import answering_station
from tests.e2e.conftest import eventually
from tests.e2e.stations import new_password, new_station_id, register_station

pytestmark = pytest.mark.e2e

ONLY_16 = {"get_configuration", "change_configuration"}
ONLY_2 = {"get_variables", "set_variables", "get_base_report"}


@pytest.fixture(scope="module")
async def commander(events_broker):
    return await events_broker.commander()


async def connected_on(admin, station_id: str) -> None:
    async def bound():
        body = (await admin.get(f"/stations/{station_id}")).json()
        return body.get("connected")

    await eventually(bound)


@pytest.mark.parametrize(("version", "node"), [("1.6", 0), ("2.0.1", 1), ("2.1", 0)])
async def test_every_command_reaches_the_right_station(
    running_system, admin, commander, version, node
):
    here, there = new_station_id("CMD"), new_station_id("CMD")
    password = new_password()
    for station_id in (here, there):
        await register_station(admin, station_id, password)
    urls = running_system.gateway_urls
    async with (
        answering_station(urls[node], here, password, version) as target,
        answering_station(urls[1 - node], there, password, version) as bystander,
    ):
        unsupported = ONLY_2 if version == "1.6" else ONLY_16
        sent = []
        for kind, command in COMMAND_EXAMPLES.items():
            request = StationCommand(station_id=here, command=command, timeout_s=10)
            if kind in unsupported:
                with pytest.raises(NotSupportedError):
                    await commander.send(request)
                continue
            answer = await commander.send(request)
            sent.append(answer.action)
            assert answer.station_id == here
            assert answer.ocpp_version == version
        assert [action for action, _ in target.received] == sent
        assert bystander.received == []
    assert "Reset" in sent
    assert ("RemoteStartTransaction" if version == "1.6" else "RequestStartTransaction") in sent


async def test_answers_and_errors_are_the_stations(running_system, admin, commander):
    station_id, password = new_station_id("CMD"), new_password()
    await register_station(admin, station_id, password)
    async with answering_station(running_system.gateway_url, station_id, password) as station:
        station.refuse.add("Reset")
        station.silent.add("ClearCache")
        with pytest.raises(StationCallError) as refused:
            await commander.send(StationCommand(station_id=station_id, command=Reset(type="soft")))
        assert refused.value.details["error_code"] == "InternalError"
        with pytest.raises(RpcTimeoutError):
            await commander.send(
                StationCommand(station_id=station_id, command=ClearCache(), timeout_s=1)
            )
        station.silent.clear()
        # The station's channel is free again after a timeout: the next command is answered.
        answer = await commander.send(StationCommand(station_id=station_id, command=ClearCache()))
        assert answer.status == "Accepted"


async def test_offline_station_fails_with_offline_not_a_timeout(running_system, admin, commander):
    station_id, password = new_station_id("CMD"), new_password()
    await register_station(admin, station_id, password)
    request = StationCommand(station_id=station_id, command=ClearCache(), timeout_s=30)
    loop = asyncio.get_running_loop()
    began = loop.time()
    with pytest.raises(StationOfflineError):
        await commander.send(request)
    # Reported by the broker returning the message, not by waiting out the 30 s timeout.
    print(f"offline reported after {loop.time() - began:.3f} s")  # noqa: T201


async def test_station_moved_to_the_other_node_is_commanded_there_once(
    running_system, admin, commander
):
    station_id, password = new_station_id("MOV"), new_password()
    await register_station(admin, station_id, password)
    node_a, node_b = running_system.gateway_urls
    async with answering_station(node_a, station_id, password) as on_a:
        await commander.send(StationCommand(station_id=station_id, command=ClearCache()))
        async with answering_station(node_b, station_id, password) as on_b:
            # Node A closes its stale socket once it hears of the newer connection on B.
            await asyncio.wait_for(on_a.closed.wait(), 20)
            before_a = len(on_a.received)
            for _ in range(5):
                await commander.send(
                    StationCommand(station_id=station_id, command=Reset(type="soft"))
                )
            assert len(on_a.received) == before_a
            assert [a for a, _ in on_b.received].count("Reset") == 5
