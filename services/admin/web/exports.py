"""CSV export of transactions, as filtered on the transactions page."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from opencpms_admin.api.context import AdminContext, Context
from opencpms_admin.web.pages import transaction_query
from opencpms_admin.web.templating import PageViewer
from opencpms_contracts import transactions as tx

router = APIRouter(prefix="/ui", include_in_schema=False)

COLUMNS = (
    "transaction_id",
    "station_id",
    "station_transaction_id",
    "evse_id",
    "connector_id",
    "status",
    "id_token",
    "started_at",
    "ended_at",
    "energy_wh",
    "meter_start_wh",
    "meter_stop_wh",
    "stop_reason",
)
PAGE = 500


@router.get("/transactions.csv")
async def transactions_csv(
    session: PageViewer,
    context: Context,
    station_id: str = "",
    id_token: str = "",
    status: str = Query(default=""),
    date_from: str = "",
    date_to: str = "",
) -> StreamingResponse:
    filters = (station_id, id_token, status, date_from, date_to)
    return StreamingResponse(
        _rows(context, filters),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="transactions.csv"'},
    )


async def _rows(
    context: AdminContext, filters: tuple[str, str, str, str, str]
) -> AsyncIterator[str]:
    yield _line(COLUMNS)
    offset = 0
    while True:
        page = await context.call(tx.LIST_TRANSACTIONS, transaction_query(*filters, PAGE, offset))
        for item in page.items:
            yield _line(
                (
                    item.transaction_id,
                    item.station_id,
                    item.station_transaction_id,
                    item.evse_id,
                    item.connector_id,
                    item.status,
                    item.id_token.value if item.id_token else "",
                    item.started_at.isoformat(),
                    item.ended_at.isoformat() if item.ended_at else "",
                    item.energy_wh,
                    "" if item.meter_start_wh is None else item.meter_start_wh,
                    "" if item.meter_stop_wh is None else item.meter_stop_wh,
                    item.stop_reason or "",
                )
            )
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return


def _line(values: tuple[object, ...]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()
