"""Writing an API action to the audit log, whatever its outcome."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from opencpms_admin import handlers
from opencpms_admin.api.context import AdminContext
from opencpms_admin.domain import Principal
from opencpms_messaging.rpc_errors import RpcError


class AuditRecord:
    """Filled in by the audited block: what the action produced."""

    def __init__(self) -> None:
        self.result: dict[str, Any] | None = None


@asynccontextmanager
async def audited(
    context: AdminContext,
    principal: Principal,
    action: str,
    *,
    station_id: str | None = None,
    request: dict[str, Any] | None = None,
) -> AsyncIterator[AuditRecord]:
    """Records who did ``action``, when, with what, and how it ended: ``ok``, the error code
    of a failed call, or ``error`` for anything else. The failure itself propagates."""
    record = AuditRecord()
    started_at = context.clock()
    outcome, result = "ok", None
    try:
        yield record
        result = record.result
    except RpcError as exc:
        outcome, result = exc.code, {"message": exc.message, "details": exc.details}
        raise
    except Exception as exc:
        outcome = getattr(exc, "rpc_code", "error")
        result = {"message": str(exc)}
        raise
    finally:
        await handlers.record_audit(
            actor=principal.name,
            action=action,
            station_id=station_id,
            request=request,
            outcome=outcome,
            result=result,
            started_at=started_at,
            uow=context.uow,
            clock=context.clock,
        )
