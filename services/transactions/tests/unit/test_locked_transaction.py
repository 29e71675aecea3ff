"""The row a station message holds under its lock: the table's columns, and the assignments
that :func:`repository.save` writes back."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table

from opencpms_transactions.tables import LockedTransaction, TransactionRecord

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def loaded() -> LockedTransaction:
    table = cast(Table, TransactionRecord.__table__)
    values: dict[str, Any] = dict.fromkeys(table.c.keys())
    values.update(
        id=7,
        station_id="CP-1",
        station_transaction_id="7",
        evse_id=1,
        connector_id=1,
        status="Running",
        implicit=False,
        started_at=T0,
        energy_wh=0,
        updated_at=T0,
    )
    return LockedTransaction(**values)


def test_its_fields_are_the_tables_columns() -> None:
    table = cast(Table, TransactionRecord.__table__)
    fields = {f.name for f in dataclasses.fields(LockedTransaction) if f.init}
    assert fields == set(table.c.keys())


def test_a_loaded_row_has_nothing_to_write() -> None:
    assert loaded().changed == {}


def test_assignments_are_remembered_with_their_last_value() -> None:
    row = loaded()
    row.energy_wh = 100
    row.charging_state = "Charging"
    row.energy_wh = 250
    assert row.changed == {"energy_wh": 250, "charging_state": "Charging"}
    assert row.energy_wh == 250
