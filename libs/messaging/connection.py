"""Opening a robust broker connection."""

from __future__ import annotations

from typing import Any

import aio_pika

from opencpms_messaging.received import ReceivingChannel
from opencpms_messaging.socket_writes import CoalescingTransportFactory


class _RobustConnection(aio_pika.RobustConnection):
    CHANNEL_CLASS = ReceivingChannel  # consumers get ``received.Received`` messages

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # aio-pika passes its URL's parameters to aiormq; an object can only be added here.
        self.kwargs["transport_factory"] = CoalescingTransportFactory()


async def connect(url: str, *, name: str) -> aio_pika.abc.AbstractRobustConnection:
    """A connection that reconnects and restores its topology after a broker restart, and
    sends the frames of one event-loop pass in one socket write (``socket_writes``).

    It does not replay a publish that failed while it was down: callers retry (ARCHITECTURE §3).
    """
    return await aio_pika.connect_robust(
        url,
        client_properties={"connection_name": name},
        reconnect_interval=1.0,
        connection_class=_RobustConnection,
    )
