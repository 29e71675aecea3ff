"""Drivers' id tokens (RFID cards, app tokens), held by authorization."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from opencpms_admin.api.audit import audited
from opencpms_admin.api.auth import Operator, Viewer
from opencpms_admin.api.context import Context
from opencpms_admin.api.params import Limit, Offset
from opencpms_admin.api.schemas import IdTokenChange
from opencpms_contracts import authorization as auth
from opencpms_contracts.common import AuthorizationStatus

router = APIRouter(prefix="/id-tokens", tags=["id tokens"])

TokenValue = Annotated[str, Path(min_length=1, max_length=255)]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_id_token(
    body: auth.CreateIdToken, principal: Operator, context: Context
) -> auth.IdTokenRecord:
    async with audited(context, principal, "id_token.create", request=body.model_dump(mode="json")):
        return await context.call(auth.CREATE_ID_TOKEN, body)


@router.get("")
async def list_id_tokens(
    principal: Viewer,
    context: Context,
    q: Annotated[str | None, Query(description="Value prefix")] = None,
    status: AuthorizationStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> auth.IdTokenPage:
    return await context.call(
        auth.LIST_ID_TOKENS,
        auth.ListIdTokens(value_prefix=q, status=status, limit=limit, offset=offset),
    )


@router.get("/{value}")
async def get_id_token(
    value: TokenValue, principal: Viewer, context: Context
) -> auth.IdTokenRecord:
    return await context.call(auth.GET_ID_TOKEN, auth.IdTokenRef(value=value))


@router.patch("/{value}")
async def change_id_token(
    value: TokenValue, body: IdTokenChange, principal: Operator, context: Context
) -> auth.IdTokenRecord:
    """Blocks (``{"status": "Blocked"}``), unblocks (``"Accepted"``), or changes expiry, group
    or description; fields left out stay as they are."""
    change = body.model_dump(exclude_unset=True)
    async with audited(
        context,
        principal,
        "id_token.update",
        request={"value": value, **body.model_dump(mode="json", exclude_unset=True)},
    ):
        return await context.call(
            auth.UPDATE_ID_TOKEN, auth.UpdateIdToken.model_validate(change | {"value": value})
        )
