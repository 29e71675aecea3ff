"""Tariffs and charge detail records, held by the billing service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import AwareDatetime

from opencpms_admin.api.audit import audited
from opencpms_admin.api.auth import Admin, Viewer
from opencpms_admin.api.context import Context
from opencpms_admin.api.params import Limit, Offset
from opencpms_admin.api.schemas import TariffChange
from opencpms_contracts import billing

router = APIRouter(tags=["billing"])

DEFAULT_TARIFF = "default"


@router.get("/tariffs/default")
async def get_default_tariff(principal: Viewer, context: Context) -> billing.Tariff:
    return await context.call(billing.GET_TARIFF, billing.TariffRef(tariff_id=DEFAULT_TARIFF))


@router.put("/tariffs/default")
async def set_default_tariff(
    body: TariffChange, principal: Admin, context: Context
) -> billing.Tariff:
    """A new version of the default tariff, applied to sessions that end from now on."""
    async with audited(context, principal, "tariff.set", request=body.model_dump(mode="json")):
        return await context.call(
            billing.SET_TARIFF,
            billing.SetTariff.model_validate(body.model_dump() | {"tariff_id": DEFAULT_TARIFF}),
        )


@router.get("/cdrs")
async def list_cdrs(
    principal: Viewer,
    context: Context,
    station_id: str | None = None,
    transaction_id: int | None = None,
    ended_from: AwareDatetime | None = None,
    ended_to: AwareDatetime | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> billing.CdrPage:
    return await context.call(
        billing.LIST_CDRS,
        billing.ListCdrs(
            station_id=station_id,
            transaction_id=transaction_id,
            ended_from=ended_from,
            ended_to=ended_to,
            limit=limit,
            offset=offset,
        ),
    )


@router.get("/cdrs/{cdr_id}")
async def get_cdr(
    cdr_id: Annotated[str, Path(max_length=36)], principal: Viewer, context: Context
) -> billing.Cdr:
    return await context.call(billing.GET_CDR, billing.CdrRef(cdr_id=cdr_id))
