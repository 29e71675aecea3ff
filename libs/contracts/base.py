"""The base classes every contract derives from, and the registry that names them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict


class Contract(BaseModel):
    """A frozen message model. Unknown fields are ignored so that additive changes to a
    version (new optional fields) never break an older consumer."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class Event(Contract):
    """A domain event: something that happened, named in the past tense.

    ``event_type`` is also the routing key on the ``opencpms.events`` topic exchange;
    ``event_version`` is bumped (with a new routing key) only for incompatible changes.
    """

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1

    @classmethod
    def cloudevent_type(cls) -> str:
        return f"opencpms.{cls.event_type}.v{cls.event_version}"

    @classmethod
    def routing_key(cls) -> str:
        if cls.event_version == 1:
            return cls.event_type
        return f"{cls.event_type}.v{cls.event_version}"


RequestT = TypeVar("RequestT", bound=Contract)
ReplyT = TypeVar("ReplyT", bound=Contract)


@dataclass(frozen=True)
class Operation(Generic[RequestT, ReplyT]):
    """One RPC operation: its routing key on ``opencpms.rpc`` and its request and reply models."""

    routing_key: str
    request: type[RequestT]
    reply: type[ReplyT]
    summary: str
    version: int = 1

    @property
    def service(self) -> str:
        return self.routing_key.split(".", 1)[0]


class Empty(Contract):
    """A reply that carries nothing but success."""


_EVENTS: dict[str, type[Event]] = {}
_OPERATIONS: dict[str, Operation[Any, Any]] = {}


def event(cls: type[Event]) -> type[Event]:
    """Class decorator: registers an event model under its type name."""
    key = cls.cloudevent_type()
    if key in _EVENTS:
        raise ValueError(f"event {key} registered twice")
    _EVENTS[key] = cls
    return cls


def operation(
    routing_key: str, request: type[RequestT], reply: type[ReplyT], summary: str
) -> Operation[RequestT, ReplyT]:
    """Declares and registers an RPC operation."""
    if routing_key in _OPERATIONS:
        raise ValueError(f"operation {routing_key} registered twice")
    op = Operation(routing_key=routing_key, request=request, reply=reply, summary=summary)
    _OPERATIONS[routing_key] = op
    return op


def registered_events() -> dict[str, type[Event]]:
    _load_all()
    return dict(sorted(_EVENTS.items()))


def registered_operations() -> dict[str, Operation[Any, Any]]:
    _load_all()
    return dict(sorted(_OPERATIONS.items()))


def event_model(cloudevent_type: str) -> type[Event]:
    _load_all()
    return _EVENTS[cloudevent_type]


def _load_all() -> None:
    # Importing the modules registers their contracts.
    from opencpms_contracts import (  # noqa: F401
        authorization,
        billing,
        stations,
        transactions,
    )
