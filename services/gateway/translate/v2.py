"""OCPP 2.0.1 and 2.1 payloads ⇄ OpenCPMS contracts. The two versions share these messages'
shape; where 2.1 adds fields, they are optional and ignored here unless OpenCPMS uses them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from opencpms_contracts import authorization as auth
from opencpms_contracts import transactions as tx
from opencpms_contracts.common import IdToken, IdTokenInfo, MeterValue
from opencpms_contracts.data_transfer import DataTransferReply, DataTransferRequest
from opencpms_contracts.stations import (
    ConnectorStatus,
    ConnectorStatusChanged,
    DeviceModelReported,
    FirmwareStatusChanged,
    LogUploadStatusChanged,
    MonitoringEvent,
    OcppVersion,
    ReportedVariable,
    SecurityEventReported,
    StationEventsNotified,
    StationIdentity,
)
from opencpms_gateway.translate.meter_values import DEFAULT_MEASURAND, from_v2
from opencpms_gateway.translate.timestamps import format_timestamp, parse_timestamp

GROUP_TOKEN_TYPE = "Central"  # noqa: S105 - an id token type, not a secret


def boot(
    station_id: str, payload: dict[str, Any], now: datetime, version: OcppVersion
) -> auth.BootStation:
    station = payload["chargingStation"]
    modem = station.get("modem") or {}
    return auth.BootStation(
        station_id=station_id,
        ocpp_version=version,
        identity=StationIdentity(
            vendor=station["vendorName"],
            model=station["model"],
            serial_number=station.get("serialNumber"),
            firmware_version=station.get("firmwareVersion"),
            modem_iccid=modem.get("iccid"),
            modem_imsi=modem.get("imsi"),
        ),
        reason=payload["reason"],
        booted_at=now,
    )


def boot_response(decision: auth.BootDecision, now: datetime) -> dict[str, Any]:
    return {
        "currentTime": format_timestamp(now),
        "interval": decision.interval_s,
        "status": decision.status.value,
    }


def heartbeat_response(now: datetime) -> dict[str, Any]:
    return {"currentTime": format_timestamp(now)}


def id_token(token: dict[str, Any]) -> IdToken:
    return IdToken(value=token["idToken"], type=token["type"])


def authorize(station_id: str, payload: dict[str, Any]) -> auth.AuthorizeIdToken:
    return auth.AuthorizeIdToken(station_id=station_id, id_token=id_token(payload["idToken"]))


def id_token_info(info: IdTokenInfo) -> dict[str, Any]:
    result: dict[str, Any] = {"status": info.status.value}
    if info.expires_at is not None:
        # The station may keep the token in its authorization cache until then.
        result["cacheExpiryDateTime"] = format_timestamp(info.expires_at)
    if info.group_id is not None:
        result["groupIdToken"] = {"idToken": info.group_id[:36], "type": GROUP_TOKEN_TYPE}
    return result


def authorize_response(info: IdTokenInfo) -> dict[str, Any]:
    return {"idTokenInfo": id_token_info(info)}


def transaction_event(
    station_id: str, payload: dict[str, Any], info: IdTokenInfo | None
) -> tx.StartTransaction | tx.UpdateTransaction | tx.EndTransaction:
    """One TransactionEvent as the matching version-neutral request (E01, E06, E07)."""
    transaction = payload["transactionInfo"]
    evse = payload.get("evse") or {}
    values = from_v2(payload.get("meterValue", []))
    token = id_token(payload["idToken"]) if "idToken" in payload else None
    common: dict[str, Any] = {
        "station_id": station_id,
        "seq_no": payload["seqNo"],
        "trigger_reason": payload["triggerReason"],
        "offline": payload.get("offline", False),
        "meter_values": values,
    }
    event_type = payload["eventType"]
    timestamp = parse_timestamp(payload["timestamp"])
    if event_type == "Started":
        return tx.StartTransaction(
            **common,
            # The first event of a transaction must name its EVSE; a station that forgets it is
            # still recorded (on EVSE 1) rather than losing the session.
            evse_id=evse.get("id", 1),
            connector_id=evse.get("connectorId", 1),
            station_transaction_id=transaction["transactionId"],
            id_token=token,
            id_token_info=info,
            meter_start_wh=register_reading(values, prefer="Transaction.Begin", first=True),
            started_at=timestamp,
            reservation_id=payload.get("reservationId"),
            charging_state=transaction.get("chargingState"),
        )
    if event_type == "Updated":
        return tx.UpdateTransaction(
            **common,
            station_transaction_id=transaction["transactionId"],
            timestamp=timestamp,
            evse_id=evse.get("id"),
            connector_id=evse.get("connectorId"),
            id_token=token,
            charging_state=transaction.get("chargingState"),
        )
    return tx.EndTransaction(
        **common,
        station_transaction_id=transaction["transactionId"],
        ended_at=timestamp,
        evse_id=evse.get("id"),
        connector_id=evse.get("connectorId"),
        meter_stop_wh=register_reading(values, prefer="Transaction.End", first=False),
        # E06: stoppedReason is omitted for a normal stop, which 2.0.1 calls Local.
        stop_reason=transaction.get("stoppedReason", "Local"),
        id_token=token,
    )


def register_reading(values: list[MeterValue], *, prefer: str, first: bool) -> int | None:
    """The main energy register in Wh: the reading with context ``prefer`` if any, else the
    first (or last) reading of the register."""
    readings = [
        (sample.context, sample.value)
        for value in values
        for sample in value.samples
        if sample.measurand == DEFAULT_MEASURAND and sample.phase is None and sample.unit == "Wh"
    ]
    if not readings:
        return None
    preferred = [value for context, value in readings if context == prefer]
    chosen = (preferred or [v for _, v in readings])[0 if first else -1]
    return int(chosen.to_integral_value())


def transaction_event_response(info: IdTokenInfo | None) -> dict[str, Any]:
    return {} if info is None else {"idTokenInfo": id_token_info(info)}


def status_notification(station_id: str, payload: dict[str, Any]) -> ConnectorStatusChanged:
    status = payload["connectorStatus"]
    return ConnectorStatusChanged(
        station_id=station_id,
        evse_id=payload["evseId"],
        connector_id=payload["connectorId"],
        status=ConnectorStatus(status),
        ocpp_status=status,
        timestamp=parse_timestamp(payload["timestamp"]),
    )


def meter_values(station_id: str, payload: dict[str, Any]) -> tx.RecordMeterValues:
    evse = payload["evseId"]
    return tx.RecordMeterValues(
        station_id=station_id,
        evse_id=evse,
        connector_id=0,
        meter_values=from_v2(payload["meterValue"]),
    )


def notify_report(station_id: str, payload: dict[str, Any]) -> DeviceModelReported:
    variables = []
    for item in payload.get("reportData", []):
        component, variable = item["component"], item["variable"]
        evse = component.get("evse") or {}
        variables.append(
            ReportedVariable(
                component=component["name"],
                component_instance=component.get("instance"),
                evse_id=evse.get("id"),
                connector_id=evse.get("connectorId"),
                variable=variable["name"],
                variable_instance=variable.get("instance"),
                attributes=item.get("variableAttribute", []),
                characteristics=item.get("variableCharacteristics"),
            )
        )
    return DeviceModelReported(
        station_id=station_id,
        request_id=payload["requestId"],
        seq_no=payload["seqNo"],
        to_be_continued=payload.get("tbc", False),
        generated_at=parse_timestamp(payload["generatedAt"]),
        variables=variables,
    )


def notify_event(station_id: str, payload: dict[str, Any]) -> StationEventsNotified:
    events = []
    for item in payload["eventData"]:
        component, variable = item["component"], item["variable"]
        evse = component.get("evse") or {}
        events.append(
            MonitoringEvent(
                component=component["name"],
                component_instance=component.get("instance"),
                evse_id=evse.get("id"),
                connector_id=evse.get("connectorId"),
                variable=variable["name"],
                variable_instance=variable.get("instance"),
                event_id=item["eventId"],
                timestamp=parse_timestamp(item["timestamp"]),
                trigger=item["trigger"],
                actual_value=item["actualValue"],
                cleared=item.get("cleared"),
                tech_code=item.get("techCode"),
                tech_info=item.get("techInfo"),
                event_notification_type=item.get("eventNotificationType"),
            )
        )
    return StationEventsNotified(
        station_id=station_id,
        seq_no=payload["seqNo"],
        to_be_continued=payload.get("tbc", False),
        generated_at=parse_timestamp(payload["generatedAt"]),
        events=events,
    )


def security_event(station_id: str, payload: dict[str, Any]) -> SecurityEventReported:
    return SecurityEventReported(
        station_id=station_id,
        type=payload["type"],
        tech_info=payload.get("techInfo"),
        timestamp=parse_timestamp(payload["timestamp"]),
    )


def firmware_status(
    station_id: str, payload: dict[str, Any], now: datetime
) -> FirmwareStatusChanged:
    return FirmwareStatusChanged(
        station_id=station_id, status=payload["status"], request_id=payload.get("requestId"), at=now
    )


def log_status(station_id: str, payload: dict[str, Any], now: datetime) -> LogUploadStatusChanged:
    return LogUploadStatusChanged(
        station_id=station_id, status=payload["status"], request_id=payload.get("requestId"), at=now
    )


def data_transfer(station_id: str, payload: dict[str, Any]) -> DataTransferRequest:
    return DataTransferRequest(
        station_id=station_id,
        vendor_id=payload["vendorId"],
        message_id=payload.get("messageId"),
        data=payload.get("data"),
    )


def data_transfer_response(reply: DataTransferReply) -> dict[str, Any]:
    result: dict[str, Any] = {"status": reply.status.value}
    if reply.data is not None:
        result["data"] = reply.data
    return result
