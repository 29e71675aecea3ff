"""API authentication: every endpoint but ``/healthz`` needs an API key, sent as
``Authorization: Bearer <key>`` or ``X-API-Key: <key>``, whose role allows the endpoint."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from opencpms_admin import handlers
from opencpms_admin.api.context import Context
from opencpms_admin.domain import Principal, Role

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="opencpms"'}


def presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key") or None


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    async def dependency(request: Request, context: Context) -> Principal:
        key = presented_key(request)
        if key is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "an API key is required", headers=_CHALLENGE
            )
        principal = await handlers.authenticate(
            key, bootstrap_key=context.bootstrap_key, uow=context.uow
        )
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "unknown or revoked API key", headers=_CHALLENGE
            )
        if not principal.role.allows(role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"the {principal.role} role may not do this; it needs {role}",
            )
        return principal

    return dependency


Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
