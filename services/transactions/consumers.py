"""What the transactions service listens to: its RPC operations, on queue
``rpc.transactions``. It consumes no events; stations' messages arrive as RPC from the gateway,
which answers the station only after the reply (ARCHITECTURE §2)."""

from __future__ import annotations

from collections.abc import Mapping

from opencpms_messaging.injection import bind_dependencies
from opencpms_messaging.rpc import RpcServer
from opencpms_transactions.handlers import HANDLERS


def register_operations(server: RpcServer, dependencies: Mapping[str, object]) -> None:
    for op, handler in HANDLERS.items():
        server.register(op, bind_dependencies(handler, dependencies))
