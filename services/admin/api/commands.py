"""Operator commands to stations, answered by the station itself through whichever gateway
node holds its connection (ARCHITECTURE §3). Every command is audited."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Body
from fastapi.openapi.models import Example

from opencpms_admin.api.audit import audited
from opencpms_admin.api.auth import Operator
from opencpms_admin.api.context import AdminContext, Context
from opencpms_admin.api.params import StationIdPath
from opencpms_admin.api.schemas import CommandRequest, LocalListSync
from opencpms_admin.domain import Principal
from opencpms_contracts import authorization as auth
from opencpms_contracts.command_examples import COMMAND_EXAMPLES
from opencpms_contracts.commands import (
    CommandAnswer,
    LocalListEntry,
    SendLocalList,
    StationCommand,
)
from opencpms_contracts.common import IdToken, IdTokenInfo

router = APIRouter(prefix="/stations", tags=["commands"])

_ERRORS: dict[int | str, dict[str, object]] = {
    409: {"description": "The station is offline (`code`: offline)"},
    422: {"description": "Invalid, or not supported in the station's OCPP version"},
    502: {"description": "The station answered with a CALLERROR (`code`: station_error)"},
    504: {"description": "The station did not answer in time (`code`: timeout)"},
}
_EXAMPLES = {
    kind: Example(
        summary=kind,
        value={"command": example.model_dump(mode="json", exclude_none=True), "timeout_s": 30},
    )
    for kind, example in COMMAND_EXAMPLES.items()
}


@router.post("/{station_id}/commands", responses=_ERRORS)
async def send_command(
    station_id: StationIdPath,
    request: CommandRequest = Body(openapi_examples=_EXAMPLES),  # noqa: B008
    *,
    principal: Operator,
    context: Context,
) -> CommandAnswer:
    """Sends one command to the station and returns its answer (``status`` Accepted,
    Rejected, ... and the rest of its reply in ``data``). The same command works for every
    OCPP version; one a version cannot express fails with ``not_supported``."""
    return await _send(context, principal, station_id, request)


@router.post("/{station_id}/local-list/sync", responses=_ERRORS)
async def sync_local_list(
    station_id: StationIdPath, body: LocalListSync, principal: Operator, context: Context
) -> CommandAnswer:
    """Replaces the station's local authorization list with every id token authorization
    knows, with its current status, expiry and group."""
    entries = [entry async for entry in _local_list_entries(context)]
    command = SendLocalList(
        version=body.version or int(time.time()), update_type="Full", entries=entries
    )
    return await _send(
        context,
        principal,
        station_id,
        CommandRequest(command=command, timeout_s=body.timeout_s),
        audit_request={
            "kind": "send_local_list",
            "entries": len(entries),
            "version": command.version,
        },
    )


async def _send(
    context: AdminContext,
    principal: Principal,
    station_id: str,
    request: CommandRequest,
    *,
    audit_request: dict[str, object] | None = None,
) -> CommandAnswer:
    command = request.command
    async with audited(
        context,
        principal,
        f"command.{command.kind}",
        station_id=station_id,
        request=audit_request or command.model_dump(mode="json"),
    ) as record:
        answer = await context.commander.send(
            StationCommand(station_id=station_id, command=command, timeout_s=request.timeout_s)
        )
        record.result = {"status": answer.status, "action": answer.action}
    return answer


async def _local_list_entries(context: AdminContext) -> AsyncIterator[LocalListEntry]:
    offset = 0
    while True:
        page = await context.call(auth.LIST_ID_TOKENS, auth.ListIdTokens(limit=500, offset=offset))
        for token in page.items:
            yield LocalListEntry(
                id_token=IdToken(value=token.value, type=token.type),
                id_token_info=IdTokenInfo(
                    status=token.status, expires_at=token.expires_at, group_id=token.group_id
                ),
            )
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return
