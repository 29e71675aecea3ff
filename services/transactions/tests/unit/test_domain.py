from datetime import UTC, datetime, timedelta
from decimal import Decimal

from opencpms_contracts.common import MeterSample, MeterValue
from opencpms_transactions.domain import Readings, energy_wh, start_key

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def reading(minutes: int, *samples: MeterSample) -> MeterValue:
    return MeterValue(timestamp=T0 + timedelta(minutes=minutes), samples=list(samples))


def register(wh: int, **fields: object) -> MeterSample:
    return MeterSample(value=Decimal(wh), **fields)


def power(w: float) -> MeterSample:
    return MeterSample(measurand="Power.Active.Import", value=Decimal(str(w)), unit="W")


def test_start_key_names_connector_time_and_token():
    key = start_key(evse_id=2, connector_id=1, started_at=T0, id_token="TAG")
    assert key == "2/1/2026-06-01T08:00:00+00:00/TAG"
    assert key != start_key(evse_id=2, connector_id=1, started_at=T0, id_token="OTHER")
    assert start_key(evse_id=1, connector_id=1, started_at=T0, id_token=None).endswith("/")


def test_fold_keeps_the_earliest_and_the_highest_register_whatever_the_order():
    late_first = Readings().fold([reading(30, register(9000)), reading(10, register(4000))])
    in_order = Readings().fold([reading(10, register(4000)), reading(30, register(9000))])
    assert late_first == in_order
    assert late_first.first_register_wh == 4000
    assert late_first.max_register_wh == 9000


def test_fold_ignores_per_phase_and_non_wh_registers():
    state = Readings().fold(
        [reading(0, register(100, phase="L1"), register(5, unit="kvarh"), register(700))]
    )
    assert state.first_register_wh == 700
    assert state.max_register_wh == 700


def test_latest_power_and_soc_win_by_timestamp_not_arrival():
    soc = MeterSample(measurand="SoC", value=Decimal(40), unit="Percent")
    state = Readings().fold([reading(20, power(7400), soc), reading(5, power(11000))])
    assert state.last_power_w == 7400
    assert state.last_soc_percent == 40


def test_energy_from_meter_start_and_stop_or_the_registers():
    state = Readings().fold([reading(1, register(1500)), reading(9, register(4200))])
    assert energy_wh(meter_start_wh=1000, meter_stop_wh=5000, readings=state) == 4000
    assert energy_wh(meter_start_wh=1000, meter_stop_wh=None, readings=state) == 3200
    assert energy_wh(meter_start_wh=None, meter_stop_wh=None, readings=state) == 2700
    assert energy_wh(meter_start_wh=None, meter_stop_wh=None, readings=Readings()) == 0


def test_energy_is_never_negative():
    assert energy_wh(meter_start_wh=5000, meter_stop_wh=10, readings=Readings()) == 0
