"""``opencpms-sim``: simulated charge points against an OpenCPMS gateway."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

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
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
