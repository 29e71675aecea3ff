"""Version-neutral commands → OCPP 2.0.1 / 2.1 CALLs, and the station's answers back."""

from __future__ import annotations

from typing import Any

from opencpms_contracts import commands as c
from opencpms_gateway.translate.payloads import without_none
from opencpms_gateway.translate.timestamps import format_timestamp as to_ocpp
from opencpms_gateway.translate.v2 import id_token_info
from opencpms_messaging.rpc_errors import NotSupportedError

OcppCall = tuple[str, dict[str, Any]]

_PURPOSES = {
    "StationMaxProfile": "ChargingStationMaxProfile",
    "TxDefaultProfile": "TxDefaultProfile",
    "TxProfile": "TxProfile",
}


def to_call(command: c.Command) -> OcppCall:
    """The 2.0.1 action and payload for ``command``; raises ``NotSupportedError``."""
    match command:
        case c.RemoteStart():
            payload: dict[str, Any] = {
                "idToken": _id_token(command.id_token),
                "remoteStartId": command.remote_start_id,
            }
            if command.evse_id is not None:
                payload["evseId"] = command.evse_id
            if command.charging_profile is not None:
                payload["chargingProfile"] = charging_profile(command.charging_profile)
            return "RequestStartTransaction", payload
        case c.RemoteStop():
            return "RequestStopTransaction", {"transactionId": command.station_transaction_id}
        case c.Reset():
            return "Reset", {"type": "OnIdle" if command.type == "soft" else "Immediate"}
        case c.UnlockConnector():
            return "UnlockConnector", {
                "evseId": command.evse_id,
                "connectorId": command.connector_id,
            }
        case c.ChangeAvailability():
            availability: dict[str, Any] = {
                "operationalStatus": "Operative" if command.operative else "Inoperative"
            }
            if command.evse_id:
                availability["evse"] = _evse(command.evse_id, command.connector_id)
            return "ChangeAvailability", availability
        case c.GetVariables():
            return "GetVariables", {
                "getVariableData": [_variable(v) for v in command.variables],
            }
        case c.SetVariables():
            return "SetVariables", {
                "setVariableData": [
                    {**_variable(v), "attributeValue": v.value} for v in command.variables
                ],
            }
        case c.GetBaseReport():
            return "GetBaseReport", {
                "requestId": command.request_id,
                "reportBase": command.report_base,
            }
        case c.ClearCache():
            return "ClearCache", {}
        case c.TriggerMessage():
            trigger: dict[str, Any] = {"requestedMessage": command.message}
            if command.evse_id is not None:
                trigger["evse"] = _evse(command.evse_id, command.connector_id)
            return "TriggerMessage", trigger
        case c.DataTransfer():
            transfer: dict[str, Any] = {"vendorId": command.vendor_id}
            if command.message_id is not None:
                transfer["messageId"] = command.message_id
            if command.data is not None:
                transfer["data"] = command.data
            return "DataTransfer", transfer
        case c.SendLocalList():
            return "SendLocalList", {
                "versionNumber": command.version,
                "updateType": command.update_type,
                "localAuthorizationList": [_local_list_entry(e) for e in command.entries],
            }
        case c.GetLocalListVersion():
            return "GetLocalListVersion", {}
        case c.ReserveNow():
            reserve: dict[str, Any] = {
                "id": command.reservation_id,
                "expiryDateTime": to_ocpp(command.expires_at),
                "idToken": _id_token(command.id_token),
            }
            if command.evse_id:
                reserve["evseId"] = command.evse_id
            if command.group_id is not None:
                reserve["groupIdToken"] = {"idToken": command.group_id, "type": "Central"}
            return "ReserveNow", reserve
        case c.CancelReservation():
            return "CancelReservation", {"reservationId": command.reservation_id}
        case c.SetChargingProfile():
            return "SetChargingProfile", {
                "evseId": command.evse_id,
                "chargingProfile": charging_profile(command.profile),
            }
        case c.ClearChargingProfile():
            criteria = without_none(
                {
                    "evseId": command.evse_id,
                    "chargingProfilePurpose": _PURPOSES[command.purpose]
                    if command.purpose
                    else None,
                    "stackLevel": command.stack_level,
                }
            )
            clear: dict[str, Any] = {}
            if command.profile_id is not None:
                clear["chargingProfileId"] = command.profile_id
            if criteria:
                clear["chargingProfileCriteria"] = criteria
            return "ClearChargingProfile", clear
        case c.GetCompositeSchedule():
            return "GetCompositeSchedule", without_none(
                {
                    "evseId": command.evse_id,
                    "duration": command.duration_s,
                    "chargingRateUnit": command.charging_rate_unit,
                }
            )
        case c.UpdateFirmware():
            return "UpdateFirmware", without_none(
                {
                    "requestId": command.request_id,
                    "retries": command.retries,
                    "retryInterval": command.retry_interval_s,
                    "firmware": without_none(
                        {
                            "location": command.location,
                            "retrieveDateTime": to_ocpp(command.retrieve_at),
                            "installDateTime": to_ocpp(command.install_at)
                            if command.install_at
                            else None,
                            "signingCertificate": command.signing_certificate,
                            "signature": command.signature,
                        }
                    ),
                }
            )
        case c.UploadLogs():
            return "GetLog", without_none(
                {
                    "logType": command.log_type,
                    "requestId": command.request_id,
                    "retries": command.retries,
                    "retryInterval": command.retry_interval_s,
                    "log": without_none(
                        {
                            "remoteLocation": command.location,
                            "oldestTimestamp": to_ocpp(command.oldest) if command.oldest else None,
                            "latestTimestamp": to_ocpp(command.latest) if command.latest else None,
                        }
                    ),
                }
            )
        case c.GetConfiguration() | c.ChangeConfiguration():
            raise NotSupportedError(
                f"{command.kind} is OCPP 1.6; use get_variables/set_variables on 2.0.1"
            )
    raise NotSupportedError(f"{command.kind} has no OCPP 2.0.1 equivalent")


def answer(action: str, payload: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """Splits a 2.0.1 CALLRESULT payload into its status and the rest.

    GetLocalListVersion answers a version number, not a status; 1.6 calls it ``listVersion``,
    so the version-neutral answer uses that name for both.
    """
    data = dict(payload)
    status = data.pop("status", None)
    if action == "GetLocalListVersion" and "versionNumber" in data:
        data["listVersion"] = data.pop("versionNumber")
    return (status if isinstance(status, str) else None), data


def charging_profile(profile: c.ChargingProfile) -> dict[str, Any]:
    schedule = profile.schedule
    return without_none(
        {
            "id": profile.id,
            "stackLevel": profile.stack_level,
            "chargingProfilePurpose": _PURPOSES[profile.purpose],
            "chargingProfileKind": profile.kind,
            "recurrencyKind": profile.recurrency_kind,
            "validFrom": to_ocpp(profile.valid_from) if profile.valid_from else None,
            "validTo": to_ocpp(profile.valid_to) if profile.valid_to else None,
            "transactionId": profile.station_transaction_id,
            "chargingSchedule": [
                without_none(
                    {
                        "id": schedule.id,
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
                )
            ],
        }
    )


def _id_token(token: Any) -> dict[str, Any]:
    return {"idToken": token.value, "type": token.type}


def _evse(evse_id: int, connector_id: int | None) -> dict[str, Any]:
    evse: dict[str, Any] = {"id": evse_id}
    if connector_id is not None:
        evse["connectorId"] = connector_id
    return evse


def _variable(ref: c.VariableRef) -> dict[str, Any]:
    component: dict[str, Any] = {"name": ref.component}
    if ref.component_instance is not None:
        component["instance"] = ref.component_instance
    if ref.evse_id is not None:
        component["evse"] = _evse(ref.evse_id, ref.connector_id)
    variable: dict[str, Any] = {"name": ref.variable}
    if ref.variable_instance is not None:
        variable["instance"] = ref.variable_instance
    item: dict[str, Any] = {"component": component, "variable": variable}
    if ref.attribute_type is not None:
        item["attributeType"] = ref.attribute_type
    return item


def _local_list_entry(entry: c.LocalListEntry) -> dict[str, Any]:
    item: dict[str, Any] = {"idToken": _id_token(entry.id_token)}
    if entry.id_token_info is not None:
        item["idTokenInfo"] = id_token_info(entry.id_token_info)
    return item
