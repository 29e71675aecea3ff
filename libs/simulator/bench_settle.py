"""How the bench waits between scenarios: until the queued work is done, the database is
vacuumed where nothing else vacuums it, and the processes are idle."""

from __future__ import annotations

import asyncio
import time

import aio_pika
import asyncpg

from opencpms_admin.consumers import READ_MODEL_QUEUE
from opencpms_billing.consumers import TRANSACTION_ENDED_QUEUE
from opencpms_db.provision import plain_url
from opencpms_launcher.system import RPC_QUEUES
from opencpms_simulator.bench_report import say
from opencpms_simulator.resources import ResourceMeter

# Below this much CPU, summed over the services, RabbitMQ and PostgreSQL, the system is at rest.
QUIET_CPU_PERCENT = 15.0

# The queues that work waits in; a scenario starts only once they are empty.
WORK_QUEUES = (*RPC_QUEUES, READ_MODEL_QUEUE, TRANSACTION_ENDED_QUEUE)


async def settle(
    amqp_url: str, database_url: str, meter: ResourceMeter, *, limit_s: float = 180.0
) -> None:
    """Waits until the system has worked off what the last scenario left behind, so the next
    one measures itself and not its predecessor: first the queued work, then what never shows
    in a queue (thousands of disconnects being unbound and announced), until the processes
    are idle."""
    began = time.perf_counter()
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        while time.perf_counter() - began < limit_s:
            waiting = 0
            for name in WORK_QUEUES:
                queue = await channel.declare_queue(name, passive=True)
                waiting += queue.declaration_result.message_count or 0
            if waiting == 0:
                break
            say(f"waiting for {waiting} queued messages to be worked off")
            await asyncio.sleep(2)
    finally:
        await connection.close()
    await vacuum_if_autovacuum_is_off(database_url)
    while time.perf_counter() - began < limit_s:
        meter.start()
        await asyncio.sleep(1)
        usage = {group: u.cpu_percent for group, u in meter.stop().items()}
        if sum(usage.values()) < QUIET_CPU_PERCENT:
            break
        busiest = sorted(usage, key=usage.__getitem__, reverse=True)[:3]
        say(
            "waiting for the system to come to rest (CPU: "
            + ", ".join(f"{group} {usage[group]:.0f}%" for group in busiest)
            + ")"
        )


async def vacuum_if_autovacuum_is_off(database_url: str) -> None:
    """Outbox rows live for milliseconds and the message log is trimmed as it grows, so a run
    leaves hundreds of thousands of dead rows behind. Without autovacuum (some test servers
    switch it off) they pile up over the scenarios and over runs, and each scenario would be
    measured on a more bloated database than the one before."""
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        if await connection.fetchval("SHOW autovacuum") == "off":
            say("autovacuum is off on this PostgreSQL: vacuuming the bench database")
            await connection.execute("VACUUM (ANALYZE)")
    finally:
        await connection.close()
