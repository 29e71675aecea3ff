"""OCPP 2.0.1 / 2.1 frames through translate and back; answers checked against both versions'
response schemas."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from opencpms_contracts import authorization as auth
from opencpms_contracts import transactions as tx
from opencpms_contracts.common import AuthorizationStatus, IdTokenInfo, RegistrationStatus
from opencpms_contracts.stations import ConnectorStatus
from opencpms_gateway.ocpp_schemas import schemas
from opencpms_gateway.translate import v2

NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
VERSIONS = ["2.0.1", "2.1"]


def answer(version, action, payload):
    schemas(version).check_response(action, payload)
    return payload


def request(version, action, payload):
    schemas(version).check_request(action, payload)
    return payload


@pytest.mark.parametrize("version", VERSIONS)
def test_boot(version):
    payload = request(
        version,
        "BootNotification",
        {
            "reason": "PowerUp",
            "chargingStation": {
                "model": "Terra AC",
                "vendorName": "ABB",
                "serialNumber": "S-1",
                "firmwareVersion": "1.8.2",
                "modem": {"iccid": "8931", "imsi": "2040"},
            },
        },
    )
    boot = v2.boot("CS1", payload, NOW, version)
    assert (boot.identity.vendor, boot.identity.model, boot.reason) == (
        "ABB",
        "Terra AC",
        "PowerUp",
    )
    assert boot.identity.modem_iccid == "8931"
    assert boot.ocpp_version == version
    decision = auth.BootDecision(status=RegistrationStatus.PENDING, interval_s=60)
    assert answer(version, "BootNotification", v2.boot_response(decision, NOW)) == {
        "currentTime": "2026-03-01T10:00:00.000Z",
        "interval": 60,
        "status": "Pending",
    }


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("status", list(AuthorizationStatus))
def test_every_authorization_status_is_a_valid_answer(version, status):
    info = IdTokenInfo(status=status, expires_at=NOW, group_id="FLEET")
    body = answer(version, "Authorize", v2.authorize_response(info))
    assert body["idTokenInfo"]["status"] == status.value
    assert body["idTokenInfo"]["groupIdToken"] == {"idToken": "FLEET", "type": "Central"}


def started(version):
    return request(
        version,
        "TransactionEvent",
        {
            "eventType": "Started",
            "timestamp": "2026-03-01T09:00:00Z",
            "triggerReason": "Authorized",
            "seqNo": 0,
            "transactionInfo": {"transactionId": "f3c1a8e2-tx", "chargingState": "EVConnected"},
            "idToken": {"idToken": "04A2B3C4", "type": "ISO14443"},
            "evse": {"id": 2, "connectorId": 1},
            "meterValue": [
                {
                    "timestamp": "2026-03-01T09:00:00Z",
                    "sampledValue": [
                        {
                            "value": 1.5,
                            "context": "Transaction.Begin",
                            "unitOfMeasure": {"unit": "kWh"},
                        }
                    ],
                }
            ],
        },
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_transaction_started(version):
    info = IdTokenInfo(status=AuthorizationStatus.ACCEPTED)
    start = v2.transaction_event("CS1", started(version), info)
    assert isinstance(start, tx.StartTransaction)
    assert start.station_transaction_id == "f3c1a8e2-tx"
    assert (start.evse_id, start.connector_id, start.seq_no) == (2, 1, 0)
    assert start.meter_start_wh == 1500
    assert start.id_token.type == "ISO14443"
    assert start.charging_state == "EVConnected"
    assert start.id_token_info == info
    assert answer(version, "TransactionEvent", v2.transaction_event_response(info)) == {
        "idTokenInfo": {"status": "Accepted"}
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_transaction_updated_offline(version):
    payload = request(
        version,
        "TransactionEvent",
        {
            "eventType": "Updated",
            "timestamp": "2026-03-01T09:10:00Z",
            "triggerReason": "MeterValuePeriodic",
            "seqNo": 3,
            "offline": True,
            "transactionInfo": {"transactionId": "f3c1a8e2-tx", "chargingState": "Charging"},
            "meterValue": [
                {
                    "timestamp": "2026-03-01T09:10:00Z",
                    "sampledValue": [
                        {"value": 4200, "measurand": "Energy.Active.Import.Register"},
                        {
                            "value": 7.4,
                            "measurand": "Power.Active.Import",
                            "unitOfMeasure": {"unit": "kW"},
                        },
                        {"value": 61, "measurand": "SoC"},
                    ],
                }
            ],
        },
    )
    update = v2.transaction_event("CS1", payload, None)
    assert isinstance(update, tx.UpdateTransaction)
    assert (update.seq_no, update.offline, update.charging_state) == (3, True, "Charging")
    samples = {s.measurand: s for s in update.meter_values[0].samples}
    assert samples["Power.Active.Import"].value == Decimal("7400")
    assert samples["SoC"].unit == "Percent"
    assert answer(version, "TransactionEvent", v2.transaction_event_response(None)) == {}


@pytest.mark.parametrize("version", VERSIONS)
def test_transaction_ended(version):
    payload = request(
        version,
        "TransactionEvent",
        {
            "eventType": "Ended",
            "timestamp": "2026-03-01T10:00:00Z",
            "triggerReason": "EVDeparted",
            "seqNo": 5,
            "transactionInfo": {"transactionId": "f3c1a8e2-tx", "stoppedReason": "EVDisconnected"},
            "meterValue": [
                {
                    "timestamp": "2026-03-01T10:00:00Z",
                    "sampledValue": [{"value": 9000, "context": "Transaction.End"}],
                }
            ],
        },
    )
    end = v2.transaction_event("CS1", payload, None)
    assert isinstance(end, tx.EndTransaction)
    assert (end.meter_stop_wh, end.stop_reason, end.ended_at) == (9000, "EVDisconnected", NOW)


def test_normal_stop_without_reason_is_local():
    payload = {
        "eventType": "Ended",
        "timestamp": "2026-03-01T10:00:00Z",
        "triggerReason": "StopAuthorized",
        "seqNo": 1,
        "transactionInfo": {"transactionId": "t"},
    }
    assert v2.transaction_event("CS1", payload, None).stop_reason == "Local"


@pytest.mark.parametrize("version", VERSIONS)
def test_status_notification(version):
    payload = request(
        version,
        "StatusNotification",
        {
            "timestamp": "2026-03-01T10:00:00Z",
            "connectorStatus": "Occupied",
            "evseId": 1,
            "connectorId": 2,
        },
    )
    event = v2.status_notification("CS1", payload)
    assert (event.evse_id, event.connector_id, event.status) == (1, 2, ConnectorStatus.OCCUPIED)


@pytest.mark.parametrize("version", VERSIONS)
def test_notify_report(version):
    payload = request(
        version,
        "NotifyReport",
        {
            "requestId": 7,
            "generatedAt": "2026-03-01T10:00:00Z",
            "seqNo": 0,
            "tbc": True,
            "reportData": [
                {
                    "component": {"name": "EVSE", "evse": {"id": 1}},
                    "variable": {"name": "Power"},
                    "variableAttribute": [
                        {"type": "Actual", "value": "22000", "mutability": "ReadOnly"}
                    ],
                    "variableCharacteristics": {
                        "unit": "W",
                        "dataType": "decimal",
                        "supportsMonitoring": True,
                    },
                }
            ],
        },
    )
    report = v2.notify_report("CS1", payload)
    assert (report.request_id, report.to_be_continued) == (7, True)
    variable = report.variables[0]
    assert (variable.component, variable.evse_id, variable.variable) == ("EVSE", 1, "Power")
    assert variable.attributes[0]["value"] == "22000"


@pytest.mark.parametrize("version", VERSIONS)
def test_notifications(version):
    event = v2.notify_event(
        "CS1",
        request(
            version,
            "NotifyEvent",
            {
                "generatedAt": "2026-03-01T10:00:00Z",
                "seqNo": 0,
                "eventData": [
                    {
                        "eventId": 1,
                        "timestamp": "2026-03-01T10:00:00Z",
                        "trigger": "Alerting",
                        "actualValue": "Faulted",
                        "eventNotificationType": "HardWiredNotification",
                        "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
                        "variable": {"name": "AvailabilityState"},
                    }
                ],
            },
        ),
    )
    assert event.events[0].actual_value == "Faulted"
    security = v2.security_event(
        "CS1",
        request(
            version,
            "SecurityEventNotification",
            {"type": "SettingSystemTime", "timestamp": "2026-03-01T10:00:00Z"},
        ),
    )
    assert security.type == "SettingSystemTime"
    firmware = v2.firmware_status(
        "CS1",
        request(version, "FirmwareStatusNotification", {"status": "Installed", "requestId": 4}),
        NOW,
    )
    assert (firmware.status, firmware.request_id) == ("Installed", 4)
    log = v2.log_status(
        "CS1",
        request(version, "LogStatusNotification", {"status": "Uploaded", "requestId": 9}),
        NOW,
    )
    assert (log.status, log.request_id) == ("Uploaded", 9)


@pytest.mark.parametrize("version", VERSIONS)
def test_meter_values_outside_transactions(version):
    payload = request(
        version,
        "MeterValues",
        {
            "evseId": 0,
            "meterValue": [
                {
                    "timestamp": "2026-03-01T10:00:00Z",
                    "sampledValue": [{"value": 230.2, "measurand": "Voltage"}],
                }
            ],
        },
    )
    record = v2.meter_values("CS1", payload)
    assert record.evse_id == 0
    assert record.meter_values[0].samples[0].unit == "V"
