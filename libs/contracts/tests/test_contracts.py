from datetime import datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from opencpms_contracts.base import registered_events
from opencpms_contracts.billing import Tariff
from opencpms_contracts.common import MeterSample
from opencpms_contracts.data_transfer import data_transfer_operation
from opencpms_contracts.stations import StationHeartbeat


def test_event_types_are_versioned_and_routing_keys_are_the_type():
    for ce_type, model in registered_events().items():
        assert ce_type == f"opencpms.{model.event_type}.v{model.event_version}"
        assert model.routing_key() == model.event_type


def test_naive_timestamps_are_refused():
    with pytest.raises(ValidationError, match="timezone"):
        StationHeartbeat(station_id="CP1", connection_id="c", at=datetime(2026, 1, 1))


def test_money_serialises_as_string():
    tariff = Tariff(
        currency="EUR",
        price_per_kwh=Decimal("0.30"),
        price_per_minute=Decimal(0),
        price_per_session=Decimal("1"),
        tax_rate=Decimal("0.19"),
    )
    dumped = tariff.model_dump(mode="json")
    assert dumped["price_per_kwh"] == "0.30"
    assert isinstance(dumped["tax_rate"], str)


def test_contracts_are_frozen_and_ignore_unknown_fields():
    sample = MeterSample.model_validate({"value": "1", "future_field": 3})
    with pytest.raises(ValidationError):
        sample.value = Decimal(2)  # type: ignore[misc]


def test_long_vendor_ids_get_a_stable_short_routing_key():
    long_vendor = "v" * 300
    key = data_transfer_operation(long_vendor).routing_key
    assert len(key) < 255
    assert key == data_transfer_operation(long_vendor).routing_key
    assert data_transfer_operation("com.acme").routing_key == "data_transfer.com.acme"
