"""The station read model's event handlers: one per event type, each one committed unit of
work, registered in ``PROJECTIONS`` for ``consumers``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from opencpms_admin import read_model
from opencpms_admin.frame_log import FrameLog
from opencpms_contracts import stations as ev
from opencpms_contracts.base import Event
from opencpms_db.unit_of_work import UnitOfWorkFactory
from opencpms_messaging.cloudevents_codec import EventEnvelope


async def on_registered(
    event: ev.StationRegistered, envelope: EventEnvelope, *, uow: UnitOfWorkFactory
) -> None:
    async with uow() as work:
        await read_model.apply_registry(
            work.session,
            station_id=event.station_id,
            changed_at=event.registered_at,
            registration_status=event.registration_status,
            description=event.description,
            registered_at=event.registered_at,
        )
        await work.commit()


async def on_updated(
    event: ev.StationUpdated, envelope: EventEnvelope, *, uow: UnitOfWorkFactory
) -> None:
    async with uow() as work:
        await read_model.apply_registry(
            work.session,
            station_id=event.station_id,
            changed_at=event.updated_at,
            registration_status=event.registration_status,
            description=event.description,
        )
        await work.commit()


async def on_deleted(
    event: ev.StationDeleted, envelope: EventEnvelope, *, uow: UnitOfWorkFactory
) -> None:
    async with uow() as work:
        await read_model.apply_registry(
            work.session, station_id=event.station_id, changed_at=event.deleted_at, deleted=True
        )
        await work.commit()


async def on_booted(
    event: ev.StationBooted, envelope: EventEnvelope, *, uow: UnitOfWorkFactory
) -> None:
    identity = event.identity
    async with uow() as work:
        await read_model.apply_boot(
            work.session,
            {
                "station_id": event.station_id,
                "ocpp_version": event.ocpp_version,
                "vendor": identity.vendor,
                "model": identity.model,
                "serial_number": identity.serial_number,
                "firmware_version": identity.firmware_version,
                "identity": identity.model_dump(mode="json", exclude_none=True),
                "boot_status": event.status,
                "booted_at": event.booted_at,
            },
        )
        await work.commit()


async def on_connected(
    event: ev.StationConnected, envelope: EventEnvelope, *, uow: UnitOfWorkFactory
) -> None:
    async with uow() as work:
        await read_model.apply_connected(
            work.session,
            {
                "station_id": event.station_id,
                "connection_id": event.connection_id,
                "node_id": event.node_id,
                "ocpp_version": event.ocpp_version,
                "remote_address": event.remote_address,
                "connected_at": event.connected_at,
            },
        )
        await work.commit()


async def on_disconnected(
    event: ev.StationDisconnected, envelope: EventEnvelope, *, uow: UnitOfWorkFactory
) -> None:
    async with uow() as work:
        await read_model.apply_disconnected(
            work.session,
            {
                "station_id": event.station_id,
                "connection_id": event.connection_id,
                "node_id": event.node_id,
                "connected_at": event.connected_at,
                "disconnected_at": event.disconnected_at,
            },
        )
        await work.commit()


async def on_heartbeat(
    event: ev.StationHeartbeat, envelope: EventEnvelope, *, uow: UnitOfWorkFactory
) -> None:
    async with uow() as work:
        await read_model.touch(work.session, event.station_id, event.at)
        await work.commit()


async def on_connector_status(
    event: ev.ConnectorStatusChanged, envelope: EventEnvelope, *, uow: UnitOfWorkFactory
) -> None:
    async with uow() as work:
        await read_model.apply_connector_status(
            work.session,
            {
                "station_id": event.station_id,
                "evse_id": event.evse_id,
                "connector_id": event.connector_id,
                "status": event.status,
                "ocpp_status": event.ocpp_status,
                "error_code": event.error_code,
                "info": event.info,
                "vendor_error_code": event.vendor_error_code,
                "changed_at": event.timestamp,
            },
        )
        await work.commit()


async def on_frame(event: ev.StationFrame, envelope: EventEnvelope, *, frame_log: FrameLog) -> None:
    await frame_log.add(
        {
            "event_id": envelope.id,
            "station_id": event.station_id,
            "connection_id": event.connection_id,
            "direction": event.direction,
            "message_type": event.message_type,
            "message_id": event.message_id,
            "action": event.action,
            "raw": event.raw,
            "at": event.at,
        }
    )


async def on_firmware_status(
    event: ev.FirmwareStatusChanged, envelope: EventEnvelope, *, uow: UnitOfWorkFactory
) -> None:
    async with uow() as work:
        await read_model.apply_progress(
            work.session,
            event.station_id,
            prefix="firmware",
            status=event.status,
            request_id=event.request_id,
            at=event.at,
        )
        await work.commit()


async def on_log_upload_status(
    event: ev.LogUploadStatusChanged, envelope: EventEnvelope, *, uow: UnitOfWorkFactory
) -> None:
    async with uow() as work:
        await read_model.apply_progress(
            work.session,
            event.station_id,
            prefix="log",
            status=event.status,
            request_id=event.request_id,
            at=event.at,
        )
        await work.commit()


async def on_device_model(
    event: ev.DeviceModelReported, envelope: EventEnvelope, *, uow: UnitOfWorkFactory
) -> None:
    # One report may name the same variable twice; the last mention wins, as the station
    # would apply it, and a single INSERT may not touch a row twice.
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for variable in event.variables:
        address = variable.model_dump(include=set(ev.ComponentVariable.model_fields))
        rows[tuple(address.values())] = {
            "station_id": event.station_id,
            **address,
            "attributes": variable.attributes,
            "characteristics": variable.characteristics,
            "reported_at": event.generated_at,
        }
    async with uow() as work:
        await read_model.apply_reported_variables(work.session, list(rows.values()))
        await work.commit()


Projection = Callable[..., Awaitable[None]]

PROJECTIONS: dict[type[Event], Projection] = {
    ev.StationRegistered: on_registered,
    ev.StationUpdated: on_updated,
    ev.StationDeleted: on_deleted,
    ev.StationBooted: on_booted,
    ev.StationConnected: on_connected,
    ev.StationDisconnected: on_disconnected,
    ev.StationHeartbeat: on_heartbeat,
    ev.ConnectorStatusChanged: on_connector_status,
    ev.StationFrame: on_frame,
    ev.FirmwareStatusChanged: on_firmware_status,
    ev.LogUploadStatusChanged: on_log_upload_status,
    ev.DeviceModelReported: on_device_model,
}
