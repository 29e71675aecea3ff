"""A gateway node full of starting stations answers further handshakes 503 with Retry-After,
before asking the backend anything, and lets them in once a starting station was answered."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
import websockets

from opencpms_contracts import authorization as auth
from opencpms_contracts.common import RegistrationStatus
from opencpms_gateway.bootstrap import GatewayNode
from opencpms_messaging.broker import Broker
from opencpms_simulator.connection import basic_auth_header

pytestmark = pytest.mark.integration

PASSWORD = "secret-password-1"
StartGateway = Callable[..., Awaitable[GatewayNode]]  # the start_gateway fixture


class CountingAuthorization:
    def __init__(self) -> None:
        self.checked: list[str] = []
        self.boot_waiting = asyncio.Event()
        self.release_boots = asyncio.Event()

    async def authenticate(self, request: auth.AuthenticateStation) -> auth.StationAuthentication:
        self.checked.append(request.station_id)
        accepted = request.password.get_secret_value() == PASSWORD
        return auth.StationAuthentication(accepted=accepted)

    async def boot(self, request: auth.BootStation) -> auth.BootDecision:
        self.boot_waiting.set()
        await self.release_boots.wait()
        return auth.BootDecision(status=RegistrationStatus.ACCEPTED, interval_s=300)


@asynccontextmanager
async def gateway(
    start_gateway: StartGateway, broker: Broker, **settings: float
) -> AsyncIterator[tuple[GatewayNode, CountingAuthorization]]:
    service = CountingAuthorization()
    server = await broker.rpc_server("authorization")
    server.register(auth.AUTHENTICATE_STATION, service.authenticate)
    server.register(auth.BOOT_STATION, service.boot)
    await server.start()
    node = await start_gateway(**{"admission_wait_s": 0, **settings})
    try:
        yield node, service
    finally:
        service.release_boots.set()


def connect(node: GatewayNode, station_id: str) -> websockets.connect:
    return websockets.connect(
        f"ws://127.0.0.1:{node.port}/ocpp/{station_id}",
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        additional_headers=basic_auth_header(station_id, PASSWORD),
    )


async def test_a_full_node_refuses_with_retry_after_until_a_starting_station_is_answered(
    start_gateway, own_broker
):
    async with (
        gateway(start_gateway, own_broker, max_starting=1, start_grace_s=60) as (node, auth),
        connect(node, "FIRST") as first,
    ):
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with connect(node, "SECOND"):
                pass
        response = refused.value.response
        assert response.status_code == 503
        assert int(response.headers["Retry-After"]) >= 1
        assert auth.checked == ["FIRST"]  # refused before the password check

        await first.send(json.dumps([2, "h1", "Heartbeat", {}]))
        assert json.loads(await first.recv())[:2] == [3, "h1"]
        async with connect(node, "SECOND") as second:
            assert second.subprotocol == "ocpp1.6"
        assert auth.checked == ["FIRST", "SECOND"]


async def refused_status(node: GatewayNode, station_id: str) -> int | None:
    """The HTTP status that refused the handshake, or None when it was let in."""
    try:
        async with connect(node, station_id):
            return None
    except websockets.InvalidStatus as exc:
        return exc.response.status_code


async def admitted_eventually(node: GatewayNode, station_id: str) -> None:
    async with asyncio.timeout(10):
        while True:
            status = await refused_status(node, station_id)
            if status is None:
                return
            assert status == 503
            await asyncio.sleep(0.05)


async def test_a_boot_still_being_answered_holds_its_place_past_the_grace_period(
    start_gateway, own_broker
):
    async with (
        gateway(start_gateway, own_broker, max_starting=1, start_grace_s=0.3) as (node, auth),
        connect(node, "BOOTING") as booting,
    ):
        boot = {"chargePointVendor": "V", "chargePointModel": "M"}
        await booting.send(json.dumps([2, "b1", "BootNotification", boot]))
        await asyncio.wait_for(auth.boot_waiting.wait(), 10)
        await asyncio.sleep(1)  # well past the grace period, the boot still with the service
        assert await refused_status(node, "NEXT") == 503
        auth.release_boots.set()
        assert json.loads(await booting.recv())[:2] == [3, "b1"]
        assert await refused_status(node, "NEXT") is None


async def test_a_closed_connection_gives_its_place_back(start_gateway, own_broker):
    async with gateway(start_gateway, own_broker, max_starting=1, start_grace_s=60) as (node, _):
        async with connect(node, "LEAVING"):
            assert await refused_status(node, "NEXT") == 503
        await admitted_eventually(node, "NEXT")


async def test_a_station_that_sends_nothing_stops_counting_after_the_grace_period(
    start_gateway, own_broker
):
    async with (
        gateway(start_gateway, own_broker, max_starting=1, start_grace_s=0.5) as (node, _),
        connect(node, "QUIET"),
    ):
        assert await refused_status(node, "NEXT") == 503
        await admitted_eventually(node, "NEXT")


async def test_a_handshake_waits_for_the_place_a_starting_station_leaves(start_gateway, own_broker):
    async with (
        gateway(start_gateway, own_broker, max_starting=1, admission_wait_s=10) as (node, auth),
        connect(node, "FIRST") as first,
    ):
        waiting = asyncio.create_task(refused_status(node, "SECOND"))
        await asyncio.sleep(0.5)
        assert not waiting.done()
        assert auth.checked == ["FIRST"]
        await first.send(json.dumps([2, "h1", "Heartbeat", {}]))
        assert json.loads(await first.recv())[:2] == [3, "h1"]
        assert await asyncio.wait_for(waiting, 5) is None  # let in, never refused


async def test_a_refused_authentication_gives_its_place_back(start_gateway, own_broker):
    async with gateway(start_gateway, own_broker, max_starting=1, start_grace_s=60) as (node, _):
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(
                f"ws://127.0.0.1:{node.port}/ocpp/WRONG",
                subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                additional_headers=basic_auth_header("WRONG", "x"),
            ):
                pass
        assert refused.value.response.status_code == 401
        async with connect(node, "RIGHT") as admitted:
            assert admitted.subprotocol == "ocpp1.6"
