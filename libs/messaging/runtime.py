"""Running a service process until SIGINT or SIGTERM, then stopping it cleanly."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable


def configure_logging() -> None:
    logging.basicConfig(
        level=os.environ.get("OPENCPMS_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # aiormq logs every reconnect attempt at WARNING with a traceback; once is enough.
    logging.getLogger("aiormq").setLevel(logging.ERROR)
    # websockets logs every handshake and close at INFO; at thousands of stations that is noise.
    logging.getLogger("websockets").setLevel(logging.WARNING)


def run_until_signalled(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Runs ``main(stop)``; ``stop`` is set on SIGINT or SIGTERM and ``main`` should return
    soon after. A second signal ends the process at once."""

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, _on_signal, stop)
        await main(stop)

    with asyncio.Runner(loop_factory=event_loop_factory()) as loop_runner:
        loop_runner.run(runner())


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed: the same asyncio API with the loop and its
    socket I/O in C, which every process here spends most of its time in (thousands of small
    websocket, AMQP and PostgreSQL messages a second). ``OPENCPMS_EVENT_LOOP=asyncio`` keeps the
    standard loop."""
    if os.environ.get("OPENCPMS_EVENT_LOOP", "uvloop") == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _on_signal(stop: asyncio.Event) -> None:
    if stop.is_set():
        os._exit(130)
    stop.set()


async def probe_exit_status(*checks: Awaitable[str | None]) -> int:
    """Exit status of a service's ``check`` command (for probes): runs the checks at the same
    time, prints each problem they found, and returns 0 when there was none."""
    problems = [problem for problem in await asyncio.gather(*checks) if problem]
    for problem in problems:
        sys.stderr.write(f"{problem}\n")
    return 1 if problems else 0
