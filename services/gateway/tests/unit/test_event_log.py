"""The message log's batching in the gateway: which frames leave together, and when."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from opencpms_contracts.base import Event
from opencpms_contracts.stations import StationFrame, StationFrames
from opencpms_gateway.backend import EventLog


class Recorded(EventLog):
    """Keeps what would be published, in order, instead of queueing it for the broker."""

    def __init__(self, **batching: Any) -> None:
        super().__init__(None, source="/test", node_id="node-a", **batching)  # type: ignore[arg-type]
        self.events: list[Event] = []

    def record(self, event: Event, *, subject: str, time: datetime | None = None) -> None:
        self.events.append(event)

    def batches(self) -> list[list[str]]:
        return [
            [frame.raw for frame in event.frames]
            for event in self.events
            if isinstance(event, StationFrames)
        ]


def frame(raw: str) -> StationFrame:
    return StationFrame(
        station_id="CP-1",
        connection_id="c1",
        direction="in",
        raw=raw,
        at=datetime(2026, 12, 6, tzinfo=UTC),
    )


async def test_frames_within_the_wait_leave_as_one_message() -> None:
    log = Recorded(frame_wait_s=0.05)
    for n in range(3):
        log.record_frame(frame(str(n)))
    assert log.batches() == []
    await asyncio.sleep(0.1)
    assert log.batches() == [["0", "1", "2"]]
    log.record_frame(frame("3"))
    await asyncio.sleep(0.1)
    assert log.batches() == [["0", "1", "2"], ["3"]]


async def test_a_full_batch_leaves_at_once() -> None:
    log = Recorded(frames_per_batch=2, frame_wait_s=60)
    for n in range(5):
        log.record_frame(frame(str(n)))
    assert log.batches() == [["0", "1"], ["2", "3"]]


async def test_a_batch_leaves_once_its_frames_hold_enough_text() -> None:
    # A station's frame may be up to 1 MiB: a count alone would let a batch grow to gigabytes.
    log = Recorded(bytes_per_batch=10, frame_wait_s=60)
    for raw in ("aaaa", "bbbb", "cc", "dddddddddddd", "e"):
        log.record_frame(frame(raw))
    assert log.batches() == [["aaaa", "bbbb", "cc"], ["dddddddddddd"]]


async def test_stopping_sends_the_frames_still_waiting() -> None:
    log = Recorded(frame_wait_s=60)
    log.record_frame(frame("last"))
    await log.stop()
    assert log.batches() == [["last"]]
