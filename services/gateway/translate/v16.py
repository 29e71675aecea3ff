"""OCPP 1.6 payloads ⇄ OpenCPMS contracts.

1.6 knows connectors only; OpenCPMS models EVSEs: connector *n* of a 1.6 station is EVSE *n*,
connector 1, and connector 0 (the station itself) is EVSE 0, connector 0.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from opencpms_contracts import authorization as auth
from opencpms_contracts import transactions as tx
from opencpms_contracts.common import AuthorizationStatus, IdToken, IdTokenInfo
from opencpms_contracts.data_transfer import DataTransferReply, DataTransferRequest
from opencpms_contracts.stations import (
    ConnectorStatus,
    ConnectorStatusChanged,
    FirmwareStatusChanged,
    LogUploadStatusChanged,
    StationIdentity,
)
from opencpms_gateway.translate.meter_values import from_v16
from opencpms_gateway.translate.timestamps import format_timestamp, parse_timestamp

VERSION = "1.6"
ID_TOKEN_TYPE = "ISO14443"  # noqa: S105 - 1.6 idTags carry no type; most are RFID uids

# 1.6 has no Unknown, NoCredit, ... statuses: anything not understood by the station is Invalid.
_V16_STATUSES = {
    AuthorizationStatus.ACCEPTED: "Accepted",
    AuthorizationStatus.BLOCKED: "Blocked",
    AuthorizationStatus.EXPIRED: "Expired",
    AuthorizationStatus.CONCURRENT_TX: "ConcurrentTx",
}

_CONNECTOR_STATUSES = {
    "Available": ConnectorStatus.AVAILABLE,
    "Preparing": ConnectorStatus.OCCUPIED,
    "Charging": ConnectorStatus.OCCUPIED,
    "SuspendedEVSE": ConnectorStatus.OCCUPIED,
    "SuspendedEV": ConnectorStatus.OCCUPIED,
    "Finishing": ConnectorStatus.OCCUPIED,
    "Reserved": ConnectorStatus.RESERVED,
    "Unavailable": ConnectorStatus.UNAVAILABLE,
    "Faulted": ConnectorStatus.FAULTED,
}


def boot(station_id: str, payload: dict[str, Any], now: datetime) -> auth.BootStation:
    return auth.BootStation(
        station_id=station_id,
        ocpp_version=VERSION,
        identity=StationIdentity(
            vendor=payload["chargePointVendor"],
            model=payload["chargePointModel"],
            serial_number=payload.get("chargePointSerialNumber")
            or payload.get("chargeBoxSerialNumber"),
            firmware_version=payload.get("firmwareVersion"),
            modem_iccid=payload.get("iccid"),
            modem_imsi=payload.get("imsi"),
            meter_type=payload.get("meterType"),
            meter_serial_number=payload.get("meterSerialNumber"),
        ),
        booted_at=now,
    )


def boot_response(decision: auth.BootDecision, now: datetime) -> dict[str, Any]:
    return {
        "status": decision.status.value,
        "currentTime": format_timestamp(now),
        "interval": decision.interval_s,
    }


def heartbeat_response(now: datetime) -> dict[str, Any]:
    return {"currentTime": format_timestamp(now)}


def id_token(id_tag: str) -> IdToken:
    return IdToken(value=id_tag, type=ID_TOKEN_TYPE)


def authorize(station_id: str, payload: dict[str, Any]) -> auth.AuthorizeIdToken:
    return auth.AuthorizeIdToken(station_id=station_id, id_token=id_token(payload["idTag"]))


def id_tag_info(info: IdTokenInfo) -> dict[str, Any]:
    result: dict[str, Any] = {"status": _V16_STATUSES.get(info.status, "Invalid")}
    if info.expires_at is not None:
        result["expiryDate"] = format_timestamp(info.expires_at)
    if info.group_id is not None:
        result["parentIdTag"] = info.group_id[:20]
    return result


def authorize_response(info: IdTokenInfo) -> dict[str, Any]:
    return {"idTagInfo": id_tag_info(info)}


def start_transaction(
    station_id: str, payload: dict[str, Any], info: IdTokenInfo
) -> tx.StartTransaction:
    return tx.StartTransaction(
        station_id=station_id,
        evse_id=payload["connectorId"],
        connector_id=1,
        id_token=id_token(payload["idTag"]),
        id_token_info=info,
        meter_start_wh=payload["meterStart"],
        started_at=parse_timestamp(payload["timestamp"]),
        reservation_id=payload.get("reservationId"),
    )


def start_transaction_response(
    accepted: tx.TransactionAccepted, info: IdTokenInfo
) -> dict[str, Any]:
    return {"transactionId": accepted.transaction_id, "idTagInfo": id_tag_info(info)}


def stop_transaction(station_id: str, payload: dict[str, Any]) -> tx.EndTransaction:
    id_tag = payload.get("idTag")
    return tx.EndTransaction(
        station_id=station_id,
        station_transaction_id=str(payload["transactionId"]),
        ended_at=parse_timestamp(payload["timestamp"]),
        meter_stop_wh=payload["meterStop"],
        # OCPP 1.6: an absent reason means Local.
        stop_reason=payload.get("reason", "Local"),
        id_token=id_token(id_tag) if id_tag else None,
        meter_values=from_v16(payload.get("transactionData", [])),
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
        # 1.6 data is a string; a structured answer is sent as its JSON text.
        result["data"] = (
            reply.data if isinstance(reply.data, str) else orjson.dumps(reply.data).decode()
        )
    return result


def stop_transaction_response(info: IdTokenInfo | None) -> dict[str, Any]:
    return {} if info is None else {"idTagInfo": id_tag_info(info)}


def meter_values(
    station_id: str, payload: dict[str, Any]
) -> tx.UpdateTransaction | tx.RecordMeterValues:
    connector = payload["connectorId"]
    values = from_v16(payload.get("meterValue", []))
    transaction_id = payload.get("transactionId")
    if transaction_id is None:
        return tx.RecordMeterValues(
            station_id=station_id,
            evse_id=connector,
            connector_id=1 if connector else 0,
            meter_values=values,
        )
    return tx.UpdateTransaction(
        station_id=station_id,
        station_transaction_id=str(transaction_id),
        timestamp=max(parse_timestamp(entry["timestamp"]) for entry in payload["meterValue"]),
        evse_id=connector or None,
        connector_id=1 if connector else None,
        meter_values=values,
    )


def status_notification(
    station_id: str, payload: dict[str, Any], now: datetime
) -> ConnectorStatusChanged:
    connector = payload["connectorId"]
    error_code = payload["errorCode"]
    timestamp = payload.get("timestamp")
    return ConnectorStatusChanged(
        station_id=station_id,
        evse_id=connector,
        connector_id=1 if connector else 0,
        status=_CONNECTOR_STATUSES[payload["status"]],
        ocpp_status=payload["status"],
        error_code=None if error_code == "NoError" else error_code,
        info=payload.get("info"),
        vendor_error_code=payload.get("vendorErrorCode"),
        timestamp=parse_timestamp(timestamp) if timestamp else now,
    )


def firmware_status(
    station_id: str, payload: dict[str, Any], now: datetime
) -> FirmwareStatusChanged:
    return FirmwareStatusChanged(station_id=station_id, status=payload["status"], at=now)


def diagnostics_status(
    station_id: str, payload: dict[str, Any], now: datetime
) -> LogUploadStatusChanged:
    return LogUploadStatusChanged(station_id=station_id, status=payload["status"], at=now)
