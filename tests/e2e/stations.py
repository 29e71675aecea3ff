"""Real OCPP charge points for the end-to-end tests, built on the ``ocpp`` package's client."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import websockets
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v21 import ChargePoint as ChargePoint21
from ocpp.v201 import ChargePoint as ChargePoint201

VERSIONS = {
    "1.6": ("ocpp1.6", ChargePoint16),
    "2.0.1": ("ocpp2.0.1", ChargePoint201),
    "2.1": ("ocpp2.1", ChargePoint21),
}


def new_station_id(prefix: str = "E2E") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def new_password() -> str:
    return secrets.token_urlsafe(18)[:24]


def basic_auth(station_id: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{station_id}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def register_station(admin: httpx.AsyncClient, station_id: str, password: str) -> None:
    response = await admin.post("/stations", json={"station_id": station_id, "password": password})
    assert response.status_code == 201, response.text


async def create_token(admin: httpx.AsyncClient, value: str, **fields: Any) -> None:
    response = await admin.post("/id-tokens", json={"value": value, **fields})
    assert response.status_code == 201, response.text


@asynccontextmanager
async def charge_point(
    gateway_url: str,
    station_id: str,
    password: str,
    *,
    version: str = "1.6",
    station_class: type | None = None,
) -> AsyncIterator[Any]:
    """A connected ``ocpp`` ChargePoint (``station_class``, or the plain one of ``version``)
    whose receive loop runs in the background."""
    subprotocol, cls = VERSIONS[version]
    cls = station_class or cls
    async with websockets.connect(
        f"{gateway_url}/{station_id}",
        subprotocols=[subprotocol],  # type: ignore[list-item]
        additional_headers=basic_auth(station_id, password),
    ) as ws:
        cp = cls(station_id, ws)
        receiver = asyncio.create_task(cp.start())
        try:
            yield cp
        finally:
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                await receiver


@asynccontextmanager
async def raw_socket(
    gateway_url: str, station_id: str, password: str, subprotocol: str = "ocpp1.6"
) -> AsyncIterator[Any]:
    async with websockets.connect(
        f"{gateway_url}/{station_id}",
        subprotocols=[subprotocol],  # type: ignore[list-item]
        additional_headers=basic_auth(station_id, password),
    ) as ws:
        yield ws
