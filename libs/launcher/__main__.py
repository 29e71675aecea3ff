"""``python -m opencpms_launcher run``: the whole system on this machine (``make run``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import sys
from pathlib import Path

from opencpms_launcher.system import LocalSystem, SystemConfig, parse_service_processes

STATE_DIR = Path(".run")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m opencpms_launcher")
    parser.add_argument(
        "command",
        choices=["run", "create-user"],
        help="run: the whole system; create-user: a web UI user in the local system's database "
        "(after a first 'make run'; asks for the password)",
    )
    parser.add_argument(
        "--gateway-nodes",
        type=int,
        default=1,
        help="gateway processes to run (ports from OPENCPMS_GATEWAY_PORT up)",
    )
    parser.add_argument(
        "--processes",
        action="append",
        default=[],
        metavar="SERVICE=N",
        help="run N processes of authorization, transactions or billing (repeatable)",
    )
    args, rest = parser.parse_known_args(argv)
    config = SystemConfig.from_environment()
    if args.command == "create-user":
        return _create_user(config, rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    config.gateway_nodes = args.gateway_nodes
    try:
        config.service_processes = parse_service_processes(args.processes)
    except ValueError as exc:
        parser.error(str(exc))
    config.admin_api_key = os.environ.get("OPENCPMS_ADMIN_API_KEY") or _local_api_key()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(config))
    return 0


def _create_user(config: SystemConfig, arguments: list[str]) -> int:
    """The admin service's own command, run with the superuser URL of the local database:
    the service roles' passwords are made afresh by every 'make run' and kept nowhere."""
    import subprocess

    from opencpms_db.provision import with_database

    url = with_database(config.database_admin_url, config.database_name)
    env = {
        **os.environ,
        "OPENCPMS_ADMIN_DATABASE_URL": url.replace("postgresql://", "postgresql+asyncpg://", 1),
    }
    command = [sys.executable, "-m", "opencpms_admin", "create-user", *arguments]
    return subprocess.run(command, env=env, check=False).returncode  # noqa: S603


def _local_api_key() -> str:
    """An admin key for this checkout, made on first run and kept in .run/ (never in git):
    OpenCPMS ships no default key."""
    path = STATE_DIR / "admin-api-key"
    if not path.exists():
        STATE_DIR.mkdir(exist_ok=True)
        path.write_text("ocpms_" + secrets.token_urlsafe(32) + "\n", encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


async def _run(config: SystemConfig) -> None:
    system = LocalSystem(config, output=lambda line: print(line, flush=True))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await system.start()
        _announce(config)
        waiter = asyncio.create_task(stop.wait())
        while not waiter.done():
            await asyncio.wait({waiter}, timeout=1)
            system.raise_if_exited()
    finally:
        print("stopping OpenCPMS...", flush=True)
        await system.stop()
        print("stopped.", flush=True)


def _announce(config: SystemConfig) -> None:
    gateways = ", ".join(
        f"ws://localhost:{config.gateway_port + n}/ocpp/<station id>"
        for n in range(config.gateway_nodes)
    )
    print(
        "\n"
        "OpenCPMS is running.\n"
        f"  OCPP gateway : {gateways} (ocpp1.6, 2.0.1, 2.1)\n"
        f"  Admin API    : http://localhost:{config.admin_port}/docs\n"
        f"  Admin API key: {STATE_DIR / 'admin-api-key'} (header 'Authorization: Bearer <key>')\n"
        f"  Database     : {config.database_name}    Broker: {_redact(config.amqp_url)}\n"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )


def _redact(url: str) -> str:
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    return f"{scheme}://{credentials.split(':')[0]}:***@{host}" if at else url


if __name__ == "__main__":
    sys.exit(main())
