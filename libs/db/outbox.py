"""The outbox and inbox tables every service has in its own schema.

Outbox: a service that changes state and emits an event writes both in one transaction; the
relay publishes the row afterwards (ARCHITECTURE §5). Inbox: a consumer records each event id
it has applied, in the same transaction as the effect, so a redelivery is a no-op.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Identity,
    MetaData,
    String,
    Table,
    TypeDecorator,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from opencpms_contracts.base import Event


class EventData(TypeDecorator[Any]):
    """The outbox's ``data``: JSONB, written from the JSON text the event was serialised to once
    (:func:`outbox_row`), which the relay then puts on the wire as it is; any other value is
    encoded as JSONB always is. Read back, it is the decoded object, as from any JSONB."""

    impl = JSONB
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any]:
        encode = self.impl_instance.bind_processor(dialect)

        def process(value: Any) -> Any:
            if isinstance(value, str) or encode is None:
                return value
            return encode(value)

        return process


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("event_id", Uuid, nullable=False, unique=True),
        Column("event_type", String(200), nullable=False),
        Column("routing_key", String(200), nullable=False),
        Column("subject", String(255)),
        Column("data", EventData(), nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
    )


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("event_id", String(255), primary_key=True),
        Column("event_type", String(200), nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False),
    )


def outbox_row(event: Event, *, subject: str | None) -> dict[str, object]:
    """The row of one emitted event; its ``data`` is the event's JSON text, made once by the
    model's own serializer for both the table and the message."""
    return {
        "event_id": uuid.uuid4(),
        "event_type": event.cloudevent_type(),
        "routing_key": event.routing_key(),
        "subject": subject,
        "data": type(event).__pydantic_serializer__.to_json(event).decode(),
        "occurred_at": datetime.now(UTC),
    }


async def claim_inbox(
    session: AsyncSession, inbox: Table, *, event_id: str, event_type: str
) -> bool:
    """Records ``event_id`` as applied; False when it already was (the caller skips it).

    The primary key, not a prior SELECT, decides, so two replicas racing on a redelivered
    message cannot both apply it.
    """
    result = await session.execute(
        insert(inbox)
        .values(event_id=event_id, event_type=event_type, received_at=datetime.now(UTC))
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(inbox.c.event_id)
    )
    return result.scalar_one_or_none() is not None
