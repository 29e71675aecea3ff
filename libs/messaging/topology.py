"""The exchanges every OpenCPMS process agrees on (ARCHITECTURE.md §3)."""

from __future__ import annotations

from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange

RPC_EXCHANGE = "opencpms.rpc"
EVENTS_EXCHANGE = "opencpms.events"
COMMANDS_EXCHANGE = "opencpms.commands"
DEAD_LETTER_EXCHANGE = "opencpms.dead-letter"


@dataclass(frozen=True)
class Exchanges:
    rpc: AbstractExchange
    events: AbstractExchange
    commands: AbstractExchange
    dead_letter: AbstractExchange


async def declare_exchanges(channel: AbstractChannel) -> Exchanges:
    """Declares (idempotently) the exchanges on ``channel``. Every process calls this at start,
    so no deployment step has to create them first."""
    rpc = await channel.declare_exchange(RPC_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True)
    events = await channel.declare_exchange(
        EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
    )
    commands = await channel.declare_exchange(
        COMMANDS_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True
    )
    dead_letter = await channel.declare_exchange(
        DEAD_LETTER_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True
    )
    return Exchanges(rpc=rpc, events=events, commands=commands, dead_letter=dead_letter)
