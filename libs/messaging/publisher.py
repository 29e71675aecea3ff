"""Publishing domain events on ``opencpms.events``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aio_pika.abc import AbstractExchange

from opencpms_contracts.base import Event
from opencpms_messaging.cloudevents_codec import build_message, encode_event
from opencpms_messaging.socket_writes import publish


class EventPublisher:
    """Publishes CloudEvents to the events exchange.

    ``exchange`` must come from a channel opened with publisher confirms: ``publish`` then
    returns only once the broker has taken responsibility for the message, which is what lets
    the gateway answer a station and the outbox relay delete a row.
    """

    def __init__(self, exchange: AbstractExchange, *, source: str) -> None:
        self._exchange = exchange
        self.source = source

    async def publish(
        self,
        event: Event,
        *,
        subject: str | None,
        event_id: str | None = None,
        time: datetime | None = None,
        persistent: bool = True,
    ) -> None:
        message = encode_event(
            event,
            source=self.source,
            subject=subject,
            event_id=event_id,
            time=time,
            persistent=persistent,
        )
        await publish(self._exchange, message, routing_key=event.routing_key())

    async def publish_raw(
        self,
        *,
        event_type: str,
        routing_key: str,
        data: dict[str, Any] | str,
        subject: str | None,
        event_id: str,
        time: datetime,
    ) -> None:
        """Publishes an event already serialised (as the outbox stores it)."""
        message = build_message(
            event_type=event_type,
            data=data,
            source=self.source,
            subject=subject,
            event_id=event_id,
            time=time,
        )
        await publish(self._exchange, message, routing_key=routing_key)
