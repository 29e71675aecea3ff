"""How the bench joins the summaries of simulator processes that ran side by side."""

from __future__ import annotations

from typing import Any

from opencpms_simulator.bench import _merge


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
    merged = _merge(
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
