"""What the bench reports: one summary of simulator processes that ran side by side, the CPU
per answered message, and the printed table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opencpms_simulator.bench_report import cpu_per_message, cpu_shares, merge, print_table


def _part(answered: int, p99: float, actions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "stations": 5,
        "connected": 5,
        "booted": 5,
        "duration_s": 10.0,
        "answered": answered,
        "answered_per_s": answered / 10,
        "p99_ms": p99,
        "latency_by_action": actions,
        "errors": {"timeout: MeterValues": 1},
        "retries": {},
    }


def _figures(count: int, p50: float, p99: float, top: float) -> dict[str, Any]:
    return {"count": count, "p50_ms": p50, "p90_ms": p50 * 2, "p99_ms": p99, "max_ms": top}


def test_every_process_s_calls_count_and_the_worst_percentiles_stand() -> None:
    merged = merge(
        [
            _part(100, 40.0, {"MeterValues": _figures(60, 10.0, 40.0, 50.0)}),
            _part(
                120,
                90.0,
                {
                    "MeterValues": _figures(70, 12.0, 30.0, 90.0),
                    "Authorize": _figures(5, 3.0, 4.0, 4.0),
                },
            ),
        ]
    )
    assert merged["answered"] == 220
    assert merged["p99_ms"] == 90.0
    assert merged["errors"] == {"timeout: MeterValues": 2}
    assert merged["latency_by_action"] == {
        "Authorize": _figures(5, 3.0, 4.0, 4.0),
        "MeterValues": {
            "count": 130,
            "p50_ms": 12.0,
            "p90_ms": 24.0,
            "p99_ms": 40.0,
            "max_ms": 90.0,
        },
    }


def _step(answered_per_s: float) -> dict[str, Any]:
    return {
        "stations": 20,
        "answered_per_s": answered_per_s,
        "p99_ms": 80.0,
        "errors": {},
        "usage": {
            "gateway": {"cpu_percent": 50.0, "rss_mib": 190.0},
            "postgresql": {"cpu_percent": 25.0, "rss_mib": 900.0},
        },
    }


def test_cpu_per_message_is_each_group_s_share_and_their_sum() -> None:
    # 50 % of a core is 500 ms of CPU a second; over 500 messages a second, 1 ms each.
    assert cpu_per_message(_step(500.0)) == "1.50 in all (gateway 1.00, postgresql 0.50)"
    assert cpu_per_message(_step(0.0)) == "nothing answered"


def test_cpu_shares_are_each_group_s_part_of_the_cpu_measured() -> None:
    assert cpu_shares(_step(500.0)) == "gateway 66.7, postgresql 33.3"
    idle = _step(500.0)
    for usage in idle["usage"].values():
        usage["cpu_percent"] = 0.0
    assert cpu_shares(idle) == "no CPU measured"


def test_the_table_shows_the_saturation_steps_usage_and_cpu_per_message(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    results = {
        "scenarios": {},
        "saturation": {"steps": [_step(500.0)]},
        "queue_type": "classic",
        "rpc_round_trip": {
            "callers": 8,
            "calls": 4000,
            "calls_per_s": 2512,
            "processes_cpu_us": 361.4,
            "rabbitmq_cpu_us": 77.9,
        },
    }
    print_table(results, saved_to=tmp_path / "bench.json")
    out = capsys.readouterr().out
    assert (
        "CPU per RPC round trip (an answer from memory, 8 calls in flight): 361 µs in the "
        "calling and serving process, 78 µs in RabbitMQ; 2,512 calls/s"
    ) in out
    assert "c. saturation, 20 closed-loop: gateway 50% 190 MiB, postgresql 25% 900 MiB" in out
    assert "20 closed-loop stations: 1.50 in all (gateway 1.00, postgresql 0.50)" in out
    assert "20 closed-loop stations: gateway 66.7, postgresql 33.3" in out
    assert f"all figures: {tmp_path / 'bench.json'}" in out
