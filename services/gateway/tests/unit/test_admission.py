"""Admission control: the cap on starting stations and the Retry-After slots of those refused."""

from __future__ import annotations

import asyncio
import math
from collections import deque

import pytest

from opencpms_gateway.admission import (
    ASSUMED_START_S,
    MAX_RETRY_AFTER_S,
    MAX_SLOTS,
    RATE_WINDOW_S,
    Admission,
    StartTicket,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def admission(max_starting: int = 4) -> tuple[Admission, Clock]:
    clock = Clock()
    return Admission(max_starting=max_starting, clock=clock), clock


def admitted(result: StartTicket | int) -> StartTicket:
    assert isinstance(result, StartTicket), f"refused with Retry-After {result}"
    return result


async def test_admits_up_to_the_cap_then_refuses_with_a_retry_after() -> None:
    gate, _ = admission(max_starting=2)
    admitted(await gate.admit("CP-1"))
    admitted(await gate.admit("CP-2"))
    refused = await gate.admit("CP-3")
    assert refused == 2  # the first slot, at the floor rate of 2 stations in 4 s
    assert (gate.starting, gate.refused) == (2, 1)


async def test_a_released_ticket_makes_room_and_releasing_twice_counts_once() -> None:
    gate, _ = admission(max_starting=1)
    ticket = admitted(await gate.admit("CP-1"))
    ticket.release(started=True)
    ticket.release(started=False)
    assert gate.starting == 0
    admitted(await gate.admit("CP-2"))


async def test_refused_stations_get_slots_spaced_at_the_floor_rate_before_anything_started() -> (
    None
):
    gate, _ = admission(max_starting=4)  # floor: 4 stations in ASSUMED_START_S
    for n in range(4):
        admitted(await gate.admit(f"CP-{n}"))
    waits = [await gate.admit(f"LATE-{n}") for n in range(8)]
    spacing = ASSUMED_START_S / 4
    assert waits == [max(1, math.ceil(spacing * (n + 1))) for n in range(8)]


async def test_a_station_back_before_its_slot_keeps_its_place() -> None:
    gate, clock = admission(max_starting=1)
    admitted(await gate.admit("CP-0"))
    for n in range(10):
        await gate.admit(f"CP-{n + 1}")  # slots at 4, 8, ... 40 s
    assert await gate.admit("CP-5") == 20
    clock.now += 12.5
    assert await gate.admit("CP-5") == 8  # the same slot, 7.5 s on: rounded up
    # CP-1's slot is long past: behind the nine that still hold a place, not behind CP-5's asks.
    assert await gate.admit("NEW") == 40


async def test_a_station_back_on_time_to_a_full_node_is_next_not_last() -> None:
    gate, clock = admission(max_starting=1)
    admitted(await gate.admit("CP-0"))
    assert [await gate.admit(f"CP-{n}") for n in (1, 2, 3)] == [4, 8, 12]
    clock.now += 4.5  # CP-1 honoured its Retry-After (and some jitter); the node is still full
    assert await gate.admit("CP-1") == 4  # the next place, not behind CP-3
    clock.now += 10  # far too late: its place is gone
    assert await gate.admit("CP-1") == 8  # behind CP-3, the only one still holding a future slot


async def test_the_queue_shortens_as_slotted_stations_get_in_early() -> None:
    gate, _ = admission(max_starting=1)
    ticket = admitted(await gate.admit("CP-0"))
    assert [await gate.admit(f"CP-{n}") for n in range(1, 6)] == [4, 8, 12, 16, 20]
    ticket.release(started=False)
    admitted(await gate.admit("CP-5"))  # room came early; CP-5 took it and left the queue
    assert await gate.admit("NEW") == 20  # behind the four still waiting, not behind CP-5's slot


async def test_the_measured_rate_spaces_the_slots_once_stations_start_faster_than_the_floor() -> (
    None
):
    gate, clock = admission(max_starting=2)  # floor 0.5 a second
    for n in range(40):  # 40 stations started in the last 4 s: 8 a second measured
        admitted(await gate.admit(f"CP-{n}")).release(started=True)
        clock.now += 0.1
    assert gate.rate() == pytest.approx(1.25 * 40 / 5)
    admitted(await gate.admit("A"))
    admitted(await gate.admit("B"))
    waits = [await gate.admit(f"LATE-{n}") for n in range(25)]
    assert (waits[0], waits[-1]) == (1.0, 3.0)  # 25 slots 0.1 s apart


async def test_stations_that_gave_up_starting_do_not_count_towards_the_rate() -> None:
    gate, _ = admission(max_starting=1)
    for n in range(100):
        admitted(await gate.admit(f"CP-{n}")).release(started=False)
    assert gate.rate() == 1 / ASSUMED_START_S


async def test_retry_after_is_capped() -> None:
    gate, _ = admission(max_starting=1)
    admitted(await gate.admit("CP-0"))
    waits = [await gate.admit(f"LATE-{n}") for n in range(400)]
    assert max(waits) == MAX_RETRY_AFTER_S


async def test_refused_stations_hold_a_bounded_number_of_slots() -> None:
    gate, _ = admission(max_starting=1)
    admitted(await gate.admit("CP-0"))
    for n in range(MAX_SLOTS + 10):
        await gate.admit(f"MADE-UP-{n}")  # handshakes are refused before they are authenticated
    assert len(gate._slots) == MAX_SLOTS


async def test_old_start_times_are_forgotten_while_nobody_is_refused() -> None:
    gate, clock = admission(max_starting=10)
    for _ in range(1000):
        admitted(await gate.admit("CP-1")).release(started=True)
        clock.now += 1
    assert len(gate._started_at) <= RATE_WINDOW_S + 1


async def test_an_accepted_handshake_passes_its_place_to_its_connection() -> None:
    gate, _ = admission(max_starting=1)
    ticket = admitted(await gate.admit("CP-1"))
    connection = object()
    gate.hold(connection, ticket)
    assert gate.take(connection) is ticket
    assert gate.take(connection) is None
    assert gate.starting == 1  # one place, from the handshake to the first answer
    ticket.release(started=True)
    assert gate.starting == 0


async def test_a_place_lapses_after_the_grace_period_unless_the_station_sent_a_call() -> None:
    gate = Admission(max_starting=3, grace_s=0.05)
    quiet = admitted(await gate.admit("QUIET"))
    gate.hold(object(), quiet)  # and its connection never opens, or never sends a CALL
    busy = admitted(await gate.admit("BUSY"))
    gate.hold(connection := object(), busy)
    assert gate.take(connection) is busy
    busy.keep()  # its first CALL came; the answer is slow
    checking = admitted(await gate.admit("CHECKING"))  # its password still being checked
    await asyncio.sleep(0.2)
    assert quiet.released
    assert not busy.released
    assert not checking.released
    assert (gate.starting, gate._held) == (2, {})


async def test_a_cap_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Admission(max_starting=0)


def waiting_admission(max_starting: int = 1, *, wait_s: float = 5.0, max_waiting: int = 10):
    return Admission(max_starting=max_starting, wait_s=wait_s, max_waiting=max_waiting)


async def test_a_waiting_handshake_takes_the_place_a_starting_station_leaves() -> None:
    gate = waiting_admission()
    first = admitted(await gate.admit("CP-1"))
    waiting = asyncio.create_task(gate.admit("CP-2"))
    await asyncio.sleep(0)
    assert not waiting.done()
    first.release(started=True)
    second = admitted(await asyncio.wait_for(waiting, 1))
    assert (gate.starting, gate.refused) == (1, 0)  # handed over, never below the cap
    second.release(started=True)
    assert gate.starting == 0


async def test_waiting_handshakes_get_places_in_the_order_they_came() -> None:
    gate = waiting_admission()
    first = admitted(await gate.admit("CP-0"))
    order: list[str] = []

    async def arrive(station_id: str) -> None:
        ticket = admitted(await gate.admit(station_id))
        order.append(station_id)
        await asyncio.sleep(0)
        ticket.release(started=True)

    tasks = [asyncio.create_task(arrive(f"CP-{n}")) for n in (1, 2, 3)]
    await asyncio.sleep(0)
    first.release(started=True)
    await asyncio.wait_for(asyncio.gather(*tasks), 1)
    assert order == ["CP-1", "CP-2", "CP-3"]


async def test_a_handshake_that_waited_in_vain_is_refused_with_a_retry_after() -> None:
    gate = waiting_admission(wait_s=0.05)
    admitted(await gate.admit("CP-1"))
    assert await gate.admit("CP-2") == 4  # waited 50 ms, then the first slot
    assert (gate.starting, gate.refused, len(gate._waiting)) == (1, 1, 0)


async def test_beyond_max_waiting_a_handshake_is_refused_at_once() -> None:
    gate = waiting_admission(max_waiting=2)
    admitted(await gate.admit("CP-0"))
    waiters = [asyncio.create_task(gate.admit(f"CP-{n}")) for n in (1, 2)]
    await asyncio.sleep(0)
    assert await asyncio.wait_for(gate.admit("CP-3"), 1) == 4
    for task in waiters:
        task.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    assert gate._waiting == deque()


async def test_an_abandoned_handshake_passes_its_place_on() -> None:
    gate = waiting_admission()
    first = admitted(await gate.admit("CP-1"))
    abandoned = asyncio.create_task(gate.admit("CP-2"))
    patient = asyncio.create_task(gate.admit("CP-3"))
    await asyncio.sleep(0)
    first.release(started=True)  # CP-2's place, handed over in this turn
    abandoned.cancel()  # and its connection dropped before it could take it
    await asyncio.gather(abandoned, return_exceptions=True)
    admitted(await asyncio.wait_for(patient, 1))
    assert gate.starting == 1
