"""The CloudEvents envelope written and read directly, checked against the ``cloudevents``
package: what one writes the other reads, both ways."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import orjson
import pytest
from cloudevents.core.bindings.rabbitmq import RabbitMQMessage, from_structured, to_structured
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v03.event import CloudEvent as CloudEventV03
from cloudevents.core.v1.event import CloudEvent

from opencpms_contracts.common import MeterSample, MeterValue
from opencpms_contracts.transactions import TransactionUpdated
from opencpms_messaging.cloudevents_codec import (
    CONTENT_TYPE,
    UnknownEventError,
    build_message,
    decode_event,
    encode_event,
)

AT = datetime(2026, 12, 6, 4, 30, 9, 408239, tzinfo=UTC)


def updated() -> TransactionUpdated:
    return TransactionUpdated(
        transaction_id=5,
        station_id="CP-1",
        station_transaction_id="5",
        evse_id=1,
        connector_id=1,
        timestamp=AT,
        energy_wh=1250,
        charging_state="Charging",
        meter_values=[
            MeterValue(timestamp=AT, samples=[MeterSample(value=Decimal("1250.5"), unit="Wh")])
        ],
    )


def test_an_encoded_event_decodes_to_the_same_event_and_envelope() -> None:
    message = encode_event(updated(), source="transactions", subject="CP-1", time=AT)

    envelope, event = decode_event(message.body, CONTENT_TYPE)

    assert event == updated()
    assert envelope.type == TransactionUpdated.cloudevent_type()
    assert envelope.source == "transactions"
    assert envelope.subject == "CP-1"
    assert envelope.time == AT
    assert envelope.id == message.properties.message_id
    assert message.properties.content_type == "application/cloudevents+json"


def test_text_beyond_ascii_reads_the_same_through_the_package() -> None:
    event = updated().model_copy(update={"charging_state": "Lädt"})
    message = encode_event(event, source="transactions", subject="Zürich-Ω-1", time=AT)

    ce = from_structured(
        RabbitMQMessage(headers={}, content_type=CONTENT_TYPE, body=message.body), JSONFormat()
    )
    envelope, decoded = decode_event(message.body, CONTENT_TYPE)

    assert ce.get_subject() == envelope.subject == "Zürich-Ω-1"
    assert ce.get_data()["charging_state"] == decoded.charging_state == "Lädt"


def test_the_cloudevents_package_reads_what_is_written() -> None:
    message = encode_event(updated(), source="transactions", subject="CP-1", time=AT)

    ce = from_structured(
        RabbitMQMessage(headers={}, content_type=CONTENT_TYPE, body=message.body), JSONFormat()
    )

    assert ce.get_specversion() == "1.0"
    assert ce.get_type() == "opencpms.transaction.updated.v1"
    assert ce.get_source() == "transactions"
    assert ce.get_subject() == "CP-1"
    assert ce.get_time() == AT
    assert ce.get_datacontenttype() == "application/json"
    assert ce.get_data() == updated().model_dump(mode="json")


def test_an_event_the_package_wrote_is_read() -> None:
    ce = CloudEvent(
        attributes={
            "id": "e-1",
            "source": "/some/billing/system",
            "type": TransactionUpdated.cloudevent_type(),
            "time": AT,
            "datacontenttype": "application/json",
        },
        data=updated().model_dump(mode="json"),
    )
    body = to_structured(ce, JSONFormat()).body

    envelope, event = decode_event(body, CONTENT_TYPE)

    assert event == updated()
    assert (envelope.id, envelope.source, envelope.subject) == ("e-1", "/some/billing/system", None)
    assert envelope.time == AT


def test_an_event_of_spec_version_0_3_is_read_through_the_package() -> None:
    ce = CloudEventV03(
        attributes={
            "id": "e-03",
            "source": "/older",
            "type": TransactionUpdated.cloudevent_type(),
            "specversion": "0.3",
            "time": AT,
        },
        data=updated().model_dump(mode="json"),
    )
    body = to_structured(ce, JSONFormat()).body

    envelope, event = decode_event(body, CONTENT_TYPE)

    assert event == updated()
    assert envelope.id == "e-03"


def test_data_as_an_object_as_json_text_and_as_bytes_give_the_same_message() -> None:
    data = updated().model_dump(mode="json")

    def body_of(given: dict[str, object] | str | bytes) -> dict[str, object]:
        message = build_message(
            event_type="opencpms.transaction.updated.v1",
            data=given,
            source="s",
            subject=None,
            event_id="same",
            time=AT,
        )
        return orjson.loads(message.body)

    as_object = body_of(data)
    assert as_object == body_of(orjson.dumps(data).decode()) == body_of(orjson.dumps(data))
    assert as_object["data"] == data
    assert "subject" not in as_object


def test_data_with_an_integer_beyond_64_bits_is_still_published() -> None:
    message = build_message(
        event_type="opencpms.transaction.updated.v1",
        data={"big": 2**70},
        source="s",
        subject=None,
        time=AT,
    )

    assert b'"big":1180591620717411303424' in message.body


def test_time_is_written_in_utc_with_z() -> None:
    eastern = AT.astimezone(timezone(timedelta(hours=-5)))
    message = encode_event(updated(), source="s", subject=None, time=eastern)

    assert orjson.loads(message.body)["time"] == "2026-12-06T04:30:09.408239Z"


@pytest.fixture
def local_time_not_utc() -> Iterator[None]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.mark.usefixtures("local_time_not_utc")
def test_a_naive_time_is_taken_as_utc_not_as_local_time() -> None:
    message = encode_event(updated(), source="s", subject=None, time=AT.replace(tzinfo=None))

    assert orjson.loads(message.body)["time"] == "2026-12-06T04:30:09.408239Z"


def test_lowercase_t_and_z_are_read_as_rfc_3339_allows() -> None:
    envelope, _ = decode_event(envelope_with(time="2026-12-06t04:30:09.408239z"), CONTENT_TYPE)

    assert envelope.time == AT


def test_a_null_optional_attribute_is_absent() -> None:
    envelope, _ = decode_event(envelope_with(subject=NULL), CONTENT_TYPE)

    assert envelope.subject is None


NULL = object()  # an attribute sent as JSON null, where None leaves it out


def envelope_with(**changes: object) -> bytes:
    attributes = orjson.loads(encode_event(updated(), source="s", subject="CP-1", time=AT).body)
    for name, value in changes.items():
        if value is None:
            attributes.pop(name)
        else:
            attributes[name] = None if value is NULL else value
    return orjson.dumps(attributes)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not a structured CloudEvent"),
        (b"[1, 2]", "not a JSON object"),
        (envelope_with(id=None), "no 'id'"),
        (envelope_with(id=""), "no 'id'"),
        (envelope_with(source=7), "no 'source'"),
        (envelope_with(type="opencpms.nothing.v1"), "unknown event type"),
        (envelope_with(specversion=None), "not a structured CloudEvent"),
        (envelope_with(specversion="2.0"), "not a structured CloudEvent"),
        (envelope_with(subject=12), "'subject' is not a string"),
        (envelope_with(subject=""), "'subject' is not a string"),
        (envelope_with(datacontenttype=7), "'datacontenttype' is not a string"),
        (envelope_with(data=None, data_base64="e30="), "binary data"),
        (envelope_with(time="yesterday"), "'time'"),
        (envelope_with(time="2026-12-06T04:30:09"), "has no offset"),
    ],
)
def test_what_is_not_a_valid_known_event_is_refused(body: bytes, reason: str) -> None:
    with pytest.raises(UnknownEventError, match=reason):
        decode_event(body, CONTENT_TYPE)


def test_data_that_does_not_fit_its_event_is_refused() -> None:
    # Consumers dead-letter any ValueError; pydantic's ValidationError is one.
    with pytest.raises(ValueError, match="energy_wh"):
        decode_event(envelope_with(data={"transaction_id": 5}), CONTENT_TYPE)
