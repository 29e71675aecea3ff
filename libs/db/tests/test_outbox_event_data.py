"""The outbox's ``data`` column takes the event's JSON text as it is, and anything else as any
JSONB column would."""

from __future__ import annotations

import json

from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.types import ARRAY

from opencpms_db.outbox import EventData

DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


def test_json_text_is_written_as_it_is() -> None:
    process = EventData().dialect_impl(DIALECT).bind_processor(DIALECT)

    assert process('{"b":1,"a":[2]}') == '{"b":1,"a":[2]}'


def test_an_object_is_encoded_as_for_any_jsonb_column() -> None:
    process = EventData().dialect_impl(DIALECT).bind_processor(DIALECT)

    assert json.loads(process({"a": [1, "x"]})) == {"a": [1, "x"]}


def test_an_array_of_event_data_passes_each_text_through() -> None:
    column = ARRAY(EventData())
    process = column.dialect_impl(DIALECT).bind_processor(DIALECT)

    assert process(['{"n":1}', '{"n":2}']) == ['{"n":1}', '{"n":2}']
