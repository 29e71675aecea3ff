"""The directly encoded properties are byte for byte what pamqp encodes, field by field."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from aiormq import spec

from opencpms_messaging.amqp_properties import Properties

EVERY_FIELD: dict[str, Any] = {
    "content_type": "application/cloudevents+json",
    "content_encoding": "utf-8",
    "headers": {"x-status": "ok", "x-batch": 12, "x-flag": True},
    "delivery_mode": 2,
    "priority": 5,
    "correlation_id": "7f3c",
    "reply_to": "rpc.reply.gateway-1.abc",
    "expiration": "30000",
    "message_id": "b1f0",
    "timestamp": datetime(2026, 12, 5, 23, 59, 58, tzinfo=UTC),
    "message_type": "transaction.updated.v1",
    "user_id": "guest",
    "app_id": "/opencpms/transactions",
}


@pytest.mark.parametrize(
    "fields",
    [
        EVERY_FIELD,
        {},
        # an RPC request, a reply, an event: what OpenCPMS sends
        {k: EVERY_FIELD[k] for k in ("content_type", "correlation_id", "message_id", "reply_to")}
        | {"message_type": "authorization.authorize", "expiration": "29999", "delivery_mode": 1},
        {"content_type": "application/json", "correlation_id": "c", "headers": {"x-status": "ok"}},
        {"message_id": "e", "app_id": "/opencpms/gateway", "timestamp": EVERY_FIELD["timestamp"]},
        # one field at a time, so a field out of order or with the wrong flag shows
        *({name: value} for name, value in EVERY_FIELD.items()),
        # values pamqp leaves out or keeps
        {"content_type": "", "headers": {}, "priority": 0},
        {"timestamp": datetime(2026, 12, 5, 12, 0, 0)},  # naive: taken as UTC
        {"timestamp": datetime(2026, 12, 5, 12, 0, 0, tzinfo=timezone(timedelta(hours=2)))},
        {"timestamp": time.gmtime(1_800_000_000)},
        {"message_id": "ü" * 127},
    ],
)
def test_encoded_as_pamqp_encodes(fields: dict[str, Any]) -> None:
    assert Properties(**fields).marshal() == spec.Basic.Properties(**fields).marshal()


def test_what_it_encodes_decodes_to_the_same_properties() -> None:
    encoded = Properties(**EVERY_FIELD).marshal()
    decoded = spec.Basic.Properties()
    decoded.unmarshal(int.from_bytes(encoded[:2], "big"), encoded[2:])
    assert {name: getattr(decoded, name) for name in EVERY_FIELD} == EVERY_FIELD


def test_a_short_string_over_255_bytes_is_refused_as_pamqp_refuses_it() -> None:
    with pytest.raises(TypeError, match="255"):
        Properties(correlation_id="é" * 128).marshal()
