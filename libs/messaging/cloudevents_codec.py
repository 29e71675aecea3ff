"""Events on the wire as CloudEvents 1.0 in structured JSON mode (the RabbitMQ binding of the
``cloudevents`` package), so a billing system reads a standard, documented envelope."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aio_pika import DeliveryMode
from cloudevents.core.bindings.rabbitmq import RabbitMQMessage, from_structured, to_structured
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from opencpms_contracts.base import Event, event_model
from opencpms_messaging.amqp_properties import Properties
from opencpms_messaging.socket_writes import Outgoing

_FORMAT = JSONFormat()


@dataclass(frozen=True)
class EventEnvelope:
    """The CloudEvents attributes that travel around an event's data."""

    id: str
    type: str
    source: str
    subject: str | None
    time: datetime


def build_message(
    *,
    event_type: str,
    data: dict[str, Any],
    source: str,
    subject: str | None,
    event_id: str | None = None,
    time: datetime | None = None,
    persistent: bool = True,
) -> Outgoing:
    """An AMQP message carrying one structured CloudEvent."""
    event_id = event_id or str(uuid.uuid4())
    time = time or datetime.now(UTC)
    attributes: dict[str, Any] = {
        "id": event_id,
        "source": source,
        "type": event_type,
        "time": time,
        "datacontenttype": "application/json",
    }
    if subject is not None:
        attributes["subject"] = subject
    wire = to_structured(CloudEvent(attributes=attributes, data=data), _FORMAT)
    return Outgoing(
        wire.body,
        Properties(
            content_type=wire.content_type,
            message_id=event_id,
            message_type=event_type,
            app_id=source,
            timestamp=time,
            delivery_mode=DeliveryMode.PERSISTENT if persistent else DeliveryMode.NOT_PERSISTENT,
        ),
    )


def encode_event(
    event: Event,
    *,
    source: str,
    subject: str | None,
    event_id: str | None = None,
    time: datetime | None = None,
    persistent: bool = True,
) -> Outgoing:
    return build_message(
        event_type=event.cloudevent_type(),
        data=event.model_dump(mode="json"),
        source=source,
        subject=subject,
        event_id=event_id,
        time=time,
        persistent=persistent,
    )


class UnknownEventError(ValueError):
    """The message is not a CloudEvent of a type this version of OpenCPMS knows."""


def decode_event(body: bytes, content_type: str | None) -> tuple[EventEnvelope, Event]:
    """Parses and validates a structured CloudEvent. Raises ``ValueError`` for anything that
    is not a valid, known event, which consumers treat as poison."""
    try:
        ce = from_structured(
            RabbitMQMessage(headers={}, content_type=content_type, body=body), _FORMAT
        )
    except Exception as exc:  # the cloudevents package raises several unrelated types
        raise UnknownEventError(f"not a structured CloudEvent: {exc}") from exc
    event_type = ce.get_type()
    try:
        model = event_model(event_type)
    except KeyError as exc:
        raise UnknownEventError(f"unknown event type {event_type!r}") from exc
    data = ce.get_data()
    event = model.model_validate(data)
    time = ce.get_time() or datetime.now(UTC)
    envelope = EventEnvelope(
        id=ce.get_id(),
        type=event_type,
        source=ce.get_source(),
        subject=ce.get_subject(),
        time=time,
    )
    return envelope, event
