"""What the admin service listens to: the station events that feed its read model, on its own
durable queue shared by its replicas."""

from __future__ import annotations

from collections.abc import Mapping

from opencpms_admin.projections import PROJECTIONS
from opencpms_messaging.consumer import EventConsumer
from opencpms_messaging.injection import bind_dependencies

READ_MODEL_QUEUE = "admin.read-model"


def register_projections(consumer: EventConsumer, dependencies: Mapping[str, object]) -> None:
    # Failures propagate: the consumer retries a bounded number of times, then dead-letters.
    for event_cls, projection in PROJECTIONS.items():
        consumer.on(event_cls, bind_dependencies(projection, dependencies))
