"""Rules of charging sessions: what identifies a retried start, how the energy of a session
follows from its meter readings, and which reading is the latest. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from opencpms_contracts.common import MeterValue

ENERGY_REGISTER = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
SOC = "SoC"


def start_key(
    *, evse_id: int, connector_id: int, started_at: datetime, id_token: str | None
) -> str:
    """What makes two OCPP 1.6 StartTransactions the same: a station that lost the answer
    resends the very same message (same connector, timestamp and idTag), and must get the same
    transactionId back. 1.6 has no transaction id of the station's own to go by."""
    return f"{evse_id}/{connector_id}/{started_at.isoformat()}/{id_token or ''}"


@dataclass(frozen=True)
class Readings:
    """What a session's meter readings add up to, kept on the transaction row so that no
    message has to re-read every sample. Order-independent: offline queues arrive late."""

    first_register_wh: int | None = None
    first_register_at: datetime | None = None
    max_register_wh: int | None = None
    last_power_w: float | None = None
    last_power_at: datetime | None = None
    last_soc_percent: float | None = None
    last_soc_at: datetime | None = None

    def fold(self, values: list[MeterValue]) -> Readings:
        state = self
        for value in values:
            at = value.timestamp
            for sample in value.samples:
                if sample.phase is not None:
                    continue  # per-phase values are kept as samples, the totals drive the row
                if sample.measurand == ENERGY_REGISTER and sample.unit == "Wh":
                    state = state._register(_wh(sample.value), at)
                elif sample.measurand == POWER and sample.unit == "W" and state._newer_power(at):
                    state = replace(state, last_power_w=float(sample.value), last_power_at=at)
                elif sample.measurand == SOC and state._newer_soc(at):
                    state = replace(state, last_soc_percent=float(sample.value), last_soc_at=at)
        return state

    def _newer_power(self, at: datetime) -> bool:
        return self.last_power_at is None or at >= self.last_power_at

    def _newer_soc(self, at: datetime) -> bool:
        return self.last_soc_at is None or at >= self.last_soc_at

    def _register(self, wh: int, at: datetime) -> Readings:
        state = self
        if state.first_register_at is None or at < state.first_register_at:
            state = replace(state, first_register_wh=wh, first_register_at=at)
        if state.max_register_wh is None or wh > state.max_register_wh:
            state = replace(state, max_register_wh=wh)
        return state


def energy_wh(*, meter_start_wh: int | None, meter_stop_wh: int | None, readings: Readings) -> int:
    """Energy delivered: the final register (the stop reading once there is one, else the
    highest reading so far) minus the start reading (the station's meterStart, else the
    earliest reading). Never negative: a meter replaced mid-session must not bill a refund."""
    start = meter_start_wh if meter_start_wh is not None else readings.first_register_wh
    end = meter_stop_wh if meter_stop_wh is not None else readings.max_register_wh
    if start is None or end is None:
        return 0
    return max(0, end - start)


def _wh(value: Decimal) -> int:
    return int(value.to_integral_value())
