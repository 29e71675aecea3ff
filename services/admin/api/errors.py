"""Failures mapped to HTTP in one place. Every error body has the same shape:
``{"code": ..., "message": ..., "details": {...} | null}``."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from opencpms_messaging.rpc_errors import RpcError

# RPC error codes (the other services' and the gateway's) to HTTP statuses.
HTTP_STATUS = {
    "not_found": status.HTTP_404_NOT_FOUND,
    "conflict": status.HTTP_409_CONFLICT,
    "invalid": status.HTTP_422_UNPROCESSABLE_CONTENT,
    "not_supported": status.HTTP_422_UNPROCESSABLE_CONTENT,
    "offline": status.HTTP_409_CONFLICT,
    "station_error": status.HTTP_502_BAD_GATEWAY,
    "unavailable": status.HTTP_503_SERVICE_UNAVAILABLE,
    "timeout": status.HTTP_504_GATEWAY_TIMEOUT,
}


def error_response(code: str, message: str, details: object = None) -> JSONResponse:
    return JSONResponse(
        {"code": code, "message": message, "details": details},
        status_code=HTTP_STATUS.get(code, status.HTTP_500_INTERNAL_SERVER_ERROR),
    )


def install_error_handlers(app: FastAPI) -> None:
    async def on_rpc_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RpcError)
        return error_response(exc.code, exc.message, exc.details)

    async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
        return error_response(getattr(exc, "rpc_code", "internal"), str(exc))

    app.add_exception_handler(RpcError, on_rpc_error)
    for domain_error in _domain_errors():
        app.add_exception_handler(domain_error, on_domain_error)


def _domain_errors() -> tuple[type[Exception], ...]:
    from opencpms_admin import errors

    return (
        errors.StationNotFoundError,
        errors.ApiKeyNotFoundError,
        errors.ApiKeyNameTakenError,
    )
