"""Running a service process until SIGINT or SIGTERM, then stopping it cleanly."""

from __future__ import annotations

import asyncio
import gc
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

    tune_garbage_collector()
    with asyncio.Runner(loop_factory=event_loop_factory()) as loop_runner:
        loop_runner.run(runner())


# Allocations between young collections, then young collections per middle one, and middle
# ones per full one; CPython's defaults are 700, 10, 10.
GC_THRESHOLDS = (10_000, 10, 10)


def gc_thresholds(setting: str | None) -> tuple[int, int, int]:
    """``OPENCPMS_GC_THRESHOLDS`` ("700,10,10" restores CPython's own) or the services'
    default; ValueError for anything but three non-negative integers."""
    if not setting:
        return GC_THRESHOLDS
    parts = setting.split(",")
    try:
        values = tuple(int(part) for part in parts)
    except ValueError:
        values = ()
    if len(values) != 3 or min(values) < 0:
        raise ValueError(
            f"OPENCPMS_GC_THRESHOLDS must be three integers, as 700,10,10: {setting!r}"
        )
    return values[0], values[1], values[2]


def tune_garbage_collector() -> None:
    """Fewer, larger cyclic collections, and none of them over what was loaded at start.

    With CPython's thresholds a full collection runs whenever the heap has grown by a quarter,
    and it walks the whole heap: a gateway process taking 5,000 stations in a boot storm ran 12
    of them, up to 1 s each with its event loop stopped, 5 to 6 s of the storm in all, and the
    admin service lost 4 s the same way (docs/performance.md). Raising the first threshold makes
    the young collections rarer, so fewer objects are promoted and the full ones come far less
    often; cyclic garbage is still collected, only later. Objects that exist before the event
    loop starts (modules, compiled schemas and statements) live as long as the process: frozen,
    no collection walks them again."""
    gc.set_threshold(*gc_thresholds(os.environ.get("OPENCPMS_GC_THRESHOLDS")))
    gc.collect()
    gc.freeze()


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
