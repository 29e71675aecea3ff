"""Vendor-specific DataTransfer from stations, answered by whichever service handles the vendor.

The gateway sends a station's DataTransfer as an RPC with routing key
``data_transfer.<vendorId>`` on ``opencpms.rpc``. An operator's own service that understands a
vendor's messages binds a queue to that key and answers with :class:`DataTransferReply`; when
nothing is bound, the broker returns the request and the station is told ``UnknownVendorId``.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Any

from pydantic import Field

from opencpms_contracts.base import Contract, Operation
from opencpms_contracts.common import StationId

ROUTING_KEY_PREFIX = "data_transfer."


class DataTransferStatus(StrEnum):
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    UNKNOWN_MESSAGE_ID = "UnknownMessageId"
    UNKNOWN_VENDOR_ID = "UnknownVendorId"


class DataTransferRequest(Contract):
    station_id: StationId
    vendor_id: str = Field(max_length=255)
    message_id: str | None = Field(default=None, max_length=50)
    data: Any = Field(default=None, description="A string in OCPP 1.6, any JSON value in 2.x")


class DataTransferReply(Contract):
    status: DataTransferStatus
    data: Any = None


def data_transfer_operation(vendor_id: str) -> Operation[DataTransferRequest, DataTransferReply]:
    """The operation for one vendor. Vendor ids longer than AMQP routing keys allow are
    shortened to a stable hash, which handlers compute with this same function."""
    key = ROUTING_KEY_PREFIX + vendor_id
    if len(key.encode()) > 255:
        key = ROUTING_KEY_PREFIX + "sha256." + hashlib.sha256(vendor_id.encode()).hexdigest()
    return Operation(
        routing_key=key,
        request=DataTransferRequest,
        reply=DataTransferReply,
        summary=f"DataTransfer from stations for vendor {vendor_id}",
    )
