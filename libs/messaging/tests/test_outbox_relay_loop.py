"""The relay's wake-up loop: a commit that lands while a batch is being relayed must not wait
for the next poll (an hour here) to be published."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import MetaData

from opencpms_db.outbox import outbox_table
from opencpms_messaging.outbox_relay import OutboxRelay


class _ScriptedRelay(OutboxRelay):
    """Replaces the database round trip with a script; the loop under test is the real one."""

    def __init__(self) -> None:
        super().__init__(
            work=None,  # type: ignore[arg-type]
            outbox=outbox_table(MetaData()),
            publisher=None,  # type: ignore[arg-type]
            poll_interval=3600,
        )
        self.calls = 0
        self.second_pass = asyncio.Event()

    async def relay_batch(self) -> int:
        self.calls += 1
        if self.calls == 1:
            # Another request commits outbox rows while this batch is in flight.
            self.wake()
            return 1
        self.second_pass.set()
        return 0


async def test_wake_during_a_batch_triggers_another_pass() -> None:
    relay = _ScriptedRelay()
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.wait_for(relay.second_pass.wait(), 10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert relay.calls >= 2


async def test_idle_relay_waits_for_a_wake() -> None:
    relay = _ScriptedRelay()
    relay.calls = 1  # past the scripted first batch: every pass now finds nothing
    passes: list[Any] = []
    original = relay.relay_batch

    async def counting() -> int:
        passes.append(None)
        return await original()

    relay.relay_batch = counting  # type: ignore[method-assign]
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.wait_for(relay.second_pass.wait(), 10)
        relay.second_pass.clear()
        for _ in range(20):
            await asyncio.sleep(0)
        idle_passes = len(passes)
        relay.wake()
        await asyncio.wait_for(relay.second_pass.wait(), 10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert idle_passes == 1
    assert len(passes) == 2
