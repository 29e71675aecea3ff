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


class _Work:
    """The unit of work the relay deletes in: fails while ``relay.database_down``."""

    def __init__(self, relay: _DeletingRelay) -> None:
        self._relay = relay
        self.connection = None

    async def __aenter__(self) -> _Work:
        if self._relay.database_down:
            raise ConnectionError("database away")
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def commit(self) -> None:
        return None


class _Forget:
    def __init__(self) -> None:
        self.deleted: list[object] = []
        self.happened = asyncio.Event()

    async def execute(self, connection: object, *, event_ids: list[object]) -> None:
        self.deleted += event_ids
        self.happened.set()


class _DeletingRelay(OutboxRelay):
    """The real deletion logic against a scripted database; publishing is scripted too."""

    def __init__(self, **options: float) -> None:
        super().__init__(
            work=lambda: _Work(self),  # type: ignore[arg-type,return-value]
            outbox=outbox_table(MetaData()),
            publisher=None,  # type: ignore[arg-type]
            **options,  # type: ignore[arg-type]
        )
        self.forget = _Forget()
        self._forget = self.forget  # type: ignore[assignment]
        self.database_down = False
        self.sweeps_failed = 0
        self.publishing: list[list[object]] = []
        self.keep_committing = False
        self.hold_publish: asyncio.Event | None = None

    async def _publish(self, batch: Sequence[OutboxRow]) -> None:
        self.publishing.append([row["event_id"] for row in batch])
        if self.hold_publish is not None:
            await self.hold_publish.wait()
        await asyncio.sleep(0.001)  # the broker's confirm
        if self.keep_committing:
            # Commits keep landing while every confirm is awaited.
            self.hand_over(rows(len(self.publishing) + 100))

    async def sweep(self) -> int:
        self.sweeps_failed += 1
        raise ConnectionError("database away")


async def test_published_rows_are_deleted_while_commits_keep_coming() -> None:
    relay = _DeletingRelay(poll_interval=3600, delete_every_s=0.01)
    relay.keep_committing = True
    relay.hand_over(rows(1))
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.wait_for(relay.forget.happened.wait(), 10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert relay.forget.deleted[0] == 1


async def test_the_loop_outlives_failing_sweeps_and_deletions() -> None:
    relay = _DeletingRelay(poll_interval=0.01, delete_every_s=0.01)
    relay.database_down = True
    relay.hand_over(rows(1, 2))
    task = asyncio.create_task(relay.run())
    try:
        while relay.sweeps_failed < 3:  # noqa: ASYNC110 - the counter is what it waits for
            await asyncio.sleep(0.01)
        assert relay.forget.deleted == []
        relay.database_down = False
        await asyncio.wait_for(relay.forget.happened.wait(), 10)
        assert not task.done()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    # Kept through the failed deletions, deleted once the database was back.
    assert relay.forget.deleted == [1, 2]


async def test_rows_in_flight_when_stopped_are_published_before_the_end() -> None:
    relay = _DeletingRelay(poll_interval=3600, delete_every_s=3600)
    relay.hold_publish = asyncio.Event()
    relay.hand_over(rows(5))
    task = asyncio.create_task(relay.run())
    while not relay.publishing:  # noqa: ASYNC110 - the record is what it waits for
        await asyncio.sleep(0)
    relay.hold_publish.set()  # the stop's own publish is not held
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert relay.publishing == [[5], [5]]
    assert relay.forget.deleted == [5]
