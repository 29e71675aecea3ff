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
first), their connection ends, or ``grace_s`` passes without any CALL. Beyond that a handshake
waits, in order of arrival, up to ``wait_s`` for a place (a waiting handshake costs an open
socket and nothing else, where a refusal costs both sides a new connection); one that gets
none, or finds ``max_waiting`` handshakes waiting already, is answered 503 Service Unavailable
with ``Retry-After``, before any backend call, which costs the node far less than a station
that times out.

``Retry-After`` is a place in a virtual queue, not a fixed wait: refused stations are given
slots spaced at the rate this node has recently been starting stations, so they come back
about when there is room instead of all at once again. A station that asks again before its
slot is told the time left on the same slot rather than given a new one, and one that comes
back on time to a node still full is given the next moment rather than the end of the queue.
Slots are advice, not reservations: whoever asks while there is room gets in, so a charger
with a back-off of its own still boots, it just may wait longer.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Callable

# How far back the starting rate is measured, and how far ahead a slot may be given.
RATE_WINDOW_S = 5.0
MAX_RETRY_AFTER_S = 300
# A healthy node starts its whole allowance within this: the slots' rate before it measured one.
ASSUMED_START_S = 4.0
# A station this late for its slot, or later, has lost its place; one back within it keeps it.
LATE_FOR_SLOT_S = 5.0
# Refused handshakes are not yet authenticated, so the slots they may take are bounded.
MAX_SLOTS = 20_000


class StartTicket:
    """One admitted station's place among the starting ones, from its handshake to its first
    answered CALL; released exactly once. Once its handshake is accepted it releases itself
    ``grace_s`` later unless :meth:`keep` is called first (the station sent a CALL): so does the
    place of a handshake whose connection never opened."""

    __slots__ = ("_admission", "_grace", "_held_for", "released")

    def __init__(self, admission: Admission) -> None:
        self._admission = admission
        self.released = False
        self._held_for: object | None = None  # the connection it waits for (Admission.hold)
        self._grace: asyncio.TimerHandle | None = None

    def keep(self) -> None:
        """The station sent its first CALL: the place is held until it is answered."""
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None

    def release(self, started: bool) -> None:
        """``started``: the station's first CALL was answered with a CALLRESULT (it counts
        towards the rate)."""
        if self.released:
            return
        self.released = True
        self.keep()
        self._admission._released(self, started=started)

    def _expire(self) -> None:
        self._grace = None
        self.release(started=False)


class Admission:
    def __init__(
        self,
        *,
        max_starting: int,
        grace_s: float = 10.0,
        wait_s: float = 0.0,
        max_waiting: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_starting < 1:
            raise ValueError("max_starting must be at least 1")
        self.max_starting = max_starting
        self.grace_s = grace_s
        self.wait_s = wait_s
        self.max_waiting = 5 * max_starting if max_waiting is None else max_waiting
        self._waiting: deque[asyncio.Future[StartTicket]] = deque()
        self._held: dict[object, StartTicket] = {}  # accepted handshake -> its ticket
        self._clock = clock
        self.starting = 0
        self.refused = 0
        self._started_at: deque[float] = deque()  # when each recent station finished starting
        # Refused station -> its slot. Insertion order is roughly slot order (a station back on
        # time for its slot is put back ahead of the last ones), close enough for forgetting
        # passed slots from the front.
        self._slots: dict[str, float] = {}

    async def admit(self, station_id: str) -> StartTicket | int:
        """A ticket to hold while the station starts, or the whole seconds it should wait
        before it tries again (``Retry-After``)."""
        now = self._clock()
        self._forget_passed_slots(now)
        if self.starting < self.max_starting:
            self._slots.pop(station_id, None)
            self.starting += 1
            return StartTicket(self)
        if self.wait_s > 0 and len(self._waiting) < self.max_waiting:
            ticket = await self._wait_for_a_place()
            if ticket is not None:
                self._slots.pop(station_id, None)
                return ticket
            now = self._clock()
        self.refused += 1
        return max(1, math.ceil(self._slot_of(station_id, now) - now))

    async def _wait_for_a_place(self) -> StartTicket | None:
        place: asyncio.Future[StartTicket] = asyncio.get_running_loop().create_future()
        self._waiting.append(place)
        try:
            async with asyncio.timeout(self.wait_s):
                return await place
        except TimeoutError:
            pass
        except BaseException:
            # The handshake was abandoned: a place handed over meanwhile goes to the next.
            if place.done() and not place.cancelled():
                place.result().release(started=False)
            raise
        finally:
            if not place.done():
                place.cancel()
            with contextlib.suppress(ValueError):
                self._waiting.remove(place)
        # A place handed over in the same turn as the timeout is still this handshake's.
        return place.result() if not place.cancelled() else None

    def hold(self, connection: object, ticket: StartTicket) -> None:
        """Keeps the ticket of an accepted handshake for its connection to :meth:`take`."""
        ticket._held_for = connection
        self._held[connection] = ticket
        ticket._grace = asyncio.get_running_loop().call_later(self.grace_s, ticket._expire)

    def take(self, connection: object) -> StartTicket | None:
        """The ticket its handshake left for this (just opened) connection, if any."""
        ticket = self._held.pop(connection, None)
        if ticket is not None:
            ticket._held_for = None
        return ticket

    def rate(self, now: float | None = None) -> float:
        """Stations per second to space slots by: what this node started recently, leaning
        early, and never less than a healthy node's ``max_starting`` in ``ASSUMED_START_S``.

        Too low a rate would leave the node idle while stations wait out long slots; too high
        only brings some back early to a cheap refusal. A node that was idle before a storm has
        measured nothing yet, so the floor carries the storm's first slots.
        """
        now = self._clock() if now is None else now
        self._forget_old_starts(now)
        measured = len(self._started_at) / RATE_WINDOW_S
        return max(1.25 * measured, self.max_starting / ASSUMED_START_S)

    def _slot_of(self, station_id: str, now: float) -> float:
        slot = self._slots.get(station_id)
        if slot is not None and slot > now:
            return slot  # asked again early: the same place
        self._slots.pop(station_id, None)
        if slot is not None and now - slot < LATE_FOR_SLOT_S:
            slot = now + 1.0 / self.rate(now)  # back on time to a full node: next, not last
        else:
            # Behind the stations that hold a place now, counted rather than read off the last
            # slot, so the queue shortens as stations get in early or give up.
            ahead = len(self._slots) + 1
            slot = now + min(ahead / self.rate(now), MAX_RETRY_AFTER_S)
        if len(self._slots) < MAX_SLOTS:
            self._slots[station_id] = slot
        return slot

    def _released(self, ticket: StartTicket, *, started: bool) -> None:
        if ticket._held_for is not None:  # its connection never opened
            self._held.pop(ticket._held_for, None)
        # The place goes to the handshake that has waited longest, if one still waits.
        while self._waiting:
            place = self._waiting.popleft()
            if not place.done():
                place.set_result(StartTicket(self))
                break
        else:
            self.starting -= 1
        if started:
            now = self._clock()
            self._started_at.append(now)
            self._forget_old_starts(now)

    def _forget_old_starts(self, now: float) -> None:
        while self._started_at and self._started_at[0] < now - RATE_WINDOW_S:
            self._started_at.popleft()

    def _forget_passed_slots(self, now: float) -> None:
        while self._slots:
            station_id, slot = next(iter(self._slots.items()))
            if slot > now - LATE_FOR_SLOT_S:
                break
            del self._slots[station_id]
