"""``make bench``: the whole system started on this machine, four fixed scenarios driven by
the load simulator, and one table of figures with each process's CPU and memory.

Scenarios (sizes from the command line; the defaults are the targets of docs/performance.md):
  a. boot storm: every station connects and boots at once;
  b. steady state: every station runs the full charging mix (meter values every 5 s);
  c. saturation: closed-loop stations, doubling until p99 passes 100 ms, then (by default) two
     steps halving the gap between the last step within the limit and the first past it;
  d. gateway ceiling: closed-loop Heartbeats, which the gateway answers itself.
Benchmarks report; they never fail on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import secrets
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from opencpms_db.access_cost import measure_access_paths
from opencpms_db.provision import with_database
from opencpms_launcher.system import (
    LocalSystem,
    SystemConfig,
    free_port,
    parse_service_processes,
)
from opencpms_messaging.runtime import event_loop_factory, tune_garbage_collector
from opencpms_messaging.testing import temporary_vhost
from opencpms_simulator.bench_fleet import STATE, bench_fleet
from opencpms_simulator.bench_report import merge, print_table, say
from opencpms_simulator.bench_rpc_cost import measure_rpc_round_trip
from opencpms_simulator.bench_scenarios import (
    BOOT_CONNECTS_PER_PROCESS,
    SaturationSteps,
    fixed_scenarios,
    saturation_step,
)
from opencpms_simulator.bench_settle import settle, vacuum_if_autovacuum_is_off
from opencpms_simulator.load import Credential, LoadPlan, run_load
from opencpms_simulator.resources import ResourceMeter, Usage, pids_named, rss_kib

P99_LIMIT_MS = 100.0
# The simulator processes' own CPU and memory, beside the process groups under test.
SIMULATOR = "simulator"


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    config = SystemConfig.from_environment()
    config.database_name = args.database
    config.gateway_nodes = args.gateway_nodes
    config.service_processes = parse_service_processes(args.processes)
    config.gateway_port = free_port(consecutive=args.gateway_nodes)
    config.admin_port = free_port()
    config.admin_api_key = "ocpms_" + secrets.token_urlsafe(32)
    config.extra_env["OPENCPMS_QUEUE_TYPE"] = args.queue_type
    log = (STATE / "bench-system.log").open("w", encoding="utf-8")
    # A virtual host of its own: a `make run` on the same broker must not share its queues.
    async with temporary_vhost(config.amqp_url) as amqp_url:
        config.amqp_url = amqp_url

        def output(line: str) -> None:
            log.write(line + "\n")
            log.flush()

        system = LocalSystem(config, output=output)
        processes = "process" if args.gateway_nodes == 1 else "processes"
        say(f"starting OpenCPMS ({args.gateway_nodes} gateway {processes}); log in {log.name}")
        try:
            await system.start(timeout=120)
            return await _scenarios_on(system, config, args)
        finally:
            await system.stop()
            log.close()


async def _scenarios_on(
    system: LocalSystem, config: SystemConfig, args: argparse.Namespace
) -> dict[str, Any]:
    # One simulator process per entry; the processes take the gateways in turn.
    simulators = args.simulators or args.gateway_nodes
    urls = [
        f"ws://127.0.0.1:{config.gateway_port + n % args.gateway_nodes}/ocpp"
        for n in range(simulators)
    ]
    fleet = await bench_fleet(args, config, urls[0])
    meter = ResourceMeter(_process_groups(system))
    database_url = with_database(config.database_admin_url, config.database_name)
    await vacuum_if_autovacuum_is_off(database_url)  # what earlier runs left behind
    say("measuring the CPU cost of one statement along each database access path")
    results: dict[str, Any] = {
        "stations": args.stations,
        "queue_type": args.queue_type,
        "processes": [process.name for process in system.processes],
        "db_access": await measure_access_paths(database_url),
        "scenarios": {},
    }
    say("measuring the CPU cost of one RPC round trip")
    results["rpc_round_trip"] = await measure_rpc_round_trip(config.amqp_url)
    for name, plan in fixed_scenarios(args, fleet, urls):
        if name[0] in args.scenarios:
            results["scenarios"][name] = await _run(name, plan, meter)
            await settle(config.amqp_url, database_url, meter)
    results["saturation"] = (
        await _saturation(args, fleet, urls, meter, config.amqp_url, database_url)
        if "c" in args.scenarios
        else {"steps": []}
    )
    return results


def _load_in_this_process(plan: LoadPlan) -> dict[str, Any]:
    # As in the services: with CPython's thresholds a simulator process opening 5,000
    # connections spent 6.5 s of a 33 s storm collecting garbage, up to 1.4 s at a time, and
    # every stall showed up as the system's latency.
    tune_garbage_collector()
    began = time.process_time()
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        summary = runner.run(run_load(plan, progress=say))
    # The simulator shares the machine: what it took is part of the picture.
    summary[SIMULATOR] = {
        "cpu_s": time.process_time() - began,
        "rss_mib": rss_kib(os.getpid()) / 1024,
    }
    return summary


async def _run(name: str, plans: list[LoadPlan], meter: ResourceMeter) -> dict[str, Any]:
    say(f"--- {name}: {sum(len(p.stations) for p in plans)} stations")
    meter.start()
    # One simulator process per gateway: thousands of simulated stations are more than one
    # core's work, and one event loop's lag would be measured as the system's latency.
    loop = asyncio.get_running_loop()
    began = time.monotonic()
    with ProcessPoolExecutor(len(plans), mp_context=multiprocessing.get_context("spawn")) as pool:
        summaries = await asyncio.gather(
            *(loop.run_in_executor(pool, _load_in_this_process, plan) for plan in plans)
        )
    usage = meter.stop()
    elapsed = max(time.monotonic() - began, 1e-6)
    # Measured inside the simulator processes, which have ended by now.
    simulators = [summary.pop(SIMULATOR) for summary in summaries]
    merged = merge(summaries)
    merged["usage"] = {group: asdict(u) for group, u in usage.items()}
    merged["usage"][SIMULATOR] = asdict(
        Usage(
            round(100 * sum(s["cpu_s"] for s in simulators) / elapsed, 1),
            round(sum(s["rss_mib"] for s in simulators), 1),
        )
    )
    say(json.dumps({k: v for k, v in merged.items() if k != "latency_by_action"}))
    return merged


async def _saturation(
    args: argparse.Namespace,
    fleet: list[Credential],
    urls: list[str],
    meter: ResourceMeter,
    amqp_url: str,
    database_url: str,
) -> dict[str, Any]:
    steps: list[dict[str, Any]] = []
    planned = SaturationSteps(
        args.closed_loop_from,
        min(len(fleet), args.closed_loop_stations),
        refinements=args.refinements,
    )
    while (stations := planned.next()) is not None:
        plans = saturation_step(args, fleet, urls, stations)
        result = await _run(f"c. saturation, {stations} closed-loop stations", plans, meter)
        await settle(amqp_url, database_url, meter)
        steps.append(
            {
                "stations": stations,
                "answered_per_s": result["answered_per_s"],
                "p99_ms": result["p99_ms"],
                "errors": result["errors"],
                "usage": result["usage"],
                "latency_by_action": result["latency_by_action"],
            }
        )
        planned.record(stations, _within_limit(result))
    steps.sort(key=lambda step: step["stations"])
    within = [s for s in steps if _within_limit(s)]
    return {
        "steps": steps,
        "best_within_p99": max(within, key=lambda s: s["answered_per_s"], default=None),
    }


def _within_limit(step: dict[str, Any]) -> bool:
    return step["p99_ms"] is not None and step["p99_ms"] <= P99_LIMIT_MS


def _process_groups(system: LocalSystem) -> dict[str, Any]:
    def pids_of(prefix: str) -> Any:
        return lambda: [
            p.handle.pid
            for p in system.processes
            if p.name.startswith(prefix) and p.handle and p.handle.returncode is None
        ]

    return {
        "gateway": pids_of("gateway"),
        "authorization": pids_of("authorization"),
        "transactions": pids_of("transactions"),
        "billing": pids_of("billing"),
        "admin": pids_of("admin"),
        "rabbitmq": lambda: pids_named("beam.smp"),
        "postgresql": lambda: pids_named("postgres"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m opencpms_simulator.bench")
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=60.0, help="steady state length")
    parser.add_argument(
        "--closed-loop-stations",
        type=int,
        default=640,
        help="the most stations of the saturation steps and of the gateway ceiling (default: 640)",
    )
    parser.add_argument(
        "--closed-loop-from",
        type=int,
        default=10,
        help="stations of the first saturation step, doubled at each step until p99 passes "
        "100 ms, then refined (see --refinements) (default: 10)",
    )
    parser.add_argument(
        "--refinements",
        type=int,
        default=2,
        help="saturation steps between the last step within p99 100 ms and the first past it, "
        "each halving the gap (default: 2; 0 for doubling only)",
    )
    parser.add_argument(
        "--gateway-nodes",
        type=int,
        default=1,
        help="gateway processes (default: 1, as make run starts; one answered the full mix with "
        "less CPU per message than two and booted the storm almost as fast, docs/performance.md)",
    )
    parser.add_argument(
        "--simulators",
        type=int,
        default=0,
        help="simulator processes, taking the gateway processes in turn (default: one per "
        "gateway process)",
    )
    parser.add_argument(
        "--processes",
        action="append",
        default=None,
        metavar="SERVICE=N",
        help="more processes of authorization, transactions or billing, as in transactions=2 "
        "(default: one each)",
    )
    parser.add_argument(
        "--boot-connects",
        type=int,
        default=BOOT_CONNECTS_PER_PROCESS,
        help="handshakes in flight per simulator process in the boot storm (default: "
        f"{BOOT_CONNECTS_PER_PROCESS}); raise it for a storm less paced than the simulator's",
    )
    parser.add_argument("--database", default="opencpms_bench")
    parser.add_argument(
        "--queue-type",
        choices=("classic", "quorum"),
        default=os.environ.get("OPENCPMS_QUEUE_TYPE", "classic"),
        help="durable event queues of the bench's one RabbitMQ node (default: classic, or "
        "OPENCPMS_QUEUE_TYPE): quorum queues replicate across a cluster, and on one node "
        "only cost RabbitMQ CPU",
    )
    parser.add_argument(
        "--scenarios", default="dabc", help="which scenarios to run, by letter (default: dabc)"
    )
    parser.add_argument("--json", type=Path, default=STATE / "bench-latest.json")
    args = parser.parse_args(argv)
    if args.gateway_nodes < 1 or args.simulators < 0:
        parser.error("--gateway-nodes must be at least 1 and --simulators at least 0")
    if args.closed_loop_from < 1:
        parser.error("--closed-loop-from must be at least 1")
    if args.refinements < 0:
        parser.error("--refinements must be 0 or more")
    if args.processes is None:
        args.processes = []
    STATE.mkdir(exist_ok=True)
    results = asyncio.run(bench(args))
    args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print_table(results, saved_to=args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
