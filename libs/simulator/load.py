"""Many simulated stations at once: each connects, boots and then runs the chosen message mix
until the run ends, timing every call it makes."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import orjson
import websockets
from websockets.asyncio.client import ClientConnection

from opencpms_simulator.connection import SUBPROTOCOLS, basic_auth_header
from opencpms_simulator.frames import Frames16, Frames201, frames_for
from opencpms_simulator.stats import Recorder

Mix = Literal["boot", "heartbeat", "full"]


@dataclass(frozen=True)
class Credential:
    station_id: str
    password: str


@dataclass(frozen=True)
class LoadPlan:
    url: str
    stations: list[Credential]
    duration_s: float
    versions: tuple[str, ...] = ("1.6",)  # assigned round-robin
    mix: Mix = "full"
    ramp_per_s: float = 0.0  # connections started per second; 0: as fast as accepted
    connect_concurrency: int = 200
    heartbeat_s: float = 60.0
    meter_s: float = 5.0
    session_meter_values: int = 6
    idle_s: float = 5.0
    closed_loop: bool = False  # no pauses: the next call as soon as the last is answered
    id_tag: str = "SIMTAG"
    call_timeout_s: float = 30.0
    stop_when_booted: bool = False  # a boot storm: end once every station booted
    retry_backoff_s: tuple[float, float] = (2.0, 8.0)  # before connecting again, as stations do
    # A gateway that is busy starting other stations answers 503 with Retry-After; a station
    # that honours it comes back when it was told there is room (plus up to a second's jitter).
    honour_retry_after: bool = True


class CallFailed(Exception):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


# websockets looks up proxy settings in the environment on every connect, which a boot storm
# of thousands of connects pays for again and again; the environment is read once instead.
_PROXY: Literal[True] | None = True if urllib.request.getproxies() else None


class SimStation:
    def __init__(self, credential: Credential, version: str, plan: LoadPlan, rec: Recorder):
        self.credential = credential
        self.frames: Frames16 | Frames201 = frames_for(version)
        self.version = version
        self.plan = plan
        self.rec = rec
        self._ids = itertools.count()
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._socket: ClientConnection | None = None
        self._retry_after: float | None = None
        self.settled = asyncio.Event()  # booted, or failed before booting
        self.rec_booted = False

    async def run(self, stop: asyncio.Event, connect_slots: asyncio.Semaphore) -> None:
        try:
            await self._run(stop, connect_slots)
        finally:
            self.settled.set()

    async def _run(self, stop: asyncio.Event, connect_slots: asyncio.Semaphore) -> None:
        """Connects and boots like a real station: a refused or failed attempt is retried after
        a randomised back-off until the run ends (counted under ``retries``); only a station
        that never booted counts as an error."""
        attempt_failed: str | None = None
        while not stop.is_set():
            socket = await self._connect(connect_slots)
            if isinstance(socket, str):
                attempt_failed = socket
            else:
                attempt_failed = await self._session(socket, stop)
            if attempt_failed is None or self.rec_booted:
                break
            self.rec.retry(attempt_failed)
            await self._pause(stop, self._backoff_s())
        if attempt_failed is not None:
            self.rec.error(attempt_failed if self.rec_booted else f"never booted: {attempt_failed}")

    async def _connect(self, connect_slots: asyncio.Semaphore) -> ClientConnection | str:
        plan = self.plan
        try:
            async with connect_slots:
                began = time.perf_counter()
                socket = await websockets.connect(
                    f"{plan.url.rstrip('/')}/{self.credential.station_id}",
                    subprotocols=[SUBPROTOCOLS[self.version]],  # type: ignore[list-item]
                    additional_headers=basic_auth_header(
                        self.credential.station_id, self.credential.password
                    ),
                    open_timeout=plan.call_timeout_s,
                    ping_interval=None,  # the gateway pings; answering is enough
                    compression=None,
                    proxy=_PROXY,
                )
                self.rec.answer("(connect)", time.perf_counter() - began)
        except websockets.InvalidStatus as exc:
            retry_after = exc.response.headers.get("Retry-After", "")
            if exc.response.status_code == 503 and retry_after.isdigit():
                self._retry_after = float(retry_after)
            return f"connect: HTTP {exc.response.status_code}"
        except (OSError, TimeoutError, websockets.WebSocketException) as exc:
            return f"connect: {type(exc).__name__}"
        return socket

    def _backoff_s(self) -> float:
        retry_after, self._retry_after = self._retry_after, None
        if retry_after is not None and self.plan.honour_retry_after:
            return retry_after + random.uniform(0.0, 1.0)  # noqa: S311
        return random.uniform(*self.plan.retry_backoff_s)  # noqa: S311

    async def _session(self, socket: ClientConnection, stop: asyncio.Event) -> str | None:
        """Runs the mix on one connection; the reason it failed, or None."""
        self._socket = socket
        self.rec.connected += 1
        self.rec.max_connected = max(self.rec.max_connected, self.rec.connected)
        reader = asyncio.create_task(self._read())
        try:
            await self._behave(stop)
        except CallFailed as exc:
            return exc.kind
        except websockets.ConnectionClosed:
            if not stop.is_set():
                return "connection closed"
        finally:
            self.rec.connected -= 1
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
            with contextlib.suppress(Exception):
                await socket.close()
        return None

    async def _behave(self, stop: asyncio.Event) -> None:
        plan, frames = self.plan, self.frames
        answer = await self.call(*frames.boot())
        if answer.get("status") != "Accepted":
            raise CallFailed(f"boot: {answer.get('status')}")
        self.rec.booted += 1
        self.rec_booted = True
        self.settled.set()
        await self.call(*frames.status("Available"))
        if plan.mix == "boot":
            while not stop.is_set():
                await self._pause(stop, plan.heartbeat_s)
                if not stop.is_set():
                    await self.call("Heartbeat", {})
            return
        if plan.mix == "heartbeat":
            while not stop.is_set():
                await self.call("Heartbeat", {})
                await self._pause(stop, 0 if plan.closed_loop else plan.heartbeat_s)
            return
        await self._pause(stop, 0 if plan.closed_loop else random.uniform(0, plan.idle_s))  # noqa: S311
        meter = 0
        while not stop.is_set():
            await self.call(*frames.authorize(plan.id_tag))
            started = frames.new_transaction()
            answer = await self.call(*frames.start(plan.id_tag, meter, started))
            transaction = frames.transaction_of(answer, started)
            await self.call(*frames.status("Charging"))
            for seq in range(1, plan.session_meter_values + 1):
                await self._pause(stop, 0 if plan.closed_loop else plan.meter_s)
                meter += 250
                await self.call(*frames.meter(transaction, seq, meter))
            await self.call(*frames.stop(transaction, plan.session_meter_values + 1, meter))
            await self.call(*frames.status("Available"))
            await self._pause(stop, 0 if plan.closed_loop else plan.idle_s)

    async def _pause(self, stop: asyncio.Event, seconds: float) -> None:
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        assert self._socket is not None
        message_id = str(next(self._ids))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        began = time.perf_counter()
        try:
            # Text, not bytes: OCPP-J frames are websocket text messages.
            await self._socket.send(orjson.dumps([2, message_id, action, payload]).decode())
            reply = await asyncio.wait_for(future, self.plan.call_timeout_s)
        except TimeoutError:
            raise CallFailed(f"timeout: {action}") from None
        finally:
            self._pending.pop(message_id, None)
        if reply[0] == 4:
            raise CallFailed(f"CALLERROR {reply[2]}: {action}")
        self.rec.answer(action, time.perf_counter() - began)
        answer: dict[str, Any] = reply[2]
        return answer

    async def _read(self) -> None:
        assert self._socket is not None
        async for raw in self._socket:
            frame = orjson.loads(raw)
            if frame[0] == 2:  # a command from the CSMS: this simulator supports none
                await self._socket.send(
                    orjson.dumps([4, frame[1], "NotImplemented", "simulated station", {}]).decode()
                )
                continue
            future = self._pending.get(frame[1])
            if future is not None and not future.done():
                future.set_result(frame)


async def run_load(
    plan: LoadPlan, *, progress: Callable[[str], None] | None = None, every_s: float = 2.0
) -> dict[str, Any]:
    """Runs the plan and returns the summary (see :mod:`opencpms_simulator.stats`)."""
    rec = Recorder()
    stop = asyncio.Event()
    slots = asyncio.Semaphore(plan.connect_concurrency)
    stations = [
        SimStation(credential, plan.versions[n % len(plan.versions)], plan, rec)
        for n, credential in enumerate(plan.stations)
    ]
    began = time.perf_counter()

    async def launch() -> list[asyncio.Task[None]]:
        tasks = []
        for n, station in enumerate(stations):
            if plan.ramp_per_s > 0:
                delay = began + n / plan.ramp_per_s - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(station.run(stop, slots)))
        return tasks

    async def report() -> None:
        last_answered, last_at = 0, began
        while True:
            await asyncio.sleep(every_s)
            at = time.perf_counter()
            rate = (rec.answered - last_answered) / (at - last_at)
            last_answered, last_at = rec.answered, at
            if progress is not None:
                progress(
                    f"[{at - began:6.1f} s] connected {rec.connected}/{len(stations)} "
                    f"booted {rec.booted} answered {rec.answered} ({rate:,.0f}/s) "
                    f"errors {sum(rec.errors.values())}"
                )

    reporter = asyncio.create_task(report())
    launcher = asyncio.create_task(launch())
    booted_after: float | None = None
    if plan.stop_when_booted:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(plan.duration_s):
                for station in stations:
                    await station.settled.wait()
                booted_after = time.perf_counter() - began
    else:
        await asyncio.sleep(plan.duration_s)
    stop.set()
    tasks = await launcher
    ended = time.perf_counter()
    await asyncio.gather(*tasks, return_exceptions=True)
    reporter.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reporter
    summary = rec.summary(stations=len(stations), duration_s=ended - began)
    if plan.stop_when_booted:
        summary["all_booted_after_s"] = None if booted_after is None else round(booted_after, 2)
    return summary
