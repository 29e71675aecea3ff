"""A charge point on a raw websocket that answers every CALL it receives with a canned, valid
answer and records what it got, to check where commands land and what they carry."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import websockets

from tests.e2e.stations import basic_auth

SUBPROTOCOLS = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1", "2.1": "ocpp2.1"}

_ACCEPTED = {"status": "Accepted"}
ANSWERS: dict[str, dict[str, Any]] = {
    "GetConfiguration": {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False}]},
    "GetLocalListVersion": {"listVersion": 3},
    "GetDiagnostics": {"fileName": "diag.zip"},
    "GetCompositeSchedule": {"status": "Rejected"},
    "GetVariables": {
        "getVariableResult": [
            {
                "attributeStatus": "Accepted",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
                "attributeValue": "300",
            }
        ]
    },
    "SetVariables": {
        "setVariableResult": [
            {
                "attributeStatus": "Accepted",
                "component": {"name": "EVSE"},
                "variable": {"name": "Power"},
            }
        ]
    },
    "GetLog": {"status": "Accepted", "filename": "log.zip"},
    "RemoteStopTransaction": _ACCEPTED,
    "RequestStopTransaction": _ACCEPTED,
    "UpdateFirmware": _ACCEPTED,
}
ANSWERS_V2 = {**ANSWERS, "GetLocalListVersion": {"versionNumber": 3}, "UpdateFirmware": _ACCEPTED}
ANSWERS_V16 = {**ANSWERS, "UpdateFirmware": {}}


@dataclass
class AnsweringStation:
    station_id: str
    version: str
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    silent: set[str] = field(default_factory=set)
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    def answer(self, action: str) -> dict[str, Any]:
        answers = ANSWERS_V16 if self.version == "1.6" else ANSWERS_V2
        return answers.get(action, _ACCEPTED)

    async def serve(self, ws: Any) -> None:
        try:
            await self._answer_calls(ws)
        finally:
            self.closed.set()

    async def _answer_calls(self, ws: Any) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            if frame[0] != 2:
                continue
            _, message_id, action, payload = frame
            self.received.append((action, payload))
            if action in self.silent:
                continue
            if action in self.refuse:
                reply = [4, message_id, "InternalError", "refused for the test", {}]
            else:
                reply = [3, message_id, self.answer(action)]
            await ws.send(json.dumps(reply))


@asynccontextmanager
async def answering_station(
    gateway_url: str, station_id: str, password: str, version: str = "1.6"
) -> AsyncIterator[AnsweringStation]:
    station = AnsweringStation(station_id, version)
    async with websockets.connect(
        f"{gateway_url}/{station_id}",
        subprotocols=[SUBPROTOCOLS[version]],  # type: ignore[list-item]
        additional_headers=basic_auth(station_id, password),
    ) as ws:
        # The gateway reads a station's first frame only once it has bound the station to its
        # command queue, so an answered Heartbeat means commands can reach this station.
        await ws.send(json.dumps([2, "hello", "Heartbeat", {}]))
        assert json.loads(await ws.recv())[:2] == [3, "hello"]
        task = asyncio.create_task(station.serve(ws))
        try:
            yield station
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                await task
