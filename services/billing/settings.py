"""Configuration of the billing service; built once, in ``__main__``."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from opencpms_contracts.billing import Currency, Money, TaxRate
from opencpms_db.settings import database_url_field
from opencpms_messaging.settings import amqp_url_field, queue_type_field

ENV_PREFIX = "OPENCPMS_BILLING_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", populate_by_name=True)

    database_url: SecretStr = database_url_field(ENV_PREFIX, "billing")
    amqp_url: SecretStr = amqp_url_field(ENV_PREFIX)
    queue_type: str = queue_type_field(ENV_PREFIX)
    # The default tariff is seeded from these when the database has none; afterwards it is
    # changed through billing.set_tariff and these values no longer matter.
    default_currency: Currency = "EUR"
    default_price_per_kwh: Money = Decimal("0.30")
    default_price_per_minute: Money = Decimal(0)
    default_price_per_session: Money = Decimal(0)
    default_tax_rate: TaxRate = Decimal("0.19")
    rpc_prefetch: int = Field(default=64, ge=1)
    event_prefetch: int = Field(
        default=32, ge=1, description="transaction.ended messages priced concurrently"
    )
    delivery_limit: int = Field(
        default=5, ge=1, description="Attempts at a failing message before it is dead-lettered"
    )
    # Pricing is off the stations' path (a station's StopTransaction is answered before its
    # session is priced), so a CDR can wait for others to share its transaction.
    pricing_wait_s: float = Field(
        default=0.25,
        ge=0,
        description="How long a session's pricing waits for others to share its transaction",
    )
    db_pool_size: int = Field(default=20, ge=1)
