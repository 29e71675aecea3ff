"""The OCPP 1.6 actions a station initiates, and how each is answered."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from opencpms_contracts import authorization as auth
from opencpms_contracts import transactions as tx
from opencpms_contracts.data_transfer import (
    DataTransferReply,
    DataTransferStatus,
    data_transfer_operation,
)
from opencpms_contracts.stations import StationHeartbeat
from opencpms_gateway.router import ActionRouter, CallContext
from opencpms_gateway.translate import v16
from opencpms_messaging.rpc_errors import RpcNoRouteError

router = ActionRouter("1.6")


@router.on("BootNotification")
async def boot_notification(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    decision = await ctx.backend.call(
        auth.BOOT_STATION, v16.boot(ctx.station_id, payload, ctx.received_at)
    )
    ctx.state.registration = decision.status
    return v16.boot_response(decision, datetime.now(UTC))


@router.on("Heartbeat")
async def heartbeat(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    # Needs no state, so it is answered here (ARCHITECTURE §2); operators still see last-seen.
    ctx.events.record(
        StationHeartbeat(
            station_id=ctx.station_id, connection_id=ctx.state.connection_id, at=ctx.received_at
        ),
        subject=ctx.station_id,
    )
    return v16.heartbeat_response(datetime.now(UTC))


@router.on("StatusNotification")
async def status_notification(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    event = v16.status_notification(ctx.station_id, payload, ctx.received_at)
    await ctx.backend.publish(event, subject=ctx.station_id)
    return {}


@router.on("Authorize")
async def authorize(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    info = await ctx.authorize(v16.authorize(ctx.station_id, payload))
    return v16.authorize_response(info)


@router.on("StartTransaction", transactional=True)
async def start_transaction(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    # The session is recorded whatever the token's status: the station has started it, and it
    # stops it itself on a non-Accepted idTagInfo (OCPP 1.6 StartTransaction).
    info = await ctx.token_info(v16.authorize(ctx.station_id, payload))
    accepted = await ctx.backend.call(
        tx.START_TRANSACTION, v16.start_transaction(ctx.station_id, payload, info)
    )
    return v16.start_transaction_response(accepted, info)


@router.on("StopTransaction", transactional=True)
async def stop_transaction(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    info = None
    if payload.get("idTag"):
        info = await ctx.token_info(v16.authorize(ctx.station_id, payload))
    await ctx.backend.call(tx.END_TRANSACTION, v16.stop_transaction(ctx.station_id, payload))
    return v16.stop_transaction_response(info)


@router.on("MeterValues", transactional=True)
async def meter_values(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    request = v16.meter_values(ctx.station_id, payload)
    if isinstance(request, tx.UpdateTransaction):
        await ctx.backend.call(tx.UPDATE_TRANSACTION, request)
    elif request.meter_values:
        await ctx.backend.call(tx.RECORD_METER_VALUES, request)
    return {}


@router.on("DataTransfer")
async def data_transfer(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    request = v16.data_transfer(ctx.station_id, payload)
    try:
        reply = await ctx.backend.call(data_transfer_operation(request.vendor_id), request)
    except RpcNoRouteError:
        reply = DataTransferReply(status=DataTransferStatus.UNKNOWN_VENDOR_ID)
    return v16.data_transfer_response(reply)


@router.on("FirmwareStatusNotification")
async def firmware_status(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    await ctx.backend.publish(
        v16.firmware_status(ctx.station_id, payload, ctx.received_at), subject=ctx.station_id
    )
    return {}


@router.on("DiagnosticsStatusNotification")
async def diagnostics_status(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    await ctx.backend.publish(
        v16.diagnostics_status(ctx.station_id, payload, ctx.received_at), subject=ctx.station_id
    )
    return {}
