"""Both kinds of unit of work write their events to the outbox in one statement and hand the
committed rows over, in order, with what the relay publishes: the event's JSON, its type and
routing key, its subject."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import orjson
import pytest
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from opencpms_contracts.stations import StationHeartbeat
from opencpms_db.engine import session_factory
from opencpms_db.testing import outbox_in_schema
from opencpms_db.unit_of_work import DriverUnitOfWork, UnitOfWork

pytestmark = pytest.mark.integration

SCHEMA = "unit_of_work_outbox_test"


@pytest.fixture
async def outbox(database_url: str) -> AsyncIterator[tuple[AsyncEngine, Table]]:
    async with outbox_in_schema(database_url, SCHEMA) as made:
        yield made


@pytest.mark.parametrize("kind", ["driver", "orm"])
async def test_committed_events_are_stored_and_handed_over_in_order(
    outbox: tuple[AsyncEngine, Table], kind: str
) -> None:
    engine, table = outbox
    handed: list[list[dict[str, object]]] = []
    work = (
        DriverUnitOfWork(engine, table, on_commit=handed.append)
        if kind == "driver"
        else UnitOfWork(session_factory(engine), table, on_commit=handed.append)
    )
    events = [
        StationHeartbeat(station_id="UOW-1", connection_id=str(n), at=datetime.now(UTC))
        for n in range(3)
    ]
    async with work:
        for event in events:
            work.emit(event, subject="UOW-1")
        await work.commit()

    async with engine.connect() as conn:
        stored = (await conn.execute(select(table).order_by(table.c.id))).mappings().all()
    assert len(handed) == 1
    assert [row["event_id"] for row in handed[0]] == [row["event_id"] for row in stored]
    for event, given, row in zip(events, handed[0], stored, strict=True):
        # Handed over as the JSON text written; read back from JSONB as the decoded object.
        assert row["data"] == orjson.loads(given["data"]) == event.model_dump(mode="json")
        assert row["event_type"] == given["event_type"] == event.cloudevent_type()
        assert row["routing_key"] == given["routing_key"] == event.routing_key()
        assert row["subject"] == given["subject"] == "UOW-1"
        assert row["occurred_at"] == given["occurred_at"]


async def test_work_that_emitted_nothing_hands_nothing_over(
    outbox: tuple[AsyncEngine, Table],
) -> None:
    engine, table = outbox
    handed: list[object] = []
    async with DriverUnitOfWork(engine, table, on_commit=handed.append) as work:
        await work.commit()
    assert handed == []
