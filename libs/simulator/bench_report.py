"""What the bench reports: progress lines, one summary of the simulator processes that ran
side by side, and the table of figures."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def merged_latencies(parts: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per action, the calls of every part and the worst part's percentiles, as for the run's
    p99: percentiles of merged runs are not the mean of percentiles."""
    merged: dict[str, dict[str, Any]] = {}
    for part in parts:
        for action, figures in part.items():
            if action not in merged:
                merged[action] = dict(figures)
                continue
            into = merged[action]
            into["count"] += figures["count"]
            for key in ("p50_ms", "p90_ms", "p99_ms", "max_ms"):
                into[key] = max(into[key], figures[key])
    return dict(sorted(merged.items()))


def merge(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary of runs that ran side by side (one per gateway process)."""
    duration = max(s["duration_s"] for s in summaries)
    answered = sum(s["answered"] for s in summaries)
    errors: dict[str, int] = {}
    retries: dict[str, int] = {}
    for summary in summaries:
        for kind, n in summary["errors"].items():
            errors[kind] = errors.get(kind, 0) + n
        for kind, n in summary.get("retries", {}).items():
            retries[kind] = retries.get(kind, 0) + n
    merged: dict[str, Any] = {
        "stations": sum(s["stations"] for s in summaries),
        "connected": sum(s["connected"] for s in summaries),
        "booted": sum(s["booted"] for s in summaries),
        "duration_s": duration,
        "answered": answered,
        "answered_per_s": round(answered / duration, 1) if duration else 0.0,
        # The worst of the parts: percentiles of merged runs are not the mean of percentiles.
        "p99_ms": max((s["p99_ms"] for s in summaries if s["p99_ms"] is not None), default=None),
        "errors": errors,
        "retries": retries,
        "latency_by_action": merged_latencies([s["latency_by_action"] for s in summaries]),
    }
    booted_after = [s.get("all_booted_after_s") for s in summaries]
    if any(b is not None for b in booted_after) or "all_booted_after_s" in summaries[0]:
        merged["all_booted_after_s"] = (
            None if any(b is None for b in booted_after) else max(booted_after)  # type: ignore[type-var]
        )
    return merged


def cpu_per_message(step: dict[str, Any]) -> str:
    """Each process group's CPU per answered message and their sum: the figure that has to
    fall for the rate to rise on a machine whose cores are all busy."""
    rate = step["answered_per_s"]
    if not rate:
        return "nothing answered"
    # cpu_percent is percent of one core: ms of CPU per second, over messages per second.
    per_message = {group: u["cpu_percent"] * 10 / rate for group, u in step["usage"].items()}
    groups = ", ".join(f"{group} {ms:.2f}" for group, ms in per_message.items())
    return f"{sum(per_message.values()):.2f} in all ({groups})"


def cpu_shares(step: dict[str, Any]) -> str:
    """Each process group's share of the CPU the groups used. Unlike the milliseconds, the
    shares hardly move when the machine speeds up or slows down, which it does by half within
    an hour on the CI machine kind: a change that makes a service cheaper lowers that
    service's share and raises the others', the simulator's too, whose work per message does
    not change (docs/performance.md, *comparing two versions*)."""
    total = sum(u["cpu_percent"] for u in step["usage"].values())
    if not total:
        return "no CPU measured"
    return ", ".join(
        f"{group} {100 * u['cpu_percent'] / total:.1f}" for group, u in step["usage"].items()
    )


def print_table(results: dict[str, Any], *, saved_to: Path) -> None:
    rows = [
        ("scenario", "stations", "booted", "msg/s", "p99 ms", "errors", "retries", "boot s"),
    ]
    for name, r in results["scenarios"].items():
        rows.append(
            (
                name[:48],
                str(r["stations"]),
                str(r["booted"]),
                f"{r['answered_per_s']:,.0f}",
                str(r["p99_ms"]),
                str(sum(r["errors"].values())),
                str(sum(r.get("retries", {}).values())),
                str(r.get("all_booted_after_s", "")),
            )
        )
    for step in results["saturation"]["steps"]:
        rows.append(
            (
                f"c. saturation, {step['stations']} closed-loop",
                str(step["stations"]),
                "",
                f"{step['answered_per_s']:,.0f}",
                str(step["p99_ms"]),
                str(sum(step["errors"].values())),
                "",
                "",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print()
    print(f"durable event queues: {results.get('queue_type', 'quorum')}")
    print()
    print("CPU (% of one core) and RSS (MiB) per scenario:")
    measured = [(name[:40], r) for name, r in results["scenarios"].items()]
    measured += [
        (f"c. saturation, {step['stations']} closed-loop", step)
        for step in results["saturation"]["steps"]
    ]
    for name, r in measured:
        usage = ", ".join(
            f"{group} {u['cpu_percent']:.0f}% {u['rss_mib']:.0f} MiB"
            for group, u in r["usage"].items()
        )
        print(f"  {name}: {usage}")
    if results["saturation"]["steps"]:
        print()
        print("CPU per answered message at saturation (ms), the simulator's included:")
        for step in results["saturation"]["steps"]:
            print(f"  {step['stations']} closed-loop stations: {cpu_per_message(step)}")
        print("Share of that CPU by process group at saturation (%):")
        for step in results["saturation"]["steps"]:
            print(f"  {step['stations']} closed-loop stations: {cpu_shares(step)}")
    if results.get("db_access"):
        print()
        print("CPU per statement by database access path (a bound value echoed back):")
        for path, cost in results["db_access"].items():
            print(
                f"  {path:<52}{cost['cpu_us']:>7.0f} µs  {cost['x_baseline']:>5.1f}x of the driver"
            )
    cost = results.get("rpc_round_trip")
    if cost:
        print(
            f"CPU per RPC round trip (an answer from memory, {cost['callers']} calls in flight): "
            f"{cost['processes_cpu_us']:.0f} µs in the calling and serving process, "
            f"{cost['rabbitmq_cpu_us']:.0f} µs in RabbitMQ; {cost['calls_per_s']:,} calls/s"
        )
    storm = next((r for n, r in results["scenarios"].items() if n.startswith("a.")), None)
    if storm and storm["booted"]:
        gateway = storm["usage"]["gateway"]["rss_mib"]
        print(
            f"gateway RSS with {storm['booted']} stations connected: {gateway:.0f} MiB "
            f"= {gateway * 1024 / storm['booted']:.0f} KiB per station (incl. baseline)"
        )
    print(f"\nall figures: {saved_to}")
