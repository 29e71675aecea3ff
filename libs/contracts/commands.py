"""Operator commands to charge points (ARCHITECTURE §3: ``opencpms.commands``).

A :class:`StationCommand` is published on the ``opencpms.commands`` direct exchange with routing
key = the station id, ``mandatory``, ``reply_to`` and ``correlation_id`` like any RPC request.
Only the gateway node holding the station's websocket has a binding for that key, so RabbitMQ
routes the command to it, or returns it at once when the station is offline. The gateway
translates the command for the station's OCPP version and replies with a
:class:`CommandAnswer`, or with an error reply whose code is one of :class:`CommandErrorCode`.

The commands are version-neutral: 1.6 RemoteStartTransaction and 2.0.1 RequestStartTransaction
are both ``remote_start``. A command that one version cannot express (``get_variables`` on 1.6)
is refused by the gateway with ``not_supported`` rather than approximated.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal, get_args

from pydantic import Field

from opencpms_contracts.base import Contract
from opencpms_contracts.common import IdToken, IdTokenInfo, StationId, UtcDatetime

DEFAULT_TIMEOUT_S = 30.0

EvseNumber = Annotated[int, Field(ge=0, description="0 addresses the whole station")]


class CommandErrorCode(StrEnum):
    OFFLINE = "offline"  # no gateway node holds the station's connection
    TIMEOUT = "timeout"  # the station did not answer in time
    STATION_ERROR = "station_error"  # the station answered with a CALLERROR
    NOT_SUPPORTED = "not_supported"  # the station's OCPP version has no such operation
    INVALID = "invalid"  # the command cannot be expressed as a valid OCPP message


# -- charging profiles (the shape shared by 1.6 and 2.0.1) -------------------------------------


class ChargingSchedulePeriod(Contract):
    start_period_s: int = Field(ge=0)
    limit: float = Field(ge=0, description="In the schedule's charging rate unit")
    number_phases: int | None = Field(default=None, ge=1, le=3)


class ChargingSchedule(Contract):
    id: int = Field(default=1, description="2.0.1 schedule id; ignored by 1.6")
    charging_rate_unit: Literal["W", "A"]
    periods: list[ChargingSchedulePeriod] = Field(min_length=1)
    duration_s: int | None = Field(default=None, ge=0)
    start_schedule: UtcDatetime | None = None
    min_charging_rate: float | None = Field(default=None, ge=0)


class ChargingProfile(Contract):
    id: int
    stack_level: int = Field(ge=0)
    purpose: Literal["StationMaxProfile", "TxDefaultProfile", "TxProfile"] = Field(
        description="StationMaxProfile is 1.6 ChargePointMaxProfile / 2.0.1 "
        "ChargingStationMaxProfile"
    )
    kind: Literal["Absolute", "Recurring", "Relative"]
    recurrency_kind: Literal["Daily", "Weekly"] | None = None
    valid_from: UtcDatetime | None = None
    valid_to: UtcDatetime | None = None
    station_transaction_id: str | None = Field(
        default=None, description="For TxProfile: the transaction it limits (station's id)"
    )
    schedule: ChargingSchedule


# -- the commands ------------------------------------------------------------------------------


class RemoteStart(Contract):
    kind: Literal["remote_start"] = "remote_start"
    id_token: IdToken
    evse_id: int | None = Field(default=None, ge=1)
    remote_start_id: int = Field(
        default=1, ge=0, description="2.0.1 remoteStartId, echoed in the TransactionEvent"
    )
    charging_profile: ChargingProfile | None = None


class RemoteStop(Contract):
    kind: Literal["remote_stop"] = "remote_stop"
    station_transaction_id: str = Field(
        min_length=1, description="The station's transaction id (1.6: OpenCPMS's integer id)"
    )


class Reset(Contract):
    kind: Literal["reset"] = "reset"
    type: Literal["soft", "hard"] = Field(
        description="1.6 Soft/Hard; 2.0.1 OnIdle/Immediate (a soft reset waits for idle)"
    )


class UnlockConnector(Contract):
    kind: Literal["unlock_connector"] = "unlock_connector"
    evse_id: int = Field(ge=1)
    connector_id: int = Field(default=1, ge=1)


class ChangeAvailability(Contract):
    kind: Literal["change_availability"] = "change_availability"
    evse_id: EvseNumber = 0
    connector_id: int | None = Field(default=None, ge=1)
    operative: bool


class GetConfiguration(Contract):
    kind: Literal["get_configuration"] = "get_configuration"
    keys: list[str] = Field(default_factory=list, description="Empty: every key")


class ChangeConfiguration(Contract):
    kind: Literal["change_configuration"] = "change_configuration"
    key: str = Field(min_length=1, max_length=50)
    value: str = Field(max_length=500)


class VariableRef(Contract):
    component: str = Field(min_length=1)
    variable: str = Field(min_length=1)
    component_instance: str | None = None
    variable_instance: str | None = None
    evse_id: int | None = Field(default=None, ge=0)
    connector_id: int | None = Field(default=None, ge=1)
    attribute_type: Literal["Actual", "Target", "MinSet", "MaxSet"] | None = None


class VariableSetting(VariableRef):
    value: str = Field(max_length=1000)


class GetVariables(Contract):
    kind: Literal["get_variables"] = "get_variables"
    variables: list[VariableRef] = Field(min_length=1)


class SetVariables(Contract):
    kind: Literal["set_variables"] = "set_variables"
    variables: list[VariableSetting] = Field(min_length=1)


class GetBaseReport(Contract):
    kind: Literal["get_base_report"] = "get_base_report"
    request_id: int = Field(ge=0)
    report_base: Literal["ConfigurationInventory", "FullInventory", "SummaryInventory"] = (
        "FullInventory"
    )


class ClearCache(Contract):
    kind: Literal["clear_cache"] = "clear_cache"


class TriggerMessage(Contract):
    kind: Literal["trigger_message"] = "trigger_message"
    message: str = Field(
        min_length=1,
        description="The OCPP message to trigger, named as in the station's version "
        "(BootNotification, StatusNotification, MeterValues, Heartbeat, ...)",
    )
    evse_id: int | None = Field(default=None, ge=1)
    connector_id: int | None = Field(default=None, ge=1)


class DataTransfer(Contract):
    kind: Literal["data_transfer"] = "data_transfer"
    vendor_id: str = Field(min_length=1, max_length=255)
    message_id: str | None = Field(default=None, max_length=50)
    data: Any = None


class LocalListEntry(Contract):
    id_token: IdToken
    id_token_info: IdTokenInfo | None = Field(
        default=None, description="Absent in a differential update: remove the entry"
    )


class SendLocalList(Contract):
    kind: Literal["send_local_list"] = "send_local_list"
    version: int = Field(ge=1)
    update_type: Literal["Full", "Differential"] = "Full"
    entries: list[LocalListEntry] = Field(default_factory=list)


class GetLocalListVersion(Contract):
    kind: Literal["get_local_list_version"] = "get_local_list_version"


class ReserveNow(Contract):
    kind: Literal["reserve_now"] = "reserve_now"
    reservation_id: int = Field(ge=0)
    expires_at: UtcDatetime
    id_token: IdToken
    evse_id: int | None = Field(
        default=None, ge=0, description="None or 0: any EVSE (1.6 connectorId 0)"
    )
    group_id: str | None = None


class CancelReservation(Contract):
    kind: Literal["cancel_reservation"] = "cancel_reservation"
    reservation_id: int = Field(ge=0)


class SetChargingProfile(Contract):
    kind: Literal["set_charging_profile"] = "set_charging_profile"
    evse_id: EvseNumber
    profile: ChargingProfile


class ClearChargingProfile(Contract):
    kind: Literal["clear_charging_profile"] = "clear_charging_profile"
    profile_id: int | None = None
    evse_id: EvseNumber | None = None
    purpose: Literal["StationMaxProfile", "TxDefaultProfile", "TxProfile"] | None = None
    stack_level: int | None = Field(default=None, ge=0)


class GetCompositeSchedule(Contract):
    kind: Literal["get_composite_schedule"] = "get_composite_schedule"
    evse_id: EvseNumber
    duration_s: int = Field(ge=1)
    charging_rate_unit: Literal["W", "A"] | None = None


class UpdateFirmware(Contract):
    kind: Literal["update_firmware"] = "update_firmware"
    location: str = Field(min_length=1, max_length=512)
    retrieve_at: UtcDatetime
    request_id: int = Field(default=1, ge=0, description="2.0.1 requestId")
    retries: int | None = Field(default=None, ge=0)
    retry_interval_s: int | None = Field(default=None, ge=0)
    install_at: UtcDatetime | None = Field(default=None, description="2.0.1 only")
    signing_certificate: str | None = Field(default=None, description="2.0.1 only")
    signature: str | None = Field(default=None, description="2.0.1 only")


class UploadLogs(Contract):
    """1.6 GetDiagnostics; 2.0.1 GetLog (DiagnosticsLog or SecurityLog)."""

    kind: Literal["upload_logs"] = "upload_logs"
    location: str = Field(min_length=1, max_length=512)
    request_id: int = Field(default=1, ge=0, description="2.0.1 requestId")
    log_type: Literal["DiagnosticsLog", "SecurityLog"] = "DiagnosticsLog"
    oldest: UtcDatetime | None = None
    latest: UtcDatetime | None = None
    retries: int | None = Field(default=None, ge=0)
    retry_interval_s: int | None = Field(default=None, ge=0)


Command = Annotated[
    RemoteStart
    | RemoteStop
    | Reset
    | UnlockConnector
    | ChangeAvailability
    | GetConfiguration
    | ChangeConfiguration
    | GetVariables
    | SetVariables
    | GetBaseReport
    | ClearCache
    | TriggerMessage
    | DataTransfer
    | SendLocalList
    | GetLocalListVersion
    | ReserveNow
    | CancelReservation
    | SetChargingProfile
    | ClearChargingProfile
    | GetCompositeSchedule
    | UpdateFirmware
    | UploadLogs,
    Field(discriminator="kind"),
]

COMMAND_KINDS: tuple[str, ...] = tuple(
    model.model_fields["kind"].default for model in get_args(get_args(Command)[0])
)


class StationCommand(Contract):
    """The message on ``opencpms.commands`` (routing key = ``station_id``)."""

    station_id: StationId
    command: Command
    timeout_s: float = Field(
        default=DEFAULT_TIMEOUT_S, gt=0, le=300, description="How long the station may take"
    )


class CommandAnswer(Contract):
    """The station's answer, version-neutral where it matters and complete where it does not."""

    station_id: StationId
    ocpp_version: str
    action: str = Field(description="The OCPP action sent, e.g. RemoteStartTransaction")
    status: str | None = Field(
        description="The station's status (Accepted, Rejected, ...); None when the answer "
        "carries none (GetConfiguration, GetCompositeSchedule on 1.6, ...)"
    )
    data: dict[str, Any] = Field(
        default_factory=dict, description="Answer fields other than the status, as sent"
    )
