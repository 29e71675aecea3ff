"""Opening a simulated station's websocket the way a real one does: subprotocol offered,
HTTP Basic credentials with the station id as user name."""

from __future__ import annotations

import base64
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import websockets
from websockets.asyncio.client import ClientConnection

SUBPROTOCOLS = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1", "2.1": "ocpp2.1"}


def basic_auth_header(station_id: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{station_id}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@asynccontextmanager
async def station_socket(
    url: str,
    station_id: str,
    password: str,
    version: str,
    *,
    open_timeout: float = 10.0,
    tls: ssl.SSLContext | None = None,
) -> AsyncIterator[ClientConnection]:
    """``url`` is the gateway's base (``ws://host:9000/ocpp``); the station id is appended."""
    async with websockets.connect(
        f"{url.rstrip('/')}/{station_id}",
        subprotocols=[SUBPROTOCOLS[version]],  # type: ignore[list-item]
        additional_headers=basic_auth_header(station_id, password),
        open_timeout=open_timeout,
        ssl=tls,
        compression=None,
    ) as socket:
        yield socket
