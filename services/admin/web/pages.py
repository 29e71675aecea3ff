"""The UI's pages. They read through the same calls as the API (the read model, and the other
services over RPC); actions go through the API itself from the browser, or through forms here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from opencpms_admin import queries
from opencpms_admin.api.audit import audited
from opencpms_admin.api.context import Context
from opencpms_admin.api.params import StationIdPath
from opencpms_admin.api.schemas import FrameOut, StationOut
from opencpms_admin.api.stations import read_station
from opencpms_admin.web.live import LiveFeed
from opencpms_admin.web.templating import PageOperator, PageViewer, check_form_csrf, render
from opencpms_contracts import authorization as auth
from opencpms_contracts import billing
from opencpms_contracts import transactions as tx
from opencpms_contracts.common import AuthorizationStatus
from opencpms_messaging.rpc_errors import NotFoundError, RpcError

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/")
async def dashboard(request: Request, session: PageViewer, context: Context) -> HTMLResponse:
    return render(request, "dashboard.html", session, stats=await _stats(context))


@router.get("/dashboard.json")
async def dashboard_figures(session: PageViewer, context: Context) -> dict[str, object]:
    return await _stats(context)


@router.get("/live")
async def live(request: Request, session: PageViewer) -> StreamingResponse:
    """Server-sent events: a notice per change; pages re-read what they show."""
    feed: LiveFeed = request.app.state.live
    return StreamingResponse(
        feed.stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/stations")
async def stations(
    request: Request,
    session: PageViewer,
    context: Context,
    q: str = "",
    state: str = "",
    ocpp_version: str = "",
    vendor: str = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    async with context.uow() as work:
        rows, total = await queries.list_stations(
            work.session,
            station_id_prefix=q or None,
            connected={"online": True, "offline": False}.get(state),
            ocpp_version=ocpp_version or None,
            vendor=vendor or None,
            registration_status=None,
            limit=100,
            offset=offset,
        )
        connectors = await queries.connectors_of(work.session, [r.station_id for r in rows])
        listed = [StationOut.of(row, connectors[row.station_id]) for row in rows]
    return render(
        request,
        "stations.html",
        session,
        stations=listed,
        total=total,
        offset=offset,
        filters={"q": q, "state": state, "ocpp_version": ocpp_version, "vendor": vendor},
    )


@router.get("/stations/{station_id}")
async def station(
    request: Request, station_id: StationIdPath, session: PageViewer, context: Context
) -> HTMLResponse:
    found = await read_station(context, station_id)
    recent = await context.call(
        tx.LIST_TRANSACTIONS, tx.ListTransactions(station_id=station_id, limit=10)
    )
    async with context.uow() as work:
        frames, _ = await queries.frames_of(work.session, station_id, limit=50, offset=0)
        log = [FrameOut.of(f) for f in frames]
    return render(
        request, "station.html", session, station=found, transactions=recent.items, frames=log
    )


@router.get("/transactions")
async def transactions(
    request: Request,
    session: PageViewer,
    context: Context,
    station_id: str = "",
    id_token: str = "",
    status_filter: Annotated[str, Query(alias="status")] = "",
    date_from: str = "",
    date_to: str = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    listing = await context.call(
        tx.LIST_TRANSACTIONS,
        transaction_query(station_id, id_token, status_filter, date_from, date_to, 100, offset),
    )
    return render(
        request,
        "transactions.html",
        session,
        page=listing,
        offset=offset,
        filters={
            "station_id": station_id,
            "id_token": id_token,
            "status": status_filter,
            "date_from": date_from,
            "date_to": date_to,
        },
    )


@router.get("/transactions/{transaction_id}")
async def transaction(
    request: Request, transaction_id: int, session: PageViewer, context: Context
) -> HTMLResponse:
    detail = await context.call(
        tx.GET_TRANSACTION, tx.TransactionRef(transaction_id=transaction_id)
    )
    cdrs = await context.call(billing.LIST_CDRS, billing.ListCdrs(transaction_id=transaction_id))
    series = [
        {
            "at": value.timestamp.isoformat(),
            **{
                key: float(sample.value)
                for sample in value.samples
                if (key := _series_key(sample.measurand, sample.phase)) is not None
            },
        }
        for value in detail.meter_values
    ]
    return render(
        request,
        "transaction.html",
        session,
        transaction=detail,
        cdr=cdrs.items[0] if cdrs.items else None,
        series=series,
    )


@router.get("/id-tokens")
async def id_tokens(
    request: Request,
    session: PageViewer,
    context: Context,
    q: str = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    listing = await context.call(
        auth.LIST_ID_TOKENS, auth.ListIdTokens(value_prefix=q or None, limit=100, offset=offset)
    )
    return render(request, "id_tokens.html", session, page=listing, q=q, offset=offset)


@router.post("/id-tokens")
async def create_id_token(
    session: PageOperator,
    context: Context,
    value: Annotated[str, Form(min_length=1, max_length=255)],
    csrf_token: Annotated[str, Form()],
    expires_on: Annotated[str, Form()] = "",
    description: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    check_form_csrf(session, csrf_token)
    request = auth.CreateIdToken(
        value=value,
        expires_at=_day(expires_on),
        description=description or None,
    )
    async with audited(
        context, session.principal, "id_token.create", request=request.model_dump(mode="json")
    ):
        await context.call(auth.CREATE_ID_TOKEN, request)
    return RedirectResponse("/ui/id-tokens", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/id-tokens/{value}/status")
async def change_id_token_status(
    value: str,
    session: PageOperator,
    context: Context,
    new_status: Annotated[AuthorizationStatus, Form(alias="status")],
    csrf_token: Annotated[str, Form()],
) -> Response:
    check_form_csrf(session, csrf_token)
    async with audited(
        context,
        session.principal,
        "id_token.update",
        request={"value": value, "status": new_status.value},
    ):
        await context.call(auth.UPDATE_ID_TOKEN, auth.UpdateIdToken(value=value, status=new_status))
    return RedirectResponse("/ui/id-tokens", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/billing")
async def billing_page(
    request: Request,
    session: PageViewer,
    context: Context,
    station_id: str = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    try:
        tariff: billing.Tariff | None = await context.call(
            billing.GET_TARIFF, billing.TariffRef(tariff_id="default")
        )
    except NotFoundError:
        tariff = None
    cdrs = await context.call(
        billing.LIST_CDRS,
        billing.ListCdrs(station_id=station_id or None, limit=100, offset=offset),
    )
    return render(
        request,
        "billing.html",
        session,
        tariff=tariff,
        page=cdrs,
        station_id=station_id,
        offset=offset,
    )


async def _stats(context: Context) -> dict[str, object]:
    now = datetime.now(UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    async with context.uow() as work:
        station_figures = await queries.station_counts(work.session)
        connector_figures = await queries.connector_counts(work.session)
    figures: dict[str, object] = {
        "stations": station_figures,
        "connectors": connector_figures,
        "running": None,
        "energy_today_wh": None,
        "energy_month_wh": None,
        "sessions_today": None,
    }
    # The station figures are the admin service's own; with the transactions service away the
    # dashboard still shows them, and the session figures as unknown.
    try:
        until = now + timedelta(seconds=1)
        today = await context.call(
            tx.SUMMARIZE_TRANSACTIONS, tx.SummarizeTransactions(started_from=day, started_to=until)
        )
        this_month = await context.call(
            tx.SUMMARIZE_TRANSACTIONS,
            tx.SummarizeTransactions(started_from=month, started_to=until),
        )
    except RpcError:
        return figures
    return figures | {
        "running": today.running,
        "energy_today_wh": today.energy_wh,
        "energy_month_wh": this_month.energy_wh,
        "sessions_today": today.sessions,
    }


def transaction_query(
    station_id: str,
    id_token: str,
    status_filter: str,
    date_from: str,
    date_to: str,
    limit: int,
    offset: int,
) -> tx.ListTransactions:
    upper = _day(date_to)
    return tx.ListTransactions(
        station_id=station_id or None,
        id_token=id_token or None,
        status=tx.TransactionStatus(status_filter) if status_filter else None,
        started_from=_day(date_from),
        started_to=upper + timedelta(days=1) if upper else None,  # the whole last day
        limit=limit,
        offset=offset,
    )


def _day(value: str) -> datetime | None:
    """A date from a form (YYYY-MM-DD) as midnight UTC; empty or unreadable: no bound."""
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC) if value else None
    except ValueError:
        return None


def _series_key(measurand: str, phase: str | None) -> str | None:
    if phase is not None:
        return None  # the chart shows totals; per-phase values stay in the table
    return {"Energy.Active.Import.Register": "energy_wh", "Power.Active.Import": "power_w"}.get(
        measurand
    )
