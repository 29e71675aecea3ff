"""``opencpms-sim``: simulated charge points against an OpenCPMS gateway."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from opencpms_simulator.session import SessionPlan, run_session


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="opencpms-sim", description="Simulated OCPP charge points for OpenCPMS."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    session = commands.add_parser("session", help="one station runs one charging session")
    session.add_argument(
        "--url",
        default="ws://localhost:9000/ocpp",
        help="gateway base URL; the station id is appended",
    )
    session.add_argument("--station", required=True, help="station id")
    session.add_argument(
        "--password",
        default=os.environ.get("OPENCPMS_SIM_PASSWORD"),
        help="station password (or OPENCPMS_SIM_PASSWORD)",
    )
    session.add_argument("--id-tag", required=True, help="the driver's RFID tag")
    session.add_argument("--ocpp", choices=["1.6", "2.0.1", "2.1"], default="1.6")
    session.add_argument("--energy-wh", type=int, default=7400)
    session.add_argument("--meter-values", type=int, default=3)
    session.add_argument("--interval", type=float, default=1.0, help="seconds between meter values")
    _add_load_command(commands)
    args = parser.parse_args(argv)
    if args.command == "load":
        return _load(args, parser)
    if not args.password:
        parser.error("--password (or OPENCPMS_SIM_PASSWORD) is required")
    plan = SessionPlan(
        url=args.url,
        station_id=args.station,
        password=args.password,
        id_tag=args.id_tag,
        version=args.ocpp,
        energy_wh=args.energy_wh,
        meter_values=args.meter_values,
        interval_s=args.interval,
    )
    try:
        asyncio.run(run_session(plan, lambda line: print(line, flush=True)))
    except OSError as exc:
        print(f"cannot reach the gateway: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a refused handshake or an unexpected answer, shown plainly
        print(f"session failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


def _add_load_command(commands: Any) -> None:
    load = commands.add_parser(
        "load",
        help="many stations at once: connect, boot and run a message mix; prints latency",
        description="Simulates N stations against a gateway and reports answered msg/s, "
        "latency percentiles per action and errors by kind (JSON with --json).",
    )
    load.add_argument("--url", default="ws://localhost:9000/ocpp", help="gateway base URL")
    load.add_argument("--stations", type=int, default=100, help="how many stations")
    source = load.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--credentials", type=Path, help="file of station_id,password (CSV) or JSON"
    )
    source.add_argument(
        "--provision",
        type=Path,
        metavar="FILE",
        help="register the stations through the admin API (--admin-url, --api-key) and keep "
        "their credentials in FILE; stations already in FILE are reused",
    )
    load.add_argument("--admin-url", default="http://localhost:8000")
    load.add_argument(
        "--api-key",
        default=os.environ.get("OPENCPMS_SIM_API_KEY"),
        help="admin API key (or OPENCPMS_SIM_API_KEY)",
    )
    load.add_argument("--prefix", default="SIM", help="station id prefix when provisioning")
    load.add_argument("--ocpp", choices=["1.6", "2.0.1", "2.1", "mix"], default="1.6")
    load.add_argument("--mix", choices=["boot", "heartbeat", "full"], default="full")
    load.add_argument("--duration", type=float, default=60.0, help="seconds")
    load.add_argument("--ramp", type=float, default=0.0, help="connections per second (0: all)")
    load.add_argument("--meter-interval", type=float, default=5.0)
    load.add_argument("--heartbeat-interval", type=float, default=60.0)
    load.add_argument("--closed-loop", action="store_true", help="no pauses between calls")
    load.add_argument("--id-tag", default="SIMTAG")
    load.add_argument(
        "--ignore-retry-after",
        action="store_true",
        help="after a 503, back off 2-8 s at random instead of waiting the gateway's Retry-After "
        "(as chargers with a fixed reconnect policy do)",
    )
    load.add_argument("--json", type=Path, help="also write the summary as JSON here")


def _load(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from opencpms_messaging.runtime import tune_garbage_collector
    from opencpms_simulator.fleet import provision, read_credentials, write_credentials
    from opencpms_simulator.load import LoadPlan, run_load
    from opencpms_simulator.stats import table

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    if args.credentials:
        fleet = read_credentials(args.credentials)[: args.stations]
    else:
        if not args.api_key:
            parser.error("--provision needs --api-key (or OPENCPMS_SIM_API_KEY)")
        known = read_credentials(args.provision) if args.provision.exists() else []
        fleet = asyncio.run(
            provision(
                args.admin_url,
                args.api_key,
                prefix=args.prefix,
                count=args.stations,
                id_tag=args.id_tag,
                known=known,
                progress=say,
            )
        )
        write_credentials(args.provision, sorted({*known, *fleet}, key=lambda c: c.station_id))
    if len(fleet) < args.stations:
        parser.error(f"only {len(fleet)} credentials for {args.stations} stations")
    plan = LoadPlan(
        url=args.url,
        stations=fleet,
        duration_s=args.duration,
        versions=("1.6", "2.0.1") if args.ocpp == "mix" else (args.ocpp,),
        mix=args.mix,
        ramp_per_s=args.ramp,
        heartbeat_s=args.heartbeat_interval,
        meter_s=args.meter_interval,
        closed_loop=args.closed_loop,
        id_tag=args.id_tag,
        honour_retry_after=not args.ignore_retry_after,
    )
    # Thousands of connections are a heap a default collector keeps walking (bench.py).
    tune_garbage_collector()
    summary = asyncio.run(run_load(plan, progress=say))
    print(table(summary))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return 0 if not summary["errors"] else 2


if __name__ == "__main__":
    sys.exit(main())
