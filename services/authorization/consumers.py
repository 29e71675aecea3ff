"""What the authorization service listens to: its RPC operations (it consumes no events)."""

from __future__ import annotations

from collections.abc import Mapping

from opencpms_authorization.handlers import HANDLERS
from opencpms_messaging.injection import bind_dependencies
from opencpms_messaging.rpc import RpcServer


def register_operations(server: RpcServer, dependencies: Mapping[str, object]) -> None:
    for op, handler in HANDLERS.items():
        server.register(op, bind_dependencies(handler, dependencies))
