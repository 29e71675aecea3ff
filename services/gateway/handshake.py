"""The websocket opening handshake: which station, which OCPP version, and is it who it says.

Everything is decided here, before a single frame is read (ARCHITECTURE §2, §6): a path that
names no station is 404, a handshake offering no OCPP version we speak is 400, and a station
that is unknown or gives the wrong password gets 401 and no websocket. A node already starting
as many stations as it may answers 503 with Retry-After before the password check
(``admission.py``).
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import urllib.parse
from dataclasses import dataclass
from http import HTTPStatus

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from opencpms_contracts import authorization as auth
from opencpms_gateway.admission import Admission, StartTicket
from opencpms_gateway.backend import Backend
from opencpms_messaging.rpc_errors import RpcError

log = logging.getLogger(__name__)

PATH = re.compile(r"^/ocpp/([^/?#]+)/?$")
STATION_ID = re.compile(r"^[A-Za-z0-9._:@\-]{1,48}$")
REALM = 'Basic realm="OpenCPMS", charset="UTF-8"'


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


def station_id_from_path(path: str) -> str | None:
    """``/ocpp/CP-1`` → ``CP-1`` (percent-decoded); None when the path names no valid id."""
    match = PATH.match(urllib.parse.urlsplit(path).path)
    if match is None:
        return None
    station_id = urllib.parse.unquote(match.group(1))
    return station_id if STATION_ID.match(station_id) else None


def offered_subprotocols(request: Request) -> list[str]:
    offered: list[str] = []
    for header in request.headers.get_all("Sec-WebSocket-Protocol"):
        offered.extend(part.strip() for part in header.split(",") if part.strip())
    return offered


def basic_credentials(request: Request) -> Credentials | None:
    header = request.headers.get("Authorization")
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, separator, password = decoded.partition(":")
    if not separator:
        return None
    return Credentials(username, password)


class Handshake:
    """``process_request`` hook of the websockets server."""

    def __init__(self, backend: Backend, *, subprotocols: list[str], admission: Admission) -> None:
        self._backend = backend
        self._subprotocols = subprotocols
        self._admission = admission

    async def __call__(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path == "/healthz":
            # For load balancers and probes: the node accepts connections.
            return connection.respond(HTTPStatus.OK, "ok\n")
        station_id = station_id_from_path(request.path)
        if station_id is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "Connect to /ocpp/<station id>\n")
        if not set(offered_subprotocols(request)) & set(self._subprotocols):
            return connection.respond(
                HTTPStatus.BAD_REQUEST,
                "Offer one of the subprotocols " + ", ".join(self._subprotocols) + "\n",
            )
        credentials = basic_credentials(request)
        if credentials is None:
            return _unauthorized(connection, "HTTP Basic credentials required\n")
        if credentials.username != station_id:
            return _unauthorized(connection, "user name must be the station id\n")
        # Before the password check, the first thing that costs the backend (admission.py).
        ticket = await self._admission.admit(station_id)
        if not isinstance(ticket, StartTicket):
            refused = self._admission.refused
            if refused % 1000 == 1:
                log.warning(
                    "%d stations starting here, the most allowed: %d handshakes refused so far",
                    self._admission.starting,
                    refused,
                )
            return _unavailable(
                connection, "Too many stations starting here, retry later\n", retry_after=ticket
            )
        held = False
        try:
            result = await self._backend.call(
                auth.AUTHENTICATE_STATION,
                auth.AuthenticateStation(station_id=station_id, password=credentials.password),
            )
            if result.accepted:
                # The place passes to the connection (ConnectionRegistry.serve); should the
                # connection never open, the ticket's grace period gives it back.
                self._admission.hold(connection, ticket)
                held = True
        except RpcError as exc:
            log.warning("cannot authenticate %s: %s", station_id, exc)
            return _unavailable(
                connection, "Authentication unavailable, retry later\n", retry_after=30
            )
        finally:
            if not held:
                ticket.release(started=False)
        if not result.accepted:
            log.info("refused %s: %s", station_id, result.reason)
            return _unauthorized(connection, "Unknown station or wrong password\n")
        return None


def _unavailable(connection: ServerConnection, text: str, *, retry_after: int) -> Response:
    response = connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, text)
    response.headers["Retry-After"] = str(retry_after)
    return response


def _unauthorized(connection: ServerConnection, text: str) -> Response:
    response = connection.respond(HTTPStatus.UNAUTHORIZED, text)
    response.headers["WWW-Authenticate"] = REALM
    return response
