"""Admission control: how many stations one gateway node lets start at once.

After an outage every station reconnects within seconds. Each one let in costs a password
check, a boot (a database write) and the events that follow; a node that lets in more than
the services can answer within the stations' timeouts makes every boot wait past them. The
stations then drop the connection and come back, paying the handshake and the boot again, and
overload feeds itself (docs/performance.md: a 10,000-station storm booted 8,011 stations in
120 s, with 9,496 attempts wasted on timeouts).

So a node lets at most ``max_starting`` stations be *starting* at once: from the moment their
handshake is admitted (the password check is the first cost) until their first CALL has been
answered (a BootNotification, or whatever a 1.6 station back after a short network loss sends
first), their connection ends, or ``grace_s`` passes without a CALL. Beyond that the handshake
is answered 503 Service Unavailable with ``Retry-After`` at once, before any backend call,
which costs the node far less than a station that times out.

``Retry-After`` is a place in a virtual queue, not a fixed wait: refused stations are given
slots spaced at the rate this node has recently been starting stations, so they come back
about when there is room instead of all at once again. A station that comes back before its
slot is told the time left on the same slot, so stations that ignore the header (a charger's
own back-off) do not push everyone else further back.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

# How far back the starting rate is measured, and how far ahead a slot may be given.
RATE_WINDOW_S = 5.0
MAX_RETRY_AFTER_S = 300.0
ASSUMED_START_S = 4.0


class StartTicket:
    """One admitted station's place among the starting ones; released exactly once."""

    __slots__ = ("_admission", "released")

    def __init__(self, admission: Admission) -> None:
        self._admission = admission
        self.released = False

    def release(self, *, started: bool) -> None:
        """``started``: the station's first CALL was answered (it counts towards the rate)."""
        if self.released:
            return
        self.released = True
        self._admission._released(started=started)


class Admission:
    def __init__(
        self,
        *,
        max_starting: int,
        grace_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_starting < 1:
            raise ValueError("max_starting must be at least 1")
        self.max_starting = max_starting
        self.grace_s = grace_s
        self._clock = clock
        self.starting = 0
        self.refused = 0
        self._started_at: deque[float] = deque()  # when each recent station finished starting
        self._next_slot = 0.0
        self._slots: dict[str, float] = {}  # refused station -> its slot, in slot order

    def admit(self, station_id: str) -> StartTicket | float:
        """A ticket to hold while the station starts, or the seconds it should wait (an
        integer, for ``Retry-After``)."""
        now = self._clock()
        self._forget_passed_slots(now)
        if self.starting < self.max_starting:
            self._slots.pop(station_id, None)
            self.starting += 1
            return StartTicket(self)
        self.refused += 1
        slot = self._slots.get(station_id)
        if slot is None or slot <= now:
            slot = self._next_slot = min(
                max(self._next_slot, now) + 1.0 / self.rate(now), now + MAX_RETRY_AFTER_S
            )
            self._slots.pop(station_id, None)
            self._slots[station_id] = slot
        return float(max(1, math.ceil(slot - now)))

    def enter(self) -> StartTicket:
        """A ticket for a connection whose handshake was admitted and has just opened: it
        counts whatever the cap, because its handshake's ticket was released a moment ago."""
        self.starting += 1
        return StartTicket(self)

    def rate(self, now: float | None = None) -> float:
        """Stations per second to space slots by: what this node started recently, leaning
        early, and never less than a healthy node's ``max_starting`` in ``ASSUMED_START_S``.

        Too low a rate would leave the node idle while stations wait out long slots; too high
        only brings some back early to a cheap refusal and a new slot. A node that was idle
        before a storm has measured nothing yet, so the floor carries the storm's first slots.
        """
        now = self._clock() if now is None else now
        while self._started_at and self._started_at[0] < now - RATE_WINDOW_S:
            self._started_at.popleft()
        measured = len(self._started_at) / RATE_WINDOW_S
        return max(1.25 * measured, self.max_starting / ASSUMED_START_S)

    def _released(self, *, started: bool) -> None:
        self.starting -= 1
        if started:
            self._started_at.append(self._clock())

    def _forget_passed_slots(self, now: float) -> None:
        # Slots are handed out in increasing order and the dict keeps insertion order, so the
        # passed ones are at its front; a station a minute late has lost its place anyway.
        while self._slots:
            station_id, slot = next(iter(self._slots.items()))
            if slot > now - 60.0:
                break
            del self._slots[station_id]
