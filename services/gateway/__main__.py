"""``python -m opencpms_gateway run``: the only place settings are built."""

from __future__ import annotations

import argparse
import asyncio
import sys

from opencpms_messaging.runtime import configure_logging, run_until_signalled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m opencpms_gateway")
    parser.add_argument("command", choices=["run"])
    parser.parse_args(argv)
    configure_logging()
    from opencpms_gateway.bootstrap import build
    from opencpms_gateway.settings import Settings

    settings = Settings()

    async def serve(stop: asyncio.Event) -> None:
        node = await build(settings)
        await node.run(stop)

    run_until_signalled(serve)
    return 0


if __name__ == "__main__":
    sys.exit(main())
