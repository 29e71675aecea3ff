"""Admission control: the cap on starting stations and the Retry-After slots of those refused."""

from __future__ import annotations

import math

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


def test_admits_up_to_the_cap_then_refuses_with_a_retry_after() -> None:
    gate, _ = admission(max_starting=2)
    admitted(gate.admit("CP-1"))
    admitted(gate.admit("CP-2"))
    refused = gate.admit("CP-3")
    assert refused == 2  # the first slot, at the floor rate of 2 stations in 4 s
    assert (gate.starting, gate.refused) == (2, 1)


def test_a_released_ticket_makes_room_and_releasing_twice_counts_once() -> None:
    gate, _ = admission(max_starting=1)
    ticket = admitted(gate.admit("CP-1"))
    ticket.release(started=True)
    ticket.release(started=False)
    assert gate.starting == 0
    admitted(gate.admit("CP-2"))


def test_refused_stations_get_slots_spaced_at_the_floor_rate_before_anything_started() -> None:
    gate, _ = admission(max_starting=4)  # floor: 4 stations in ASSUMED_START_S
    for n in range(4):
        admitted(gate.admit(f"CP-{n}"))
    waits = [gate.admit(f"LATE-{n}") for n in range(8)]
    spacing = ASSUMED_START_S / 4
    assert waits == [max(1, math.ceil(spacing * (n + 1))) for n in range(8)]


def test_a_station_back_before_its_slot_keeps_its_place() -> None:
    gate, clock = admission(max_starting=1)
    admitted(gate.admit("CP-0"))
    for n in range(10):
        gate.admit(f"CP-{n + 1}")  # slots at 4, 8, ... 40 s
    assert gate.admit("CP-5") == 20
    clock.now += 12.5
    assert gate.admit("CP-5") == 8  # the same slot, 7.5 s on: rounded up
    # CP-1's slot is long past: behind the nine that still hold a place, not behind CP-5's asks.
    assert gate.admit("NEW") == 40


def test_a_station_back_on_time_to_a_full_node_is_next_not_last() -> None:
    gate, clock = admission(max_starting=1)
    admitted(gate.admit("CP-0"))
    assert [gate.admit(f"CP-{n}") for n in (1, 2, 3)] == [4, 8, 12]
    clock.now += 4.5  # CP-1 honoured its Retry-After (and some jitter); the node is still full
    assert gate.admit("CP-1") == 4  # the next place, not behind CP-3
    clock.now += 10  # far too late: its place is gone
    assert gate.admit("CP-1") == 8  # behind CP-3, the only one still holding a future slot


def test_the_queue_shortens_as_slotted_stations_get_in_early() -> None:
    gate, _ = admission(max_starting=1)
    ticket = admitted(gate.admit("CP-0"))
    assert [gate.admit(f"CP-{n}") for n in range(1, 6)] == [4, 8, 12, 16, 20]
    ticket.release(started=False)
    admitted(gate.admit("CP-5"))  # room came early; CP-5 took it and left the queue
    assert gate.admit("NEW") == 20  # behind the four still waiting, not behind CP-5's slot


def test_the_measured_rate_spaces_the_slots_once_stations_start_faster_than_the_floor() -> None:
    gate, clock = admission(max_starting=2)  # floor 0.5 a second
    for n in range(40):  # 40 stations started in the last 4 s: 8 a second measured
        admitted(gate.admit(f"CP-{n}")).release(started=True)
        clock.now += 0.1
    assert gate.rate() == pytest.approx(1.25 * 40 / 5)
    admitted(gate.admit("A"))
    admitted(gate.admit("B"))
    waits = [gate.admit(f"LATE-{n}") for n in range(25)]
    assert (waits[0], waits[-1]) == (1.0, 3.0)  # 25 slots 0.1 s apart


def test_stations_that_gave_up_starting_do_not_count_towards_the_rate() -> None:
    gate, _ = admission(max_starting=1)
    for n in range(100):
        admitted(gate.admit(f"CP-{n}")).release(started=False)
    assert gate.rate() == 1 / ASSUMED_START_S


def test_retry_after_is_capped() -> None:
    gate, _ = admission(max_starting=1)
    admitted(gate.admit("CP-0"))
    waits = [gate.admit(f"LATE-{n}") for n in range(400)]
    assert max(waits) == MAX_RETRY_AFTER_S


def test_refused_stations_hold_a_bounded_number_of_slots() -> None:
    gate, _ = admission(max_starting=1)
    admitted(gate.admit("CP-0"))
    for n in range(MAX_SLOTS + 10):
        gate.admit(f"MADE-UP-{n}")  # handshakes are refused before they are authenticated
    assert len(gate._slots) == MAX_SLOTS


def test_old_start_times_are_forgotten_while_nobody_is_refused() -> None:
    gate, clock = admission(max_starting=10)
    for _ in range(1000):
        admitted(gate.admit("CP-1")).release(started=True)
        clock.now += 1
    assert len(gate._started_at) <= RATE_WINDOW_S + 1


def test_an_opened_connection_enters_whatever_the_cap() -> None:
    gate, _ = admission(max_starting=1)
    admitted(gate.admit("CP-1"))
    ticket = gate.enter()
    assert gate.starting == 2
    ticket.release(started=True)
    assert gate.starting == 1


def test_a_cap_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Admission(max_starting=0)
