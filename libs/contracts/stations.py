"""Events about charge points' connections and hardware, published by the gateway
(connection, status, frames) and by authorization (registration, boot)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from opencpms_contracts.base import Contract, Event, event
from opencpms_contracts.common import RegistrationStatus, StationId, UtcDatetime

OcppVersion = Literal["1.6", "2.0.1", "2.1"]


class ConnectorStatus(StrEnum):
    """Version-neutral connector status (the OCPP 2.0.1 set). OCPP 1.6's finer states
    (Preparing, Charging, SuspendedEV, ...) map to Occupied and are kept in ``ocpp_status``."""

    AVAILABLE = "Available"
    OCCUPIED = "Occupied"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


@event
class StationConnected(Event):
    event_type = "station.connected"

    station_id: StationId
    connection_id: str = Field(description="Unique per websocket; orders connect/disconnect pairs")
    node_id: str = Field(description="The gateway node holding the websocket")
    ocpp_version: OcppVersion
    remote_address: str | None = None
    connected_at: UtcDatetime


@event
class StationDisconnected(Event):
    event_type = "station.disconnected"

    station_id: StationId
    connection_id: str
    node_id: str
    connected_at: UtcDatetime
    disconnected_at: UtcDatetime
    close_code: int | None = None
    reason: str | None = None


@event
class StationHeartbeat(Event):
    event_type = "station.heartbeat"

    station_id: StationId
    connection_id: str
    at: UtcDatetime


@event
class ConnectorStatusChanged(Event):
    event_type = "connector.status_changed"

    station_id: StationId
    evse_id: int = Field(ge=0, description="0 is the station as a whole")
    connector_id: int = Field(ge=0)
    status: ConnectorStatus
    ocpp_status: str = Field(description="The status exactly as the station reported it")
    error_code: str | None = None
    info: str | None = None
    vendor_error_code: str | None = None
    timestamp: UtcDatetime = Field(description="The station's own time of the change")


FrameDirection = Literal["in", "out"]


@event
class StationFrame(Event):
    """One OCPP-J frame, exactly as it crossed the websocket; the operator's message log.

    The gateway publishes frames in batches (``station.frames``); a single ``station.frame``
    is still understood by the message log, for publishers of one frame at a time."""

    event_type = "station.frame"

    station_id: StationId
    connection_id: str
    direction: FrameDirection = Field(description="in: station to CSMS; out: CSMS to station")
    message_type: int | None = Field(default=None, description="2 CALL, 3 CALLRESULT, 4 CALLERROR")
    message_id: str | None = None
    action: str | None = None
    raw: str
    at: UtcDatetime


@event
class StationFrames(Event):
    """The message log in batches: the frames one gateway node saw within a few milliseconds,
    of any of its stations, in the order they crossed their websockets. One event per frame
    (two per OCPP call) would double the broker's and the message log's work for what no
    station waits on. A frame is identified by the event's id and its place in ``frames``."""

    event_type = "station.frames"

    node_id: str = Field(description="The gateway node that saw the frames")
    frames: list[StationFrame] = Field(min_length=1)


@event
class StationRegistered(Event):
    event_type = "station.registered"

    station_id: StationId
    registration_status: RegistrationStatus
    description: str | None = None
    registered_at: UtcDatetime


@event
class StationUpdated(Event):
    event_type = "station.updated"

    station_id: StationId
    registration_status: RegistrationStatus
    description: str | None = None
    updated_at: UtcDatetime


@event
class StationDeleted(Event):
    event_type = "station.deleted"

    station_id: StationId
    deleted_at: UtcDatetime


class StationIdentity(Contract):
    """What a station says about itself at boot."""

    vendor: str
    model: str
    serial_number: str | None = None
    firmware_version: str | None = None
    modem_iccid: str | None = None
    modem_imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None


@event
class StationBooted(Event):
    event_type = "station.booted"

    station_id: StationId
    ocpp_version: OcppVersion
    identity: StationIdentity
    reason: str | None = Field(default=None, description="2.0.1 BootReasonEnumType")
    status: RegistrationStatus = Field(description="What the CSMS answered")
    interval_s: int
    booted_at: UtcDatetime


@event
class FirmwareStatusChanged(Event):
    """A station's firmware update progressed (1.6 and 2.x FirmwareStatusNotification)."""

    event_type = "station.firmware_status_changed"

    station_id: StationId
    status: str = Field(description="As the station reported it, e.g. Downloading, Installed")
    request_id: int | None = Field(default=None, description="2.x: the UpdateFirmware request")
    at: UtcDatetime


@event
class LogUploadStatusChanged(Event):
    """A diagnostics or log upload progressed (1.6 DiagnosticsStatusNotification, 2.x
    LogStatusNotification)."""

    event_type = "station.log_upload_status_changed"

    station_id: StationId
    status: str
    request_id: int | None = None
    at: UtcDatetime


@event
class SecurityEventReported(Event):
    event_type = "station.security_event"

    station_id: StationId
    type: str = Field(description="OCPP security event type, e.g. FirmwareUpdated")
    tech_info: str | None = None
    timestamp: UtcDatetime


class ComponentVariable(Contract):
    """A 2.x device model address: component (with EVSE/connector) and variable."""

    component: str
    component_instance: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    variable: str
    variable_instance: str | None = None


class ReportedVariable(ComponentVariable):
    attributes: list[dict[str, Any]] = Field(
        default_factory=list, description="OCPP VariableAttributeType objects (type, value, ...)"
    )
    characteristics: dict[str, Any] | None = None


@event
class DeviceModelReported(Event):
    """One part of a station's device model report (2.x NotifyReport)."""

    event_type = "station.device_model_reported"

    station_id: StationId
    request_id: int
    seq_no: int
    to_be_continued: bool
    generated_at: UtcDatetime
    variables: list[ReportedVariable]


class MonitoringEvent(ComponentVariable):
    event_id: int
    timestamp: UtcDatetime
    trigger: str
    actual_value: str
    cleared: bool | None = None
    tech_code: str | None = None
    tech_info: str | None = None
    event_notification_type: str | None = None


@event
class StationEventsNotified(Event):
    """Monitoring events a station raised (2.x NotifyEvent)."""

    event_type = "station.events_notified"

    station_id: StationId
    seq_no: int
    to_be_continued: bool
    generated_at: UtcDatetime
    events: list[MonitoringEvent]
