"""The relay's loop without a database or broker: rows handed over while a pass runs get a
pass of their own at once, an idle relay waits for rows, and memory is bounded."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy import MetaData

from opencpms_db.outbox import outbox_table
from opencpms_messaging.outbox_relay import OutboxRelay, OutboxRow


class _ScriptedRelay(OutboxRelay):
    """Publishing and the database are replaced by records; the loop under test is the real
    one."""

    def __init__(self, **options: int) -> None:
        super().__init__(
            work=None,  # type: ignore[arg-type]
            outbox=outbox_table(MetaData()),
            publisher=None,  # type: ignore[arg-type]
            poll_interval=3600,
            delete_every_s=3600,
            **options,  # type: ignore[arg-type]
        )
        self.published: list[list[object]] = []
        self.passed = asyncio.Event()
        self.second_pass = asyncio.Event()
        self.during_first_pass: list[OutboxRow] = []

    async def _publish(self, rows: Sequence[OutboxRow]) -> None:
        self.published.append([row["event_id"] for row in rows])
        if len(self.published) == 1 and self.during_first_pass:
            # Another request commits while the first pass is in flight.
            self.hand_over(self.during_first_pass)
        if len(self.published) == 2:
            self.second_pass.set()
        self.passed.set()

    async def sweep(self) -> int:
        return 0

    async def delete_published(self, *, force: bool) -> int:
        return 0


def rows(*event_ids: int) -> list[OutboxRow]:
    return [{"event_id": event_id} for event_id in event_ids]


async def test_rows_handed_over_during_a_pass_get_another_pass() -> None:
    relay = _ScriptedRelay()
    relay.during_first_pass = rows(3)
    relay.hand_over(rows(1, 2))
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.wait_for(relay.second_pass.wait(), 10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert relay.published == [[1, 2], [3]]


async def test_an_idle_relay_waits_for_rows() -> None:
    relay = _ScriptedRelay()
    task = asyncio.create_task(relay.run())
    try:
        for _ in range(50):
            await asyncio.sleep(0)
        assert relay.published == []
        relay.hand_over(rows(7))
        await asyncio.wait_for(relay.passed.wait(), 10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert relay.published == [[7]]


def test_rows_past_the_bound_are_left_to_the_sweep() -> None:
    relay = _ScriptedRelay(max_handed_over=3)
    relay.hand_over(rows(1, 2))
    relay.hand_over(rows(3, 4, 5))
    relay.hand_over(rows(6))
    assert relay.left_to_sweep == 3
    assert [row["event_id"] for row in relay._handed_over] == [1, 2, 3]
