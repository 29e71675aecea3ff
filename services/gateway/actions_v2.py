"""The OCPP 2.0.1 and 2.1 actions a station initiates, and how each is answered. One set of
handlers serves both versions (their payloads agree on everything used here)."""

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
from opencpms_contracts.stations import OcppVersion, StationHeartbeat
from opencpms_gateway.router import ActionRouter, CallContext
from opencpms_gateway.translate import v2
from opencpms_messaging.rpc_errors import RpcNoRouteError


def build_router(version: OcppVersion) -> ActionRouter:
    router = ActionRouter(version)

    @router.on("BootNotification")
    async def boot_notification(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        decision = await ctx.backend.call(
            auth.BOOT_STATION, v2.boot(ctx.station_id, payload, ctx.received_at, version)
        )
        ctx.state.registration = decision.status
        return v2.boot_response(decision, datetime.now(UTC))

    @router.on("Heartbeat")
    async def heartbeat(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        ctx.events.record(
            StationHeartbeat(
                station_id=ctx.station_id, connection_id=ctx.state.connection_id, at=ctx.received_at
            ),
            subject=ctx.station_id,
        )
        return v2.heartbeat_response(datetime.now(UTC))

    @router.on("StatusNotification")
    async def status_notification(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        await ctx.backend.publish(
            v2.status_notification(ctx.station_id, payload), subject=ctx.station_id
        )
        return {}

    @router.on("Authorize")
    async def authorize(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        info = await ctx.authorize(v2.authorize(ctx.station_id, payload))
        return v2.authorize_response(info)

    @router.on("TransactionEvent", transactional=True)
    async def transaction_event(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        # The CSMS answers idTokenInfo whenever the event carries an idToken.
        info = None
        if "idToken" in payload:
            info = await ctx.token_info(v2.authorize(ctx.station_id, payload))
        request = v2.transaction_event(ctx.station_id, payload, info)
        if isinstance(request, tx.StartTransaction):
            await ctx.backend.call(tx.START_TRANSACTION, request)
        elif isinstance(request, tx.UpdateTransaction):
            await ctx.backend.call(tx.UPDATE_TRANSACTION, request)
        else:
            await ctx.backend.call(tx.END_TRANSACTION, request)
        return v2.transaction_event_response(info)

    @router.on("MeterValues", transactional=True)
    async def meter_values(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        await ctx.backend.call(tx.RECORD_METER_VALUES, v2.meter_values(ctx.station_id, payload))
        return {}

    @router.on("NotifyReport")
    async def notify_report(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        await ctx.backend.publish(v2.notify_report(ctx.station_id, payload), subject=ctx.station_id)
        return {}

    @router.on("NotifyEvent")
    async def notify_event(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        await ctx.backend.publish(v2.notify_event(ctx.station_id, payload), subject=ctx.station_id)
        return {}

    @router.on("SecurityEventNotification")
    async def security_event(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        await ctx.backend.publish(
            v2.security_event(ctx.station_id, payload), subject=ctx.station_id
        )
        return {}

    @router.on("FirmwareStatusNotification")
    async def firmware_status(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        await ctx.backend.publish(
            v2.firmware_status(ctx.station_id, payload, ctx.received_at), subject=ctx.station_id
        )
        return {}

    @router.on("LogStatusNotification")
    async def log_status(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        await ctx.backend.publish(
            v2.log_status(ctx.station_id, payload, ctx.received_at), subject=ctx.station_id
        )
        return {}

    @router.on("DataTransfer")
    async def data_transfer(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        request = v2.data_transfer(ctx.station_id, payload)
        try:
            reply = await ctx.backend.call(data_transfer_operation(request.vendor_id), request)
        except RpcNoRouteError:
            reply = DataTransferReply(status=DataTransferStatus.UNKNOWN_VENDOR_ID)
        return v2.data_transfer_response(reply)

    return router
