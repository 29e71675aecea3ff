"""Translation between the transactions tables and the contracts."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from itertools import groupby
from typing import Any

from opencpms_contracts import transactions as contract
from opencpms_contracts.common import IdToken, IdTokenInfo, MeterSample, MeterValue
from opencpms_transactions.domain import Readings
from opencpms_transactions.tables import LockedTransaction, MeterSampleRecord, TransactionRecord

# A row as the queries load it, or as a station message holds it under its lock.
TransactionRow = TransactionRecord | LockedTransaction


def sample_rows(
    values: list[MeterValue],
    *,
    station_id: str,
    evse_id: int,
    connector_id: int,
    transaction_id: int | None,
) -> list[dict[str, Any]]:
    return [
        {
            "transaction_id": transaction_id,
            "station_id": station_id,
            "evse_id": evse_id,
            "connector_id": connector_id,
            "timestamp": value.timestamp,
            "measurand": sample.measurand,
            "phase": sample.phase,
            "location": sample.location,
            "context": sample.context,
            "unit": sample.unit,
            "value": sample.value,
        }
        for value in values
        for sample in value.samples
    ]


def meter_values(rows: Sequence[MeterSampleRecord]) -> list[MeterValue]:
    """Samples grouped by timestamp, oldest first (``rows`` come ordered by timestamp)."""
    return [
        MeterValue(
            timestamp=timestamp,
            samples=[
                MeterSample(
                    measurand=row.measurand,
                    value=_plain(row.value),
                    unit=row.unit,
                    phase=row.phase,
                    context=row.context,
                    location=row.location,
                )
                for row in group
            ],
        )
        for timestamp, group in groupby(rows, key=lambda row: row.timestamp)
    ]


def _plain(value: Decimal) -> Decimal:
    """The stored value without the column's padding zeros (``4000.000000`` → ``4000``)."""
    if value == value.to_integral_value():
        return Decimal(int(value))
    return value.normalize()


def readings_of(row: TransactionRow) -> Readings:
    return Readings(
        first_register_wh=row.first_register_wh,
        first_register_at=row.first_register_at,
        max_register_wh=row.max_register_wh,
        last_power_w=row.last_power_w,
        last_power_at=row.last_power_at,
        last_soc_percent=row.last_soc_percent,
        last_soc_at=row.last_soc_at,
    )


def readings_values(readings: Readings) -> dict[str, Any]:
    return {
        "first_register_wh": readings.first_register_wh,
        "first_register_at": readings.first_register_at,
        "max_register_wh": readings.max_register_wh,
        "last_power_w": readings.last_power_w,
        "last_power_at": readings.last_power_at,
        "last_soc_percent": readings.last_soc_percent,
        "last_soc_at": readings.last_soc_at,
    }


def id_token_of(row: TransactionRow) -> IdToken | None:
    if row.id_token is None:
        return None
    return IdToken(value=row.id_token, type=row.id_token_type or "ISO14443")


def id_token_info_of(row: TransactionRow) -> IdTokenInfo | None:
    return None if row.id_token_info is None else IdTokenInfo.model_validate(row.id_token_info)


def summary(row: TransactionRow) -> contract.TransactionSummary:
    return contract.TransactionSummary(**_summary_fields(row))


def detail(row: TransactionRow, samples: Sequence[MeterSampleRecord]) -> contract.TransactionDetail:
    return contract.TransactionDetail(**_summary_fields(row), meter_values=meter_values(samples))


def _summary_fields(row: TransactionRow) -> dict[str, Any]:
    return {
        "transaction_id": row.id,
        "station_id": row.station_id,
        "station_transaction_id": row.station_transaction_id,
        "evse_id": row.evse_id,
        "connector_id": row.connector_id,
        "status": contract.TransactionStatus(row.status),
        "id_token": id_token_of(row),
        "started_at": row.started_at,
        "ended_at": row.ended_at,
        "meter_start_wh": row.meter_start_wh,
        "meter_stop_wh": row.meter_stop_wh,
        "energy_wh": row.energy_wh,
        "stop_reason": row.stop_reason,
        "charging_state": row.charging_state,
        "last_power_w": row.last_power_w,
        "last_soc_percent": row.last_soc_percent,
        "updated_at": row.updated_at,
    }


def _event_fields(row: TransactionRow) -> dict[str, Any]:
    return {
        "transaction_id": row.id,
        "station_id": row.station_id,
        "station_transaction_id": row.station_transaction_id,
        "evse_id": row.evse_id,
        "connector_id": row.connector_id,
    }


def started_event(row: TransactionRow) -> contract.TransactionStarted:
    return contract.TransactionStarted(
        **_event_fields(row),
        id_token=id_token_of(row),
        id_token_info=id_token_info_of(row),
        started_at=row.started_at,
        meter_start_wh=row.meter_start_wh,
        reservation_id=row.reservation_id,
    )


def updated_event(
    row: TransactionRow, *, timestamp: Any, values: list[MeterValue]
) -> contract.TransactionUpdated:
    return contract.TransactionUpdated(
        **_event_fields(row),
        timestamp=timestamp,
        energy_wh=row.energy_wh,
        charging_state=row.charging_state,
        meter_values=values,
    )


def ended_event(row: TransactionRow) -> contract.TransactionEnded:
    assert row.ended_at is not None
    return contract.TransactionEnded(
        **_event_fields(row),
        id_token=id_token_of(row),
        started_at=row.started_at,
        ended_at=row.ended_at,
        meter_start_wh=row.meter_start_wh,
        meter_stop_wh=row.meter_stop_wh,
        energy_wh=row.energy_wh,
        stop_reason=row.stop_reason,
    )
