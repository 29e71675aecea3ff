"""The payloads a simulated station sends, per OCPP version, built as plain dicts: a load run
of thousands of stations cannot afford a model object per frame."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

MODEL = "opencpms-sim-load"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Frames16:
    version = "1.6"

    def boot(self) -> tuple[str, dict[str, Any]]:
        return "BootNotification", {"chargePointVendor": "OpenCPMS", "chargePointModel": MODEL}

    def status(self, status: str) -> tuple[str, dict[str, Any]]:
        return "StatusNotification", {
            "connectorId": 1,
            "errorCode": "NoError",
            "status": status,
            "timestamp": now(),
        }

    def authorize(self, tag: str) -> tuple[str, dict[str, Any]]:
        return "Authorize", {"idTag": tag}

    def start(self, tag: str, meter_wh: int, transaction: Any = None) -> tuple[str, dict[str, Any]]:
        return "StartTransaction", {
            "connectorId": 1,
            "idTag": tag,
            "meterStart": meter_wh,
            "timestamp": now(),
        }

    def meter(self, transaction: Any, seq: int, meter_wh: int) -> tuple[str, dict[str, Any]]:
        return "MeterValues", {
            "connectorId": 1,
            "transactionId": transaction,
            "meterValue": [
                {
                    "timestamp": now(),
                    "sampledValue": [
                        {
                            "value": str(meter_wh),
                            "measurand": "Energy.Active.Import.Register",
                            "unit": "Wh",
                        },
                        {"value": "11000", "measurand": "Power.Active.Import", "unit": "W"},
                    ],
                }
            ],
        }

    def stop(self, transaction: Any, seq: int, meter_wh: int) -> tuple[str, dict[str, Any]]:
        return "StopTransaction", {
            "transactionId": transaction,
            "meterStop": meter_wh,
            "timestamp": now(),
            "reason": "Local",
        }

    def transaction_of(self, answer: dict[str, Any], started: Any) -> Any:
        return answer.get("transactionId")

    def new_transaction(self) -> Any:
        return None


class Frames201:
    version = "2.0.1"

    def boot(self) -> tuple[str, dict[str, Any]]:
        return "BootNotification", {
            "chargingStation": {"model": MODEL, "vendorName": "OpenCPMS"},
            "reason": "PowerUp",
        }

    def status(self, status: str) -> tuple[str, dict[str, Any]]:
        return "StatusNotification", {
            "timestamp": now(),
            "connectorStatus": "Occupied" if status == "Charging" else status,
            "evseId": 1,
            "connectorId": 1,
        }

    def authorize(self, tag: str) -> tuple[str, dict[str, Any]]:
        return "Authorize", {"idToken": {"idToken": tag, "type": "ISO14443"}}

    def start(self, tag: str, meter_wh: int, transaction: Any = None) -> tuple[str, dict[str, Any]]:
        return "TransactionEvent", {
            "eventType": "Started",
            "timestamp": now(),
            "triggerReason": "Authorized",
            "seqNo": 0,
            "transactionInfo": {"transactionId": transaction},
            "evse": {"id": 1, "connectorId": 1},
            "idToken": {"idToken": tag, "type": "ISO14443"},
            "meterValue": [_energy(meter_wh, "Transaction.Begin")],
        }

    def meter(self, transaction: Any, seq: int, meter_wh: int) -> tuple[str, dict[str, Any]]:
        return "TransactionEvent", {
            "eventType": "Updated",
            "timestamp": now(),
            "triggerReason": "MeterValuePeriodic",
            "seqNo": seq,
            "transactionInfo": {"transactionId": transaction, "chargingState": "Charging"},
            "meterValue": [_energy(meter_wh, "Sample.Periodic", power_w=11000)],
        }

    def stop(self, transaction: Any, seq: int, meter_wh: int) -> tuple[str, dict[str, Any]]:
        return "TransactionEvent", {
            "eventType": "Ended",
            "timestamp": now(),
            "triggerReason": "StopAuthorized",
            "seqNo": seq,
            "transactionInfo": {"transactionId": transaction, "stoppedReason": "Local"},
            "meterValue": [_energy(meter_wh, "Transaction.End")],
        }

    def transaction_of(self, answer: dict[str, Any], started: Any) -> Any:
        return started

    def new_transaction(self) -> Any:
        return str(uuid.uuid4())


def _energy(wh: int, context: str, power_w: int | None = None) -> dict[str, Any]:
    sampled: list[dict[str, Any]] = [
        {"value": wh, "measurand": "Energy.Active.Import.Register", "context": context}
    ]
    if power_w is not None:
        sampled.append({"value": power_w, "measurand": "Power.Active.Import", "context": context})
    return {"timestamp": now(), "sampledValue": sampled}


def frames_for(version: str) -> Frames16 | Frames201:
    return Frames16() if version == "1.6" else Frames201()
