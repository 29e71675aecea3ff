"""Errors an RPC call can end in. Each has a stable ``code`` that crosses the broker."""

from __future__ import annotations

from typing import Any

from opencpms_contracts.base import Contract


class RpcErrorBody(Contract):
    """The body of an error reply (header ``x-status: error``)."""

    code: str
    message: str
    details: dict[str, Any] | None = None


class RpcError(Exception):
    """Base of every failed call; ``code`` is what the serving side reported."""

    code = "internal"

    def __init__(self, message: str = "", *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message or self.code)
        self.message = message or self.code
        self.details = details


class RpcTimeoutError(RpcError):
    """No answer in time. The request may or may not have been carried out."""

    code = "timeout"


class RpcUnavailableError(RpcError):
    """No service consumes this operation right now (the broker returned the request), or the
    broker connection is down. The request was certainly not carried out."""

    code = "unavailable"


class RpcNoRouteError(RpcUnavailableError):
    """The broker returned the request: no queue is bound to the operation at all (as opposed
    to a service that is merely slow or a broker that is down)."""


class NotFoundError(RpcError):
    code = "not_found"


class InvalidRequestError(RpcError):
    code = "invalid"


class ConflictError(RpcError):
    code = "conflict"


class StationOfflineError(RpcError):
    """No gateway node holds the station's connection: the command was certainly not sent."""

    code = "offline"


class StationCallError(RpcError):
    """The station answered a command with a CALLERROR; ``details`` holds its ``error_code``,
    ``description`` and ``error_details``."""

    code = "station_error"


class NotSupportedError(RpcError):
    """The station's OCPP version has no such operation."""

    code = "not_supported"


_BY_CODE: dict[str, type[RpcError]] = {
    cls.code: cls
    for cls in (
        RpcError,
        RpcTimeoutError,
        RpcUnavailableError,
        NotFoundError,
        InvalidRequestError,
        ConflictError,
        StationOfflineError,
        StationCallError,
        NotSupportedError,
    )
}


def error_from_body(body: RpcErrorBody) -> RpcError:
    return _BY_CODE.get(body.code, RpcError)(body.message, details=body.details)
