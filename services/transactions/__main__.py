"""``python -m opencpms_transactions run|migrate|check``: the only place settings are built."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from opencpms_messaging.runtime import (
    configure_logging,
    probe_exit_status,
    run_until_signalled,
)
from opencpms_transactions.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m opencpms_transactions")
    parser.add_argument("command", choices=["run", "migrate", "check"])
    args = parser.parse_args(argv)
    configure_logging()
    settings = Settings()
    if args.command == "check":
        from opencpms_db.health import database_problem
        from opencpms_messaging.health import broker_problem

        # The database (SELECT 1) and the broker, each within 10 s.
        return asyncio.run(
            probe_exit_status(
                database_problem(settings.database_url.get_secret_value(), timeout=10.0),
                broker_problem(settings.amqp_url.get_secret_value(), timeout=10.0),
            )
        )
    if args.command == "migrate":
        from opencpms_db.migrations import upgrade

        upgrade(MIGRATIONS, settings.database_url.get_secret_value())
        return 0

    from opencpms_transactions.bootstrap import build

    async def serve(stop: asyncio.Event) -> None:
        service = await build(settings)
        await service.run(stop)

    run_until_signalled(serve)
    return 0


if __name__ == "__main__":
    sys.exit(main())
