"""OCPP 1.6 frames as real stations send them, through translate and back; every answer is
checked against the OCPP 1.6 response schema."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from opencpms_contracts import authorization as auth
from opencpms_contracts import transactions as tx
from opencpms_contracts.common import AuthorizationStatus, IdTokenInfo, RegistrationStatus
from opencpms_contracts.data_transfer import DataTransferReply, DataTransferStatus
from opencpms_contracts.stations import ConnectorStatus
from opencpms_gateway.ocpp_schemas import schemas
from opencpms_gateway.translate import v16
from opencpms_gateway.translate.errors import TranslationError

NOW = datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)
SCHEMAS = schemas("1.6")


def answer(action, payload):
    SCHEMAS.check_response(action, payload)
    return payload


def test_boot_notification():
    payload = {
        "chargePointVendor": "Alfen BV",
        "chargePointModel": "NG920-61001",
        "chargePointSerialNumber": "ACE0123456",
        "chargeBoxSerialNumber": "ACE0123456-BOX",
        "firmwareVersion": "6.1.0-3880",
        "iccid": "8931",
        "imsi": "2040",
        "meterType": "Inepro PRO380",
        "meterSerialNumber": "2001234",
    }
    SCHEMAS.check_request("BootNotification", payload)
    request = v16.boot("CP1", payload, NOW)
    assert request.ocpp_version == "1.6"
    assert request.identity.vendor == "Alfen BV"
    assert request.identity.serial_number == "ACE0123456"
    assert request.identity.meter_type == "Inepro PRO380"
    response = answer(
        "BootNotification",
        v16.boot_response(
            auth.BootDecision(status=RegistrationStatus.ACCEPTED, interval_s=300), NOW
        ),
    )
    assert response == {
        "status": "Accepted",
        "currentTime": "2026-03-01T10:00:00.123Z",
        "interval": 300,
    }


@pytest.mark.parametrize(
    ("status", "v16_status"),
    [
        (AuthorizationStatus.ACCEPTED, "Accepted"),
        (AuthorizationStatus.BLOCKED, "Blocked"),
        (AuthorizationStatus.EXPIRED, "Expired"),
        (AuthorizationStatus.UNKNOWN, "Invalid"),
        (AuthorizationStatus.NO_CREDIT, "Invalid"),
        (AuthorizationStatus.CONCURRENT_TX, "ConcurrentTx"),
    ],
)
def test_id_tag_info_uses_the_16_statuses(status, v16_status):
    response = answer("Authorize", v16.authorize_response(IdTokenInfo(status=status)))
    assert response["idTagInfo"]["status"] == v16_status


def test_id_tag_info_carries_expiry_and_parent():
    info = IdTokenInfo(status=AuthorizationStatus.ACCEPTED, expires_at=NOW, group_id="FLEET-7")
    assert answer("Authorize", v16.authorize_response(info)) == {
        "idTagInfo": {
            "status": "Accepted",
            "expiryDate": "2026-03-01T10:00:00.123Z",
            "parentIdTag": "FLEET-7",
        }
    }


def test_start_transaction():
    payload = {
        "connectorId": 2,
        "idTag": "04A2B3C4",
        "meterStart": 123456,
        "timestamp": "2026-03-01T09:59:58Z",
        "reservationId": 7,
    }
    SCHEMAS.check_request("StartTransaction", payload)
    info = IdTokenInfo(status=AuthorizationStatus.ACCEPTED)
    request = v16.start_transaction("CP1", payload, info)
    assert (request.evse_id, request.connector_id) == (2, 1)
    assert request.id_token.value == "04A2B3C4"
    assert request.meter_start_wh == 123456
    assert request.started_at == datetime(2026, 3, 1, 9, 59, 58, tzinfo=UTC)
    assert request.station_transaction_id is None
    assert request.reservation_id == 7
    accepted = tx.TransactionAccepted(
        transaction_id=42, station_transaction_id="42", duplicate=False
    )
    assert answer("StartTransaction", v16.start_transaction_response(accepted, info)) == {
        "transactionId": 42,
        "idTagInfo": {"status": "Accepted"},
    }


def test_stop_transaction_with_transaction_data():
    payload = {
        "transactionId": 42,
        "idTag": "04A2B3C4",
        "meterStop": 130000,
        "timestamp": "2026-03-01T11:00:00.000+01:00",
        "reason": "EVDisconnected",
        "transactionData": [
            {
                "timestamp": "2026-03-01T09:59:58Z",
                "sampledValue": [
                    {"value": "123.456", "unit": "kWh", "context": "Transaction.Begin"}
                ],
            },
            {
                "timestamp": "2026-03-01T10:00:00Z",
                "sampledValue": [{"value": "130000", "context": "Transaction.End"}],
            },
        ],
    }
    SCHEMAS.check_request("StopTransaction", payload)
    request = v16.stop_transaction("CP1", payload)
    assert request.station_transaction_id == "42"
    assert request.ended_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert request.stop_reason == "EVDisconnected"
    assert request.meter_values[0].samples[0].value == Decimal("123456")
    assert request.meter_values[0].samples[0].unit == "Wh"
    assert answer("StopTransaction", v16.stop_transaction_response(None)) == {}


def test_stop_without_reason_is_local():
    payload = {"transactionId": 1, "meterStop": 5, "timestamp": "2026-03-01T10:00:00Z"}
    assert v16.stop_transaction("CP1", payload).stop_reason == "Local"


def test_meter_values_of_a_transaction():
    payload = {
        "connectorId": 1,
        "transactionId": 42,
        "meterValue": [
            {
                "timestamp": "2026-03-01T10:05:00Z",
                "sampledValue": [
                    {
                        "value": "125000",
                        "measurand": "Energy.Active.Import.Register",
                        "unit": "Wh",
                        "context": "Sample.Periodic",
                        "location": "Outlet",
                    },
                    {"value": "11.04", "measurand": "Power.Active.Import", "unit": "kW"},
                    {"value": "16.1", "measurand": "Current.Import", "phase": "L1"},
                    {"value": "54", "measurand": "SoC"},
                    {"value": "98", "measurand": "Temperature", "unit": "Fahrenheit"},
                    {"value": "1200", "measurand": "RPM"},
                ],
            }
        ],
    }
    SCHEMAS.check_request("MeterValues", payload)
    request = v16.meter_values("CP1", payload)
    assert isinstance(request, tx.UpdateTransaction)
    assert request.station_transaction_id == "42"
    assert request.timestamp == datetime(2026, 3, 1, 10, 5, tzinfo=UTC)
    samples = {s.measurand: s for s in request.meter_values[0].samples}
    assert (samples["Power.Active.Import"].value, samples["Power.Active.Import"].unit) == (
        Decimal("11040"),
        "W",
    )
    assert samples["Current.Import"].unit == "A"
    assert samples["Current.Import"].phase == "L1"
    assert samples["SoC"].unit == "Percent"
    assert samples["Temperature"].unit == "Fahrenheit"
    assert samples["RPM"].unit == "RPM"
    assert samples["Energy.Active.Import.Register"].location == "Outlet"


def test_meter_values_outside_a_transaction():
    payload = {
        "connectorId": 0,
        "meterValue": [{"timestamp": "2026-03-01T10:05:00Z", "sampledValue": [{"value": "99"}]}],
    }
    request = v16.meter_values("CP1", payload)
    assert isinstance(request, tx.RecordMeterValues)
    assert (request.evse_id, request.connector_id) == (0, 0)


def test_non_numeric_meter_value_is_a_translation_error():
    payload = {
        "connectorId": 1,
        "meterValue": [{"timestamp": "2026-03-01T10:05:00Z", "sampledValue": [{"value": "n/a"}]}],
    }
    with pytest.raises(TranslationError):
        v16.meter_values("CP1", payload)


@pytest.mark.parametrize(
    ("ocpp_status", "status"),
    [
        ("Available", ConnectorStatus.AVAILABLE),
        ("Preparing", ConnectorStatus.OCCUPIED),
        ("Charging", ConnectorStatus.OCCUPIED),
        ("SuspendedEV", ConnectorStatus.OCCUPIED),
        ("Finishing", ConnectorStatus.OCCUPIED),
        ("Reserved", ConnectorStatus.RESERVED),
        ("Unavailable", ConnectorStatus.UNAVAILABLE),
        ("Faulted", ConnectorStatus.FAULTED),
    ],
)
def test_status_notification(ocpp_status, status):
    payload = {
        "connectorId": 3,
        "errorCode": "NoError",
        "status": ocpp_status,
        "timestamp": "2026-03-01T10:05:00Z",
    }
    SCHEMAS.check_request("StatusNotification", payload)
    event = v16.status_notification("CP1", payload, NOW)
    assert (event.evse_id, event.connector_id, event.status, event.ocpp_status) == (
        3,
        1,
        status,
        ocpp_status,
    )
    assert event.error_code is None


def test_station_level_fault_without_timestamp_uses_receipt_time():
    payload = {
        "connectorId": 0,
        "errorCode": "GroundFailure",
        "status": "Faulted",
        "vendorErrorCode": "E42",
    }
    event = v16.status_notification("CP1", payload, NOW)
    assert (event.evse_id, event.connector_id, event.error_code, event.timestamp) == (
        0,
        0,
        "GroundFailure",
        NOW,
    )
    assert event.vendor_error_code == "E42"


def test_data_transfer_round_trip():
    request = v16.data_transfer("CP1", {"vendorId": "com.acme", "messageId": "m", "data": "x"})
    assert (request.vendor_id, request.message_id, request.data) == ("com.acme", "m", "x")
    reply = DataTransferReply(status=DataTransferStatus.ACCEPTED, data={"ok": True})
    assert answer("DataTransfer", v16.data_transfer_response(reply)) == {
        "status": "Accepted",
        "data": '{"ok":true}',
    }


def test_heartbeat_response():
    assert answer("Heartbeat", v16.heartbeat_response(NOW)) == {
        "currentTime": "2026-03-01T10:00:00.123Z"
    }
