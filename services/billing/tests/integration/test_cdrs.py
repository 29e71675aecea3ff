import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from opencpms_contracts import billing
from opencpms_messaging.rpc_errors import NotFoundError

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("billing_service")]


async def priced_sessions(broker, cdr_events, events):
    for event in events:
        await broker.publisher.publish(event, subject=event.station_id)
    return [(await cdr_events.wait_for(e.transaction_id))[1].cdr for e in events]


async def test_get_a_cdr_as_it_was_published(rpc, broker, cdr_events, transaction_ended):
    # A station reporting local time: the CDR is in UTC all the same.
    local = datetime.now(timezone(timedelta(hours=2)))
    [published] = await priced_sessions(broker, cdr_events, [transaction_ended(ended_at=local)])

    fetched = await rpc.call(billing.GET_CDR, billing.CdrRef(cdr_id=published.cdr_id), timeout=10)

    assert fetched == published
    # Identical on the wire too: totals at the currency's minor unit, not the column's 6 places.
    assert fetched.model_dump_json() == published.model_dump_json()
    assert published.ended_at == local
    assert published.ended_at.utcoffset() == timedelta(0)


async def test_an_unknown_cdr_is_not_found(rpc):
    with pytest.raises(NotFoundError):
        await rpc.call(billing.GET_CDR, billing.CdrRef(cdr_id=str(uuid.uuid4())), timeout=10)


async def test_list_a_stations_cdrs_newest_first_in_pages(
    rpc, broker, cdr_events, transaction_ended
):
    station = f"CP-LIST-{uuid.uuid4().hex[:8]}"
    base = datetime(2026, 2, 1, tzinfo=UTC)
    events = [
        transaction_ended(station_id=station, ended_at=base + timedelta(hours=h))
        for h in (0, 2, 1, 3)
    ]
    cdrs = await priced_sessions(broker, cdr_events, events)
    newest_first = sorted(cdrs, key=lambda c: c.ended_at, reverse=True)

    first = await rpc.call(
        billing.LIST_CDRS, billing.ListCdrs(station_id=station, limit=3), timeout=10
    )
    second = await rpc.call(
        billing.LIST_CDRS, billing.ListCdrs(station_id=station, limit=3, offset=3), timeout=10
    )

    assert (first.total, first.limit, first.offset) == (4, 3, 0)
    assert [c.cdr_id for c in first.items] == [c.cdr_id for c in newest_first[:3]]
    assert [c.cdr_id for c in second.items] == [newest_first[3].cdr_id]
    assert second.total == 4


@pytest.mark.parametrize(
    ("ended_from", "ended_to", "expected_hours"),
    [
        (1, None, [3, 2, 1]),  # from is inclusive
        (None, 2, [1, 0]),  # to is exclusive
        (1, 3, [2, 1]),
        (4, None, []),
    ],
)
async def test_list_by_end_time(
    rpc, broker, cdr_events, transaction_ended, ended_from, ended_to, expected_hours
):
    station = f"CP-RANGE-{uuid.uuid4().hex[:8]}"
    base = datetime(2026, 2, 1, tzinfo=UTC)

    def at(hours: int | None) -> datetime | None:
        return None if hours is None else base + timedelta(hours=hours)

    events = [transaction_ended(station_id=station, ended_at=at(h)) for h in range(4)]
    await priced_sessions(broker, cdr_events, events)

    page = await rpc.call(
        billing.LIST_CDRS,
        billing.ListCdrs(station_id=station, ended_from=at(ended_from), ended_to=at(ended_to)),
        timeout=10,
    )

    assert [c.ended_at for c in page.items] == [at(h) for h in expected_hours]
    assert page.total == len(expected_hours)


async def test_list_by_transaction_id(rpc, broker, cdr_events, transaction_ended):
    mine, other = await priced_sessions(
        broker, cdr_events, [transaction_ended(), transaction_ended()]
    )

    page = await rpc.call(
        billing.LIST_CDRS, billing.ListCdrs(transaction_id=mine.transaction_id), timeout=10
    )

    assert [c.cdr_id for c in page.items] == [mine.cdr_id]
    assert other.cdr_id != mine.cdr_id
