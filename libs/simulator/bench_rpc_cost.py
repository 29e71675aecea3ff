"""What one RPC round trip costs in CPU, beside the scenarios of ``make bench``.

Nearly every station message is one round trip or more (the gateway's request, the service's
reply) on top of the service's own work, so this is the floor of the CPU per message. Callers
and a server answering from memory run in one process on the services' event loop, on a
virtual host of their own; RabbitMQ's CPU is read from /proc.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

from opencpms_contracts.authorization import AUTHORIZE, AuthorizeIdToken
from opencpms_contracts.common import AuthorizationStatus, IdToken, IdTokenInfo
from opencpms_messaging.broker import Broker
from opencpms_messaging.rpc import RpcClient
from opencpms_messaging.runtime import event_loop_factory, tune_garbage_collector
from opencpms_messaging.testing import temporary_vhost
from opencpms_simulator.resources import pids_named, total_cpu_seconds

CALLERS = 8  # calls in flight at once, as a few stations' would be
_REQUEST = AuthorizeIdToken(station_id="BENCH-RPC", id_token=IdToken(value="BENCHTAG"))
_ANSWER = IdTokenInfo(status=AuthorizationStatus.ACCEPTED)


async def measure_rpc_round_trip(amqp_url: str, *, calls: int = 4000) -> dict[str, float]:
    """CPU microseconds per call in the calling and serving process together and in RabbitMQ,
    and the calls answered per second."""
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return await loop.run_in_executor(pool, _measure_in_this_process, amqp_url, calls)


def _measure_in_this_process(amqp_url: str, calls: int) -> dict[str, float]:
    tune_garbage_collector()
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        return runner.run(_measure(amqp_url, calls))


async def _measure(amqp_url: str, calls: int) -> dict[str, float]:
    async with temporary_vhost(amqp_url) as url:
        serving = await Broker.open(url, name="bench-rpc-server", source="/opencpms/bench")
        calling = await Broker.open(url, name="bench-rpc-client", source="/opencpms/bench")
        try:
            server = await serving.rpc_server(AUTHORIZE.service)

            async def answer(_: AuthorizeIdToken) -> IdTokenInfo:
                return _ANSWER

            server.register(AUTHORIZE, answer)
            await server.start()
            client = await calling.rpc_client()
            await _call(client, CALLERS * 25)  # connections, prepared paths, caches
            rabbitmq = pids_named("beam.smp")
            wall, ours, theirs = time.monotonic(), time.process_time(), total_cpu_seconds(rabbitmq)
            await _call(client, calls)
            wall = time.monotonic() - wall
            ours = time.process_time() - ours
            theirs = total_cpu_seconds(rabbitmq) - theirs
        finally:
            await calling.close()
            await serving.close()
    return {
        "callers": CALLERS,
        "calls": calls,
        "calls_per_s": round(calls / wall),
        "processes_cpu_us": round(ours / calls * 1e6, 1),
        "rabbitmq_cpu_us": round(theirs / calls * 1e6, 1),
    }


async def _call(client: RpcClient, calls: int) -> None:
    async def caller(count: int) -> None:
        for _ in range(count):
            await client.call(AUTHORIZE, _REQUEST, timeout=10)

    share, rest = divmod(calls, CALLERS)
    await asyncio.gather(*(caller(share + (n < rest)) for n in range(CALLERS)))
