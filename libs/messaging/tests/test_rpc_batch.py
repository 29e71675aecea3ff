"""The batch wire format and the batcher's rules, without a broker."""

from __future__ import annotations

import asyncio
import json

import pytest

from opencpms_messaging.rpc_batch import (
    CallBatcher,
    PendingCall,
    decode_batch,
    decode_batch_reply,
    encode_batch,
    encode_batch_reply,
)


def test_a_batch_is_a_json_array_of_the_request_bodies() -> None:
    body = encode_batch([b'{"a": 1}', b'{"b": "x"}'])
    assert json.loads(body) == [{"a": 1}, {"b": "x"}]
    assert decode_batch(body) == [{"a": 1}, {"b": "x"}]


def test_a_batch_reply_pairs_each_status_with_its_body() -> None:
    body = encode_batch_reply([("ok", b'{"v": 2}'), ("error", b'{"code": "not_found"}')])
    assert decode_batch_reply(body, 2) == [("ok", {"v": 2}), ("error", {"code": "not_found"})]


@pytest.mark.parametrize(
    ("body", "expected"),
    [(b'{"status": "ok"}', 1), (b'[{"status": "ok", "body": {}}]', 2), (b'[{"body": {}}]', 1)],
)
def test_a_reply_of_another_shape_is_refused(body: bytes, expected: int) -> None:
    with pytest.raises(ValueError, match="batch"):
        decode_batch_reply(body, expected)


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[list[bytes]] = []
        self.release = asyncio.Event()

    async def send(self, calls: list[PendingCall]) -> None:
        self.sent.append([call.body for call in calls])
        await self.release.wait()
        for call in calls:
            if not call.result.done():
                call.result.set_result(("ok", call.body))


async def test_calls_beyond_the_messages_in_flight_wait_and_leave_together() -> None:
    recorder = _Recorder()
    batcher = CallBatcher(recorder.send, max_batch=3, max_in_flight=1)
    calls = [PendingCall(str(n).encode(), timeout=5) for n in range(7)]
    batcher.submit(calls[0])
    await asyncio.sleep(0)
    for call in calls[1:]:
        batcher.submit(call)
    await asyncio.sleep(0)
    assert recorder.sent == [[b"0"]]
    recorder.release.set()
    results = await asyncio.gather(*(call.result for call in calls))
    assert [body for _, body in results] == [str(n).encode() for n in range(7)]
    assert recorder.sent == [[b"0"], [b"1", b"2", b"3"], [b"4", b"5", b"6"]]


async def test_a_call_whose_caller_gave_up_is_not_sent() -> None:
    recorder = _Recorder()
    batcher = CallBatcher(recorder.send, max_batch=10, max_in_flight=1)
    first, abandoned, kept = (PendingCall(body, timeout=5) for body in (b"1", b"2", b"3"))
    batcher.submit(first)
    await asyncio.sleep(0)
    batcher.submit(abandoned)
    batcher.submit(kept)
    abandoned.result.cancel()  # what the caller's timed-out wait does
    recorder.release.set()
    await first.result
    await kept.result
    assert recorder.sent == [[b"1"], [b"3"]]


def test_limits_below_one_are_refused() -> None:
    async def send(calls: list[PendingCall]) -> None:
        return None

    with pytest.raises(ValueError, match="at least 1"):
        CallBatcher(send, max_batch=0, max_in_flight=1)
