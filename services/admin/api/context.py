"""What every request handler may use, built by the composition root and kept on the app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from opencpms_admin.clock import Clock
from opencpms_contracts.base import Contract, Operation
from opencpms_db.unit_of_work import UnitOfWorkFactory
from opencpms_db.write_batch import WriteBatch
from opencpms_messaging.commands import StationCommander
from opencpms_messaging.rpc import RpcClient

RequestT = TypeVar("RequestT", bound=Contract)
ReplyT = TypeVar("ReplyT", bound=Contract)


@dataclass(frozen=True)
class AdminContext:
    uow: UnitOfWorkFactory
    rpc: RpcClient
    commander: StationCommander
    clock: Clock
    rpc_timeout_s: float
    bootstrap_key: str | None
    # The read model's writer, shared with the projections: what the API learns is written
    # the way events are.
    writes: WriteBatch
    session_lifetime: timedelta = timedelta(hours=12)
    secure_cookies: bool | None = None

    async def call(self, op: Operation[RequestT, ReplyT], request: RequestT) -> ReplyT:
        """Another service's operation, within the configured timeout; its errors propagate
        and ``api.errors`` turns them into HTTP answers."""
        return await self.rpc.call(op, request, timeout=self.rpc_timeout_s)

    @property
    def dependencies(self) -> dict[str, Any]:
        return {"uow": self.uow, "clock": self.clock}


def get_context(request: Request) -> AdminContext:
    context: AdminContext = request.app.state.context
    return context


Context = Annotated[AdminContext, Depends(get_context)]
