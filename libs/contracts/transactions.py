"""Charging sessions: the RPC operations the gateway sends to the transactions service, the
queries admin makes, and the events billing systems consume.

OCPP 1.6 StartTransaction / MeterValues / StopTransaction and OCPP 2.0.1 TransactionEvent
Started / Updated / Ended all become these same requests; nothing here names an OCPP version.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from opencpms_contracts.base import Contract, Event, event, operation
from opencpms_contracts.common import (
    IdToken,
    IdTokenInfo,
    MeterValue,
    Page,
    PageRequest,
    StationId,
    UtcDatetime,
)

EvseId = Annotated[int, Field(ge=1)]
ConnectorId = Annotated[int, Field(ge=1)]
StationTransactionId = Annotated[str, Field(min_length=1, max_length=36)]


class TransactionStatus(StrEnum):
    RUNNING = "Running"
    ENDED = "Ended"


class _StationMessage(Contract):
    """Fields every station-originated transaction message carries."""

    station_id: StationId
    seq_no: int | None = Field(
        default=None,
        ge=0,
        description="2.0.1 seqNo; with the station transaction id it makes retries no-ops",
    )
    trigger_reason: str | None = None
    offline: bool = Field(default=False, description="Queued by the station while offline")
    meter_values: list[MeterValue] = Field(default_factory=list)


class StartTransaction(_StationMessage):
    evse_id: EvseId
    connector_id: ConnectorId = 1
    station_transaction_id: StationTransactionId | None = Field(
        default=None,
        description="The station's own id (2.0.1); absent for 1.6, where OpenCPMS assigns one",
    )
    id_token: IdToken | None = None
    id_token_info: IdTokenInfo | None = Field(
        default=None, description="The authorization decision taken when the session started"
    )
    meter_start_wh: int | None = None
    started_at: UtcDatetime
    reservation_id: int | None = None
    charging_state: str | None = None


class TransactionAccepted(Contract):
    transaction_id: int = Field(description="OpenCPMS's id; also the OCPP 1.6 transactionId")
    station_transaction_id: str
    duplicate: bool = Field(description="True when this request repeated one already stored")


class UpdateTransaction(_StationMessage):
    station_transaction_id: StationTransactionId
    timestamp: UtcDatetime
    evse_id: EvseId | None = None
    connector_id: ConnectorId | None = None
    id_token: IdToken | None = None
    charging_state: str | None = None


class EndTransaction(_StationMessage):
    station_transaction_id: StationTransactionId
    ended_at: UtcDatetime
    evse_id: EvseId | None = None
    connector_id: ConnectorId | None = None
    meter_stop_wh: int | None = None
    stop_reason: str | None = None
    id_token: IdToken | None = Field(default=None, description="Who stopped the session")


class RecordMeterValues(Contract):
    """Meter values that belong to no transaction (clock-aligned connector readings)."""

    station_id: StationId
    evse_id: int = Field(ge=0)
    connector_id: int = Field(ge=0, default=0)
    meter_values: list[MeterValue]


class MeterValuesRecorded(Contract):
    stored: int


class TransactionSummary(Contract):
    transaction_id: int
    station_id: StationId
    station_transaction_id: str
    evse_id: int
    connector_id: int
    status: TransactionStatus
    id_token: IdToken | None
    started_at: UtcDatetime
    ended_at: UtcDatetime | None
    meter_start_wh: int | None
    meter_stop_wh: int | None
    energy_wh: int = Field(description="Energy delivered so far, from the energy register")
    stop_reason: str | None
    charging_state: str | None = None
    last_power_w: float | None = None
    last_soc_percent: float | None = None
    updated_at: UtcDatetime


class TransactionDetail(TransactionSummary):
    meter_values: list[MeterValue]


class ListTransactions(PageRequest):
    station_id: str | None = None
    id_token: str | None = None
    status: TransactionStatus | None = None
    started_from: UtcDatetime | None = None
    started_to: UtcDatetime | None = None


class TransactionPage(Page[TransactionSummary]):
    pass


class TransactionRef(Contract):
    transaction_id: int


class SummarizeTransactions(Contract):
    """Sessions that started in ``[started_from, started_to)``."""

    started_from: UtcDatetime
    started_to: UtcDatetime
    station_id: str | None = None


class TransactionSummaryFigures(Contract):
    sessions: int
    energy_wh: int = Field(description="Energy delivered by those sessions so far")
    running: int = Field(description="Sessions running now, whenever they started")


START_TRANSACTION = operation(
    "transactions.start",
    StartTransaction,
    TransactionAccepted,
    "Records the start of a charging session; a retried start returns the same id.",
)
UPDATE_TRANSACTION = operation(
    "transactions.update",
    UpdateTransaction,
    TransactionAccepted,
    "Records meter values or a state change of a running session.",
)
END_TRANSACTION = operation(
    "transactions.end",
    EndTransaction,
    TransactionAccepted,
    "Records the end of a charging session with its final meter reading.",
)
RECORD_METER_VALUES = operation(
    "transactions.record_meter_values",
    RecordMeterValues,
    MeterValuesRecorded,
    "Stores meter values sent outside any transaction.",
)
LIST_TRANSACTIONS = operation(
    "transactions.list", ListTransactions, TransactionPage, "Transactions, newest first, paged."
)
SUMMARIZE_TRANSACTIONS = operation(
    "transactions.summarize",
    SummarizeTransactions,
    TransactionSummaryFigures,
    "Sessions and energy of a period, and the sessions running now (dashboards).",
)
GET_TRANSACTION = operation(
    "transactions.get",
    TransactionRef,
    TransactionDetail,
    "One transaction with all its meter values.",
)


class _TransactionEvent(Event):
    transaction_id: int
    station_id: StationId
    station_transaction_id: str
    evse_id: int
    connector_id: int


@event
class TransactionStarted(_TransactionEvent):
    event_type = "transaction.started"

    id_token: IdToken | None
    id_token_info: IdTokenInfo | None
    started_at: UtcDatetime
    meter_start_wh: int | None
    reservation_id: int | None = None


@event
class TransactionUpdated(_TransactionEvent):
    event_type = "transaction.updated"

    timestamp: UtcDatetime
    energy_wh: int
    charging_state: str | None = None
    meter_values: list[MeterValue] = Field(default_factory=list)


@event
class TransactionEnded(_TransactionEvent):
    event_type = "transaction.ended"

    id_token: IdToken | None
    started_at: UtcDatetime
    ended_at: UtcDatetime
    meter_start_wh: int | None
    meter_stop_wh: int | None
    energy_wh: int
    stop_reason: str | None
