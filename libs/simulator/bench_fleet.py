"""The bench's fleet of stations: registered once through the admin API and reused by later
runs, their passwords set again only when the gateway refuses the saved ones."""

from __future__ import annotations

import argparse
from pathlib import Path

from websockets.exceptions import InvalidStatus

from opencpms_launcher.system import SystemConfig
from opencpms_simulator.bench_report import say
from opencpms_simulator.bench_scenarios import FLEET_DEFAULTS
from opencpms_simulator.connection import station_socket
from opencpms_simulator.fleet import provision, read_credentials, write_credentials
from opencpms_simulator.load import Credential

STATE = Path(".run")


async def bench_fleet(
    args: argparse.Namespace, config: SystemConfig, gateway_url: str
) -> list[Credential]:
    """The bench's stations, registered through the admin API; their credentials are kept in
    ``.run/`` and reused by later runs."""
    path = STATE / f"bench-fleet-{args.database}.json"
    known = read_credentials(path) if path.exists() else []
    if known and not await _accepted(gateway_url, known[0]):
        # Another checkout, or a database made anew, set other passwords for these stations.
        say(f"the gateway refuses the credentials in {path}: setting every password again")
        known = []
    say(f"provisioning {args.stations} stations ({len(known)} known from {path})")
    # The bench database outlives a run, so stations provisioned once are reused; their
    # passwords are set again only when the file and the database disagree.
    fleet = await provision(
        f"http://127.0.0.1:{config.admin_port}",
        config.admin_api_key,
        prefix="BENCH",
        count=args.stations,
        id_tag=FLEET_DEFAULTS["id_tag"],
        known=known,
        concurrency=32,
        progress=say,
    )
    write_credentials(path, sorted({*known, *fleet}, key=lambda c: c.station_id))
    return fleet


async def _accepted(gateway_url: str, credential: Credential) -> bool:
    """False only when the gateway refuses the password (401): any other answer says nothing
    of it, and setting 10,000 passwords again for nothing costs minutes."""
    try:
        async with station_socket(gateway_url, credential.station_id, credential.password, "1.6"):
            return True
    except InvalidStatus as exc:
        if exc.response.status_code == 401:
            return False
        say(f"checking the saved credentials: HTTP {exc.response.status_code}; keeping them")
        return True
    except (OSError, TimeoutError) as exc:
        say(f"checking the saved credentials: {exc!r}; keeping them")
        return True
