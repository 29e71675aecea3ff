"""Version-neutral commands → OCPP 1.6 CALLs, and the station's answers back."""

from __future__ import annotations

import json
from typing import Any

from opencpms_contracts import commands as c
from opencpms_gateway.translate.payloads import without_none
from opencpms_gateway.translate.timestamps import format_timestamp as to_ocpp
from opencpms_messaging.rpc_errors import InvalidRequestError, NotSupportedError

OcppCall = tuple[str, dict[str, Any]]

_PURPOSES = {
    "StationMaxProfile": "ChargePointMaxProfile",
    "TxDefaultProfile": "TxDefaultProfile",
    "TxProfile": "TxProfile",
}


def to_call(command: c.Command) -> OcppCall:
    """The 1.6 action and payload for ``command``; raises ``NotSupportedError``."""
    match command:
        case c.RemoteStart():
            payload: dict[str, Any] = {"idTag": command.id_token.value}
            if command.evse_id is not None:
                payload["connectorId"] = command.evse_id
            if command.charging_profile is not None:
                payload["chargingProfile"] = charging_profile(command.charging_profile)
            return "RemoteStartTransaction", payload
        case c.RemoteStop():
            return "RemoteStopTransaction", {
                "transactionId": _integer_transaction_id(command.station_transaction_id)
            }
        case c.Reset():
            return "Reset", {"type": "Soft" if command.type == "soft" else "Hard"}
        case c.UnlockConnector():
            return "UnlockConnector", {"connectorId": command.evse_id}
        case c.ChangeAvailability():
            return "ChangeAvailability", {
                "connectorId": command.evse_id,
                "type": "Operative" if command.operative else "Inoperative",
            }
        case c.GetConfiguration():
            return "GetConfiguration", {"key": command.keys} if command.keys else {}
        case c.ChangeConfiguration():
            return "ChangeConfiguration", {"key": command.key, "value": command.value}
        case c.ClearCache():
            return "ClearCache", {}
        case c.TriggerMessage():
            trigger: dict[str, Any] = {"requestedMessage": command.message}
            if command.evse_id is not None:
                trigger["connectorId"] = command.evse_id
            return "TriggerMessage", trigger
        case c.DataTransfer():
            return "DataTransfer", _data_transfer(command)
        case c.SendLocalList():
            return "SendLocalList", {
                "listVersion": command.version,
                "updateType": command.update_type,
                "localAuthorizationList": [_local_list_entry(e) for e in command.entries],
            }
        case c.GetLocalListVersion():
            return "GetLocalListVersion", {}
        case c.ReserveNow():
            reserve: dict[str, Any] = {
                "connectorId": command.evse_id or 0,
                "expiryDate": to_ocpp(command.expires_at),
                "idTag": command.id_token.value,
                "reservationId": command.reservation_id,
            }
            if command.group_id is not None:
                reserve["parentIdTag"] = command.group_id
            return "ReserveNow", reserve
        case c.CancelReservation():
            return "CancelReservation", {"reservationId": command.reservation_id}
        case c.SetChargingProfile():
            return "SetChargingProfile", {
                "connectorId": command.evse_id,
                "csChargingProfiles": charging_profile(command.profile),
            }
        case c.ClearChargingProfile():
            return "ClearChargingProfile", without_none(
                {
                    "id": command.profile_id,
                    "connectorId": command.evse_id,
                    "chargingProfilePurpose": _PURPOSES[command.purpose]
                    if command.purpose
                    else None,
                    "stackLevel": command.stack_level,
                }
            )
        case c.GetCompositeSchedule():
            return "GetCompositeSchedule", without_none(
                {
                    "connectorId": command.evse_id,
                    "duration": command.duration_s,
                    "chargingRateUnit": command.charging_rate_unit,
                }
            )
        case c.UpdateFirmware():
            return "UpdateFirmware", without_none(
                {
                    "location": command.location,
                    "retrieveDate": to_ocpp(command.retrieve_at),
                    "retries": command.retries,
                    "retryInterval": command.retry_interval_s,
                }
            )
        case c.UploadLogs():
            if command.log_type != "DiagnosticsLog":
                raise NotSupportedError("OCPP 1.6 uploads diagnostics only (no SecurityLog)")
            return "GetDiagnostics", without_none(
                {
                    "location": command.location,
                    "retries": command.retries,
                    "retryInterval": command.retry_interval_s,
                    "startTime": to_ocpp(command.oldest) if command.oldest else None,
                    "stopTime": to_ocpp(command.latest) if command.latest else None,
                }
            )
        case c.GetVariables() | c.SetVariables() | c.GetBaseReport():
            raise NotSupportedError(
                f"{command.kind} is OCPP 2.0.1; use get_configuration/change_configuration on 1.6"
            )
    raise NotSupportedError(f"{command.kind} has no OCPP 1.6 equivalent")


def answer(action: str, payload: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """Splits a 1.6 CALLRESULT payload into its status and the rest."""
    data = dict(payload)
    status = data.pop("status", None)
    return (status if isinstance(status, str) else None), data


def charging_profile(profile: c.ChargingProfile) -> dict[str, Any]:
    schedule = profile.schedule
    return without_none(
        {
            "chargingProfileId": profile.id,
            "transactionId": _integer_transaction_id(profile.station_transaction_id)
            if profile.station_transaction_id
            else None,
            "stackLevel": profile.stack_level,
            "chargingProfilePurpose": _PURPOSES[profile.purpose],
            "chargingProfileKind": profile.kind,
            "recurrencyKind": profile.recurrency_kind,
            "validFrom": to_ocpp(profile.valid_from) if profile.valid_from else None,
            "validTo": to_ocpp(profile.valid_to) if profile.valid_to else None,
            "chargingSchedule": without_none(
                {
                    "duration": schedule.duration_s,
                    "startSchedule": to_ocpp(schedule.start_schedule)
                    if schedule.start_schedule
                    else None,
                    "chargingRateUnit": schedule.charging_rate_unit,
                    "minChargingRate": schedule.min_charging_rate,
                    "chargingSchedulePeriod": [
                        without_none(
                            {
                                "startPeriod": p.start_period_s,
                                "limit": p.limit,
                                "numberPhases": p.number_phases,
                            }
                        )
                        for p in schedule.periods
                    ],
                }
            ),
        }
    )


def _local_list_entry(entry: c.LocalListEntry) -> dict[str, Any]:
    item: dict[str, Any] = {"idTag": entry.id_token.value}
    info = entry.id_token_info
    if info is not None:
        # 1.6 knows Accepted/Blocked/Expired/Invalid/ConcurrentTx only.
        status = info.status.value
        if status not in {"Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"}:
            status = "Invalid"
        item["idTagInfo"] = without_none(
            {
                "status": status,
                "expiryDate": to_ocpp(info.expires_at) if info.expires_at else None,
                "parentIdTag": info.group_id,
            }
        )
    return item


def _data_transfer(command: c.DataTransfer) -> dict[str, Any]:
    payload: dict[str, Any] = {"vendorId": command.vendor_id}
    if command.message_id is not None:
        payload["messageId"] = command.message_id
    if command.data is not None:
        # 1.6 data is a string; structured data travels as its JSON text.
        data = command.data
        payload["data"] = data if isinstance(data, str) else json.dumps(data)
    return payload


def _integer_transaction_id(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidRequestError(f"OCPP 1.6 transaction ids are integers, not {value!r}") from None
