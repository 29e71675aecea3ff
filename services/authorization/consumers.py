"""What the authorization service listens to: its RPC operations (it consumes no events).

Handshake authentication has a lane of its own (``rpc.authorization.handshake``): after an
outage every station reconnects at once, and its first password check is the costliest thing
this service does; BootNotification, Authorize and the registry must not queue behind them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencpms_authorization.handlers import HANDLERS
from opencpms_contracts import authorization as contract
from opencpms_contracts.base import Operation
from opencpms_messaging.injection import bind_dependencies
from opencpms_messaging.rpc import RpcServer

HANDSHAKE_LANE = "handshake"
HANDSHAKE_OPERATIONS: tuple[Operation[Any, Any], ...] = (contract.AUTHENTICATE_STATION,)


def register_operations(
    server: RpcServer, dependencies: Mapping[str, object], *, lane: str | None = None
) -> None:
    """Registers on ``server`` the operations of ``lane`` (None: the main queue)."""
    for op, handler in HANDLERS.items():
        if (op in HANDSHAKE_OPERATIONS) == (lane == HANDSHAKE_LANE):
            server.register(op, bind_dependencies(handler, dependencies))
