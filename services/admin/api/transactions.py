"""Charging sessions, held by the transactions service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import AwareDatetime

from opencpms_admin.api.auth import Viewer
from opencpms_admin.api.context import Context
from opencpms_admin.api.params import Limit, Offset
from opencpms_contracts import transactions as tx

router = APIRouter(prefix="/transactions", tags=["transactions"])


@router.get("")
async def list_transactions(
    principal: Viewer,
    context: Context,
    station_id: str | None = None,
    id_token: str | None = None,
    status: tx.TransactionStatus | None = None,
    started_from: AwareDatetime | None = None,
    started_to: AwareDatetime | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> tx.TransactionPage:
    """Newest first. ``started_from`` is inclusive, ``started_to`` exclusive; times need a
    timezone (``2026-05-01T00:00:00Z``)."""
    return await context.call(
        tx.LIST_TRANSACTIONS,
        tx.ListTransactions(
            station_id=station_id,
            id_token=id_token,
            status=status,
            started_from=started_from,
            started_to=started_to,
            limit=limit,
            offset=offset,
        ),
    )


@router.get("/{transaction_id}")
async def get_transaction(
    transaction_id: Annotated[int, Path(ge=1)], principal: Viewer, context: Context
) -> tx.TransactionDetail:
    """The transaction with all its meter values."""
    return await context.call(tx.GET_TRANSACTION, tx.TransactionRef(transaction_id=transaction_id))
