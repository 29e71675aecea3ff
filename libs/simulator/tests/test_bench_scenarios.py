"""How the bench shares its fleet among the simulator processes, scenario by scenario."""

from __future__ import annotations

import argparse

from opencpms_simulator.bench_scenarios import (
    SaturationSteps,
    fixed_scenarios,
    saturation_step,
    spread,
)
from opencpms_simulator.load import Credential

URLS = ["ws://127.0.0.1:9000/ocpp", "ws://127.0.0.1:9001/ocpp"]


def _fleet(count: int) -> list[Credential]:
    return [Credential(f"BENCH{n:05d}", "p" * 16) for n in range(count)]


def _args(**given: object) -> argparse.Namespace:
    defaults: dict[str, object] = {"seconds": 60.0, "closed_loop_stations": 4, "boot_connects": 7}
    return argparse.Namespace(**(defaults | given))


def test_stations_are_dealt_in_turn_so_every_gateway_gets_its_share() -> None:
    shared = spread(_fleet(5), URLS)
    assert [url for url, _ in shared] == URLS
    assert [c.station_id for c in shared[0][1]] == ["BENCH00000", "BENCH00002", "BENCH00004"]
    assert [c.station_id for c in shared[1][1]] == ["BENCH00001", "BENCH00003"]


def test_a_saturation_step_runs_just_its_stations_closed_loop_for_a_third_of_the_seconds() -> None:
    plans = saturation_step(_args(seconds=90.0), _fleet(100), URLS, 40)
    assert sum(len(plan.stations) for plan in plans) == 40
    assert {(plan.mix, plan.closed_loop, plan.duration_s) for plan in plans} == {
        ("full", True, 30.0)
    }


def test_the_fixed_scenarios_come_in_the_order_they_run_with_their_sizes() -> None:
    scenarios = dict(fixed_scenarios(_args(), _fleet(10), URLS))
    assert [name[0] for name in scenarios] == ["d", "a", "b"]
    ceiling = next(plans for name, plans in scenarios.items() if name.startswith("d."))
    assert sum(len(plan.stations) for plan in ceiling) == 4  # --closed-loop-stations
    storm = next(plans for name, plans in scenarios.items() if name.startswith("a."))
    assert sum(len(plan.stations) for plan in storm) == 10
    assert all(plan.stop_when_booted and plan.connect_concurrency == 7 for plan in storm)


def test_the_steady_state_fleet_joins_at_the_same_total_rate_whatever_the_processes() -> None:
    for urls in (URLS[:1], URLS):
        steady = next(
            plans for name, plans in fixed_scenarios(_args(), _fleet(1000), urls) if name[0] == "b"
        )
        assert sum(plan.ramp_per_s for plan in steady) == 100.0
        assert {plan.duration_s for plan in steady} == {1000 / 100.0 + 60.0}


def _steps_until(planned: SaturationSteps, limit_at: int) -> list[int]:
    """The steps run against a system whose p99 passes the limit from ``limit_at`` stations."""
    ran = []
    while (stations := planned.next()) is not None:
        ran.append(stations)
        planned.record(stations, within=stations < limit_at)
    return ran


def test_saturation_doubles_then_halves_the_gap_twice() -> None:
    assert _steps_until(SaturationSteps(10, 640), limit_at=55) == [10, 20, 40, 80, 60, 50]
    assert _steps_until(SaturationSteps(10, 640), limit_at=75) == [10, 20, 40, 80, 60, 70]


def test_saturation_stops_at_the_most_stations_when_the_limit_is_never_passed() -> None:
    assert _steps_until(SaturationSteps(10, 100), limit_at=1000) == [10, 20, 40, 80]


def test_saturation_past_the_limit_at_once_tries_fewer_stations() -> None:
    assert _steps_until(SaturationSteps(10, 640), limit_at=3) == [10, 5, 2]


def test_saturation_stops_refining_when_no_count_lies_between() -> None:
    assert _steps_until(SaturationSteps(1, 640), limit_at=2) == [1, 2]


def test_saturation_refines_only_as_often_as_asked() -> None:
    assert _steps_until(SaturationSteps(40, 40), limit_at=10) == [40, 20, 10]
    assert _steps_until(SaturationSteps(40, 40, refinements=0), limit_at=10) == [40]
