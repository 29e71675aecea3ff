"""The operators' message log, written in batches: a station.frame arrives for every frame in
both directions, two per OCPP call, so one INSERT per frame would make the log the admin
service's main cost. Frames wait up to ``max_wait_s`` (the admin's ``event_write_wait_s``, 250 ms)
to be written together, or until ``max_batch`` of them wait; each message is acknowledged only
after its batch committed. The batch's statements run on the asyncpg
connection (:mod:`opencpms_db.driver`), each compiled once: through an ORM session their
execution cost more than the inserts themselves."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

import asyncpg
from sqlalchemy import (
    DateTime,
    Integer,
    String,
    Table,
    any_,
    bindparam,
    delete,
    func,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from opencpms_admin.read_model import stations_table
from opencpms_admin.tables import StationFrameRecord
from opencpms_db.array_statements import as_arrays, insert_from_arrays
from opencpms_db.driver import DriverStatement
from opencpms_db.unit_of_work import DriverUnitOfWorkFactory

_frames = cast(Table, StationFrameRecord.__table__)
_stations = stations_table()

_FRAME_COLUMNS = (
    "event_id",
    "station_id",
    "connection_id",
    "direction",
    "message_type",
    "message_id",
    "action",
    "raw",
    "at",
)
# Statements whose text never changes, whatever the batch size (see opencpms_db.array_statements):
# a VALUES list compiled anew for each batch size and an UPDATE per station heard were,
# together, the log's main cost.
_INSERT_FRAMES = DriverStatement(
    insert_from_arrays(_frames, _FRAME_COLUMNS).on_conflict_do_nothing(index_elements=["event_id"])
)
# Row locks in station order, as every other writer of the stations table takes them (the
# group commits sort by station id in Python, by code point: hence "C", not the database's
# collation), so two transactions cannot each hold a row the other waits for.
_LOCK_STATIONS = DriverStatement(
    select(_stations.c.station_id)
    .where(_stations.c.station_id == any_(bindparam("heard_ids", type_=ARRAY(String))))
    .order_by(_stations.c.station_id.collate("C"))
    .with_for_update()
)
_heard = (
    func.unnest(
        bindparam("heard_ids", type_=ARRAY(String)),
        bindparam("heard_at", type_=ARRAY(DateTime(timezone=True))),
    )
    .table_valued("station_id", "at")
    .render_derived()
)
_UPDATE_LAST_SEEN = DriverStatement(
    update(_stations)
    .where(_stations.c.station_id == _heard.c.station_id)
    .values(last_seen=func.greatest(_stations.c.last_seen, _heard.c.at))
)
# One trim per station at a time (several admin replicas), so each sees the others' rows. A
# write's locks are taken in one statement, in the order of their keys (the names' hashes,
# once each; the sort happens before the locks are taken), so two replicas cannot each hold one
# that the other waits for, even where two names share a hash.
_lock_names = (
    func.unnest(bindparam("lock_names", type_=ARRAY(String))).table_valued("name").render_derived()
)
_lock_keys = select(func.hashtext(_lock_names.c.name).label("key")).distinct().subquery()
_LOCK_TRIMS = DriverStatement(
    select(func.pg_advisory_xact_lock(_lock_keys.c.key)).order_by(_lock_keys.c.key)
)
# By the station's time, not by arrival: frames of one station are consumed concurrently. One
# statement for every station due in the batch, each station's rows read once through its
# index, newest first; what lies past the newest ``keep`` goes.
_due = (
    func.unnest(bindparam("stations", type_=ARRAY(String)))
    .table_valued("station_id")
    .render_derived()
)
_station_frames = _frames.alias("station_frames_of")
_older = (
    select(_station_frames.c.id)
    .where(_station_frames.c.station_id == _due.c.station_id)
    .order_by(_station_frames.c.at.desc(), _station_frames.c.id.desc())
    .offset(bindparam("keep", type_=Integer))
    .lateral("older")
)
_TRIM = DriverStatement(
    delete(_frames).where(
        _frames.c.id.in_(select(_older.c.id).select_from(_due).join(_older, true()))
    )
)


class FrameLog:
    def __init__(
        self,
        uow: DriverUnitOfWorkFactory,
        *,
        keep: int,
        max_batch: int = 256,
        max_wait_s: float = 0.02,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._uow = uow
        self._keep = keep
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._timer: asyncio.TimerHandle | None = None
        # Frames this process wrote per station since it last trimmed the station's log. A trim
        # reads all of the station's rows, so it runs once that is half the limit, not for
        # every frame: a station holds up to one and a half times its limit between trims, and
        # more while several admin processes share its frames (each counts its own, from zero
        # after a restart).
        self._since_trim: Counter[str] = Counter()
        self._trim_after = max(1, keep // 2)
        self._flushes: set[asyncio.Task[None]] = set()

    async def add(self, frame: dict[str, Any]) -> None:
        """Returns once the frame is committed; raises if its batch failed."""
        await self.add_many([frame])

    async def add_many(self, frames: list[dict[str, Any]]) -> None:
        """Returns once every frame is committed; raises if a batch of them failed."""
        loop = asyncio.get_running_loop()
        waiting: list[asyncio.Future[None]] = []
        for frame in frames:
            done: asyncio.Future[None] = loop.create_future()
            waiting.append(done)
            self._pending.append((frame, done))
            if len(self._pending) >= self._max_batch:
                self._flush_now()
        if self._pending and self._timer is None:
            self._timer = loop.call_later(self._max_wait_s, self._flush_now)
        for done in waiting:
            await done

    def _flush_now(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if batch:
            task = asyncio.create_task(self._write(batch))
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)

    async def _write(self, batch: list[tuple[dict[str, Any], asyncio.Future[None]]]) -> None:
        frames = [frame for frame, _ in batch]
        try:
            await self._store(frames)
        except Exception as exc:
            for _, done in batch:
                if not done.done():
                    done.set_exception(exc)
            return
        for _, done in batch:
            if not done.done():
                done.set_result(None)

    async def _store(self, frames: list[dict[str, Any]]) -> None:
        heard: dict[str, datetime] = {}
        for frame in frames:
            if frame["direction"] == "in":
                station = frame["station_id"]
                heard[station] = max(heard.get(station, frame["at"]), frame["at"])
        counts = Counter(frame["station_id"] for frame in frames)
        async with self._uow() as work:
            connection = work.connection
            if self._keep > 0:
                await _INSERT_FRAMES.execute(connection, **as_arrays(frames, _FRAME_COLUMNS))
                due = []
                for station_id, count in counts.items():
                    self._since_trim[station_id] += count
                    if self._since_trim[station_id] >= self._trim_after:
                        due.append(station_id)
                if due:
                    await _trim(connection, due, self._keep)
                    for station_id in due:
                        self._since_trim[station_id] = 0
            if heard:
                ids = sorted(heard)
                await _LOCK_STATIONS.execute(connection, heard_ids=ids)
                await _UPDATE_LAST_SEEN.execute(
                    connection, heard_ids=ids, heard_at=[heard[i] for i in ids]
                )
            await work.commit()


async def _trim(connection: asyncpg.Connection, stations: list[str], keep: int) -> None:
    await _LOCK_TRIMS.execute(
        connection, lock_names=["admin.frames:" + station_id for station_id in stations]
    )
    await _TRIM.execute(connection, stations=stations, keep=keep)
