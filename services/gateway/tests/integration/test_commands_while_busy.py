"""A station's answer to an operator command is read while that station's own request is still
waiting on a slow service: the gateway's reader never queues behind its call worker (the trap
of the ``ocpp`` package's sequential receive loop)."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import websockets

from opencpms_contracts import authorization as auth
from opencpms_contracts.commands import ClearCache, StationCommand
from opencpms_contracts.common import AuthorizationStatus, IdTokenInfo
from opencpms_simulator.connection import basic_auth_header

pytestmark = pytest.mark.integration


class SlowAuthorization:
    """The authorization service's operations, served on the real broker, with Authorize held
    until the test releases it."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.authorize_waiting = asyncio.Event()

    async def authenticate(self, request: auth.AuthenticateStation) -> auth.StationAuthentication:
        return auth.StationAuthentication(accepted=True)

    async def authorize(self, request: auth.AuthorizeIdToken) -> IdTokenInfo:
        self.authorize_waiting.set()
        await self.release.wait()
        return IdTokenInfo(status=AuthorizationStatus.ACCEPTED)


async def test_command_answer_is_not_blocked_by_a_slow_backend_call(start_gateway, own_broker):
    service = SlowAuthorization()
    server = await own_broker.rpc_server("authorization")
    server.register(auth.AUTHENTICATE_STATION, service.authenticate)
    server.register(auth.AUTHORIZE, service.authorize)
    await server.start()
    node = await start_gateway(rpc_timeout_s=30)
    commander = await own_broker.commander()
    station_id = f"BUSY-{uuid.uuid4().hex[:6]}"
    try:
        async with websockets.connect(
            f"ws://127.0.0.1:{node.port}/ocpp/{station_id}",
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            additional_headers=basic_auth_header(station_id, "secret-password-1"),
        ) as ws:
            await ws.send(json.dumps([2, "a1", "Authorize", {"idTag": "TAG1"}]))
            await asyncio.wait_for(service.authorize_waiting.wait(), 10)

            async def station() -> None:
                frame = json.loads(await ws.recv())
                assert frame[2] == "ClearCache"
                await ws.send(json.dumps([3, frame[1], {"status": "Accepted"}]))

            answering = asyncio.create_task(station())
            answer = await commander.send(
                StationCommand(station_id=station_id, command=ClearCache(), timeout_s=10)
            )
            await answering
            assert answer.status == "Accepted"
            assert not service.release.is_set()  # Authorize is still waiting on the service
            service.release.set()
            reply = json.loads(await ws.recv())
            assert reply[:2] == [3, "a1"]
            assert reply[2]["idTagInfo"]["status"] == "Accepted"
    finally:
        service.release.set()
