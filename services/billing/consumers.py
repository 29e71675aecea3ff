"""What the billing service listens to: its RPC operations and the ``transaction.ended``
events, on its own durable queue; and which failures are poison."""

from __future__ import annotations

from collections.abc import Mapping

from opencpms_billing.domain import UnpriceableSessionError
from opencpms_billing.handlers import HANDLERS, price_transaction
from opencpms_contracts.transactions import TransactionEnded
from opencpms_messaging.cloudevents_codec import EventEnvelope
from opencpms_messaging.consumer import EventConsumer, PoisonMessageError
from opencpms_messaging.injection import bind_dependencies
from opencpms_messaging.rpc import RpcServer

TRANSACTION_ENDED_QUEUE = "billing.transaction-ended"


def register_operations(server: RpcServer, dependencies: Mapping[str, object]) -> None:
    for op, handler in HANDLERS.items():
        server.register(op, bind_dependencies(handler, dependencies))


def register_events(consumer: EventConsumer, dependencies: Mapping[str, object]) -> None:
    price = bind_dependencies(price_transaction, dependencies)

    async def on_transaction_ended(event: TransactionEnded, envelope: EventEnvelope) -> None:
        # Data that can never be priced goes to the dead-letter queue at once; anything else
        # (the database away, a deadlock) propagates and the message is redelivered.
        try:
            await price(event, envelope.id)
        except UnpriceableSessionError as exc:
            raise PoisonMessageError(
                f"transaction {event.transaction_id} cannot be priced: {exc}"
            ) from exc

    consumer.on(TransactionEnded, on_transaction_ended)
