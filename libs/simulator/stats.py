"""What a load run measured: answered calls and their latency per action, errors by kind,
and the summary printed at the end (JSON and a table for people)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Recorder:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    connected: int = 0  # now
    max_connected: int = 0
    booted: int = 0
    answered: int = 0

    def answer(self, action: str, seconds: float) -> None:
        self.latencies[action].append(seconds)
        self.answered += 1

    def error(self, kind: str) -> None:
        self.errors[kind] += 1

    def retry(self, kind: str) -> None:
        self.retries[kind] += 1

    def summary(self, *, stations: int, duration_s: float) -> dict[str, Any]:
        actions = {}
        for action, values in sorted(self.latencies.items()):
            ordered = sorted(values)
            actions[action] = {
                "count": len(ordered),
                "p50_ms": round(percentile(ordered, 0.50) * 1000, 2),
                "p90_ms": round(percentile(ordered, 0.90) * 1000, 2),
                "p99_ms": round(percentile(ordered, 0.99) * 1000, 2),
                "max_ms": round(ordered[-1] * 1000, 2),
            }
        every = sorted(v for values in self.latencies.values() for v in values)
        return {
            "stations": stations,
            "connected": self.max_connected,
            "booted": self.booted,
            "duration_s": round(duration_s, 2),
            "answered": self.answered,
            "answered_per_s": round(self.answered / duration_s, 1) if duration_s else 0.0,
            "p99_ms": round(percentile(every, 0.99) * 1000, 2) if every else None,
            "latency_by_action": actions,
            "errors": dict(self.errors),
            "retries": dict(self.retries),
        }


def table(summary: dict[str, Any]) -> str:
    lines = [
        f"stations {summary['stations']}: connected {summary['connected']}, "
        f"booted {summary['booted']}",
        f"answered {summary['answered']} calls in {summary['duration_s']} s = "
        f"{summary['answered_per_s']} msg/s",
        "",
        f"{'action':<24}{'count':>9}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}{'max ms':>10}",
    ]
    for action, figures in summary["latency_by_action"].items():
        lines.append(
            f"{action:<24}{figures['count']:>9}{figures['p50_ms']:>10}{figures['p90_ms']:>10}"
            f"{figures['p99_ms']:>10}{figures['max_ms']:>10}"
        )
    errors = summary["errors"]
    lines.append("")
    if summary.get("retries"):
        lines.append(
            "retried (as a station would): "
            + ", ".join(f"{kind} {n}" for kind, n in sorted(summary["retries"].items()))
        )
    lines.append(
        "errors: none"
        if not errors
        else "errors: " + ", ".join(f"{kind} {n}" for kind, n in sorted(errors.items()))
    )
    return "\n".join(lines)
