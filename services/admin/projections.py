"""The station read model's event handlers, one per event type, registered in ``PROJECTIONS``
for ``consumers``. Each is one idempotent write; writes of events that arrive together share a
transaction (``WriteBatch``, on the asyncpg connection), and each message is acknowledged once
its write committed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from opencpms_admin import read_model
from opencpms_admin.frame_log import FrameLog
from opencpms_contracts import stations as ev
from opencpms_contracts.base import Event
from opencpms_db.unit_of_work import DriverUnitOfWork
from opencpms_db.write_batch import WriteBatch
from opencpms_messaging.cloudevents_codec import EventEnvelope


async def on_registered(
    event: ev.StationRegistered, envelope: EventEnvelope, *, writes: WriteBatch
) -> None:
    await writes.run(
        event.station_id,
        lambda connection: read_model.apply_registry(
            connection,
            station_id=event.station_id,
            changed_at=event.registered_at,
            registration_status=event.registration_status,
            description=event.description,
            registered_at=event.registered_at,
        ),
    )


async def on_updated(
    event: ev.StationUpdated, envelope: EventEnvelope, *, writes: WriteBatch
) -> None:
    await writes.run(
        event.station_id,
        lambda connection: read_model.apply_registry(
            connection,
            station_id=event.station_id,
            changed_at=event.updated_at,
            registration_status=event.registration_status,
            description=event.description,
        ),
    )


async def on_deleted(
    event: ev.StationDeleted, envelope: EventEnvelope, *, writes: WriteBatch
) -> None:
    await writes.run(
        event.station_id,
        lambda connection: read_model.apply_registry(
            connection, station_id=event.station_id, changed_at=event.deleted_at, deleted=True
        ),
    )


async def on_booted(
    event: ev.StationBooted, envelope: EventEnvelope, *, writes: WriteBatch
) -> None:
    identity = event.identity
    await writes.run(
        event.station_id,
        lambda connection: read_model.apply_boot(
            connection,
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
        ),
    )


async def on_connected(
    event: ev.StationConnected, envelope: EventEnvelope, *, writes: WriteBatch
) -> None:
    await writes.run(
        event.station_id,
        lambda connection: read_model.apply_connected(
            connection,
            {
                "station_id": event.station_id,
                "connection_id": event.connection_id,
                "node_id": event.node_id,
                "ocpp_version": event.ocpp_version,
                "remote_address": event.remote_address,
                "connected_at": event.connected_at,
            },
        ),
    )


async def on_disconnected(
    event: ev.StationDisconnected, envelope: EventEnvelope, *, writes: WriteBatch
) -> None:
    await writes.run(
        event.station_id,
        lambda connection: read_model.apply_disconnected(
            connection,
            {
                "station_id": event.station_id,
                "connection_id": event.connection_id,
                "node_id": event.node_id,
                "connected_at": event.connected_at,
                "disconnected_at": event.disconnected_at,
            },
        ),
    )


async def on_heartbeat(
    event: ev.StationHeartbeat, envelope: EventEnvelope, *, writes: WriteBatch
) -> None:
    await writes.run(
        event.station_id,
        lambda connection: read_model.touch(connection, event.station_id, event.at),
    )


async def on_connector_status(
    event: ev.ConnectorStatusChanged, envelope: EventEnvelope, *, writes: WriteBatch
) -> None:
    # Two of every charging session's messages: the statuses of a batch share one statement.
    await writes.run_together(
        event.station_id,
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
        _connector_statuses,
    )


async def _connector_statuses(work: DriverUnitOfWork, rows: list[dict[str, Any]]) -> list[None]:
    await read_model.apply_connector_statuses(work.connection, rows)
    return [None] * len(rows)


def _frame_row(frame: ev.StationFrame, event_id: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "station_id": frame.station_id,
        "connection_id": frame.connection_id,
        "direction": frame.direction,
        "message_type": frame.message_type,
        "message_id": frame.message_id,
        "action": frame.action,
        "raw": frame.raw,
        "at": frame.at,
    }


async def on_frame(event: ev.StationFrame, envelope: EventEnvelope, *, frame_log: FrameLog) -> None:
    await frame_log.add(_frame_row(event, envelope.id))


async def on_frames(
    event: ev.StationFrames, envelope: EventEnvelope, *, frame_log: FrameLog
) -> None:
    # The place in the batch makes each frame's id, so a redelivered batch stores nothing twice.
    await frame_log.add_many(
        [_frame_row(frame, f"{envelope.id}/{n}") for n, frame in enumerate(event.frames)]
    )


async def on_firmware_status(
    event: ev.FirmwareStatusChanged, envelope: EventEnvelope, *, writes: WriteBatch
) -> None:
    await writes.run(
        event.station_id,
        lambda connection: read_model.apply_progress(
            connection,
            event.station_id,
            prefix="firmware",
            status=event.status,
            request_id=event.request_id,
            at=event.at,
        ),
    )


async def on_log_upload_status(
    event: ev.LogUploadStatusChanged, envelope: EventEnvelope, *, writes: WriteBatch
) -> None:
    await writes.run(
        event.station_id,
        lambda connection: read_model.apply_progress(
            connection,
            event.station_id,
            prefix="log",
            status=event.status,
            request_id=event.request_id,
            at=event.at,
        ),
    )


async def on_device_model(
    event: ev.DeviceModelReported, envelope: EventEnvelope, *, writes: WriteBatch
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
    await writes.run(
        event.station_id,
        lambda connection: read_model.apply_reported_variables(connection, list(rows.values())),
    )


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
    ev.StationFrames: on_frames,
    ev.FirmwareStatusChanged: on_firmware_status,
    ev.LogUploadStatusChanged: on_log_upload_status,
    ev.DeviceModelReported: on_device_model,
}
