"""One example of every operator command: shown in the admin API's documentation and used by
the tests that check each command kind end to end."""

from __future__ import annotations

from datetime import UTC, datetime

from opencpms_contracts import commands as c
from opencpms_contracts.common import AuthorizationStatus, IdToken, IdTokenInfo

AT = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
TOKEN = IdToken(value="04A2B3C4", type="ISO14443")
PROFILE = c.ChargingProfile(
    id=7,
    stack_level=1,
    purpose="TxDefaultProfile",
    kind="Absolute",
    valid_from=AT,
    schedule=c.ChargingSchedule(
        charging_rate_unit="A",
        start_schedule=AT,
        periods=[
            c.ChargingSchedulePeriod(start_period_s=0, limit=16, number_phases=3),
            c.ChargingSchedulePeriod(start_period_s=3600, limit=8.5),
        ],
    ),
)

COMMAND_EXAMPLES: dict[str, c.Command] = {
    "remote_start": c.RemoteStart(id_token=TOKEN, evse_id=1, charging_profile=PROFILE),
    "remote_stop": c.RemoteStop(station_transaction_id="42"),
    "reset": c.Reset(type="hard"),
    "unlock_connector": c.UnlockConnector(evse_id=2),
    "change_availability": c.ChangeAvailability(evse_id=1, connector_id=1, operative=False),
    "get_configuration": c.GetConfiguration(keys=["HeartbeatInterval"]),
    "change_configuration": c.ChangeConfiguration(key="HeartbeatInterval", value="120"),
    "get_variables": c.GetVariables(
        variables=[c.VariableRef(component="OCPPCommCtrlr", variable="HeartbeatInterval")]
    ),
    "set_variables": c.SetVariables(
        variables=[
            c.VariableSetting(
                component="EVSE", variable="Power", evse_id=1, attribute_type="Target", value="1"
            )
        ]
    ),
    "get_base_report": c.GetBaseReport(request_id=3),
    "clear_cache": c.ClearCache(),
    "trigger_message": c.TriggerMessage(message="StatusNotification", evse_id=1, connector_id=1),
    "data_transfer": c.DataTransfer(vendor_id="com.example", message_id="m", data={"a": 1}),
    "send_local_list": c.SendLocalList(
        version=5,
        entries=[
            c.LocalListEntry(
                id_token=TOKEN,
                id_token_info=IdTokenInfo(status=AuthorizationStatus.NO_CREDIT, expires_at=AT),
            )
        ],
    ),
    "get_local_list_version": c.GetLocalListVersion(),
    "reserve_now": c.ReserveNow(
        reservation_id=9, expires_at=AT, id_token=TOKEN, evse_id=1, group_id="FLEET"
    ),
    "cancel_reservation": c.CancelReservation(reservation_id=9),
    "set_charging_profile": c.SetChargingProfile(evse_id=1, profile=PROFILE),
    "clear_charging_profile": c.ClearChargingProfile(evse_id=1, purpose="StationMaxProfile"),
    "get_composite_schedule": c.GetCompositeSchedule(
        evse_id=1, duration_s=3600, charging_rate_unit="W"
    ),
    "update_firmware": c.UpdateFirmware(location="https://fw.example/1.2.bin", retrieve_at=AT),
    "upload_logs": c.UploadLogs(location="ftp://logs.example/", oldest=AT),
}
