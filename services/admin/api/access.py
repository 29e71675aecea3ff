"""API keys and the audit log: the admin role's own business."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from pydantic import AwareDatetime

from opencpms_admin import handlers, queries
from opencpms_admin.api.audit import audited
from opencpms_admin.api.auth import Admin
from opencpms_admin.api.context import Context
from opencpms_admin.api.params import Limit, Offset
from opencpms_admin.api.schemas import (
    ApiKeyCreate,
    ApiKeyIssued,
    ApiKeyOut,
    ApiKeyPage,
    AuditEntryOut,
    AuditPage,
)

router = APIRouter(tags=["access"])


@router.post("/api-keys", status_code=status.HTTP_201_CREATED)
async def create_api_key(body: ApiKeyCreate, principal: Admin, context: Context) -> ApiKeyIssued:
    """A new key; the key itself is in this answer only."""
    async with audited(
        context, principal, "api_key.create", request=body.model_dump(mode="json")
    ) as record:
        issued = await handlers.create_api_key(
            body.name, body.role, created_by=principal.name, **context.dependencies
        )
        record.result = {"key_id": issued.key_id}
    return ApiKeyIssued(
        key_id=issued.key_id,
        name=issued.name,
        role=issued.role,
        created_at=issued.created_at,
        key=issued.key,
    )


@router.get("/api-keys")
async def list_api_keys(
    principal: Admin, context: Context, limit: Limit = 50, offset: Offset = 0
) -> ApiKeyPage:
    async with context.uow() as work:
        rows, total = await queries.api_keys(work.session, limit=limit, offset=offset)
        items = [ApiKeyOut.of(r) for r in rows]
    return ApiKeyPage(items=items, total=total, limit=limit, offset=offset)


@router.delete("/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_key(
    key_id: Annotated[str, Path(max_length=36)], principal: Admin, context: Context
) -> Response:
    """The key stops working at once."""
    async with audited(context, principal, "api_key.revoke", request={"key_id": key_id}):
        await handlers.revoke_api_key(key_id, **context.dependencies)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/audit-log")
async def audit_log(
    principal: Admin,
    context: Context,
    station_id: str | None = None,
    actor: str | None = None,
    at_from: AwareDatetime | None = None,
    at_to: AwareDatetime | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> AuditPage:
    """Every operator command and change made through the API, newest first."""
    async with context.uow() as work:
        rows, total = await queries.audit_entries(
            work.session,
            station_id=station_id,
            actor=actor,
            at_from=at_from,
            at_to=at_to,
            limit=limit,
            offset=offset,
        )
        entries = [AuditEntryOut.of(r) for r in rows]
    return AuditPage(items=entries, total=total, limit=limit, offset=offset)
