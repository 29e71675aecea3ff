from decimal import Decimal

import pytest
from pydantic import ValidationError

from opencpms_billing.bootstrap import default_tariff
from opencpms_billing.settings import Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Only what a test sets: none of this machine's OPENCPMS_ variables."""
    import os

    for name in os.environ:
        if name.startswith("OPENCPMS_"):
            monkeypatch.delenv(name)


def test_defaults_seed_a_30_cent_tariff_with_19_percent_tax():
    tariff = default_tariff(Settings())
    assert tariff.tariff_id == "default"
    assert tariff.currency == "EUR"
    assert tariff.price_per_kwh == Decimal("0.30")
    assert tariff.price_per_minute == 0
    assert tariff.price_per_session == 0
    assert tariff.tax_rate == Decimal("0.19")


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("OPENCPMS_BILLING_DEFAULT_CURRENCY", "CHF")
    monkeypatch.setenv("OPENCPMS_BILLING_DEFAULT_PRICE_PER_KWH", "0.455")
    monkeypatch.setenv("OPENCPMS_BILLING_DEFAULT_PRICE_PER_SESSION", "1.5")
    monkeypatch.setenv("OPENCPMS_BILLING_DEFAULT_TAX_RATE", "0.081")
    monkeypatch.setenv("OPENCPMS_BILLING_QUEUE_TYPE", "classic")
    settings = Settings()
    tariff = default_tariff(settings)
    assert (tariff.currency, tariff.price_per_kwh, tariff.price_per_session, tariff.tax_rate) == (
        "CHF",
        Decimal("0.455"),
        Decimal("1.5"),
        Decimal("0.081"),
    )
    assert type(tariff.price_per_kwh) is Decimal
    assert settings.queue_type == "classic"


def test_event_queues_are_quorum_queues_by_default():
    assert Settings().queue_type == "quorum"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OPENCPMS_BILLING_DEFAULT_CURRENCY", "eur"),
        ("OPENCPMS_BILLING_DEFAULT_PRICE_PER_KWH", "-0.1"),
        ("OPENCPMS_BILLING_DEFAULT_PRICE_PER_KWH", "0.1234567"),
        ("OPENCPMS_BILLING_DEFAULT_TAX_RATE", "1.5"),
    ],
)
def test_a_tariff_that_could_not_be_served_is_refused_at_start(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()
