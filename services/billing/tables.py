"""The tables of schema ``billing``; nobody else reads them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from opencpms_db.metadata import service_metadata
from opencpms_db.outbox import outbox_table

SCHEMA = "billing"
metadata = service_metadata(SCHEMA)

# Money as the contracts allow it: 18 digits, 6 of them decimals. Never a float column.
MONEY = Numeric(18, 6)


class Base(DeclarativeBase):
    metadata = metadata


class TariffVersion(Base):
    """One version of a tariff. A change adds a row valid from the moment it was made, so a
    session is priced with the tariff in force when it ended, even if its transaction.ended
    is processed after a later change (a backlog, a station's offline queue)."""

    __tablename__ = "tariffs"
    __table_args__ = (UniqueConstraint("tariff_id", "valid_from"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tariff_id: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    currency: Mapped[str] = mapped_column(String(3))
    price_per_kwh: Mapped[Decimal] = mapped_column(MONEY)
    price_per_minute: Mapped[Decimal] = mapped_column(MONEY)
    price_per_session: Mapped[Decimal] = mapped_column(MONEY)
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(7, 6))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CdrRecord(Base):
    """A priced session. ``transaction_id`` is unique: it is what makes a redelivered or
    re-published transaction.ended a no-op."""

    __tablename__ = "cdrs"
    __table_args__ = (Index("ix_cdrs_station_id_ended_at", "station_id", "ended_at"),)

    cdr_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    transaction_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    source_event_id: Mapped[str | None] = mapped_column(
        String(255), comment="CloudEvents id of the transaction.ended that was priced"
    )
    station_id: Mapped[str] = mapped_column(String(48))
    station_transaction_id: Mapped[str] = mapped_column(String(36))
    evse_id: Mapped[int] = mapped_column(Integer)
    connector_id: Mapped[int] = mapped_column(Integer)
    id_token: Mapped[str | None] = mapped_column(String(255))
    id_token_type: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    energy_wh: Mapped[int] = mapped_column(BigInteger)
    duration_s: Mapped[int] = mapped_column(BigInteger)
    tariff: Mapped[dict[str, Any]] = mapped_column(JSONB, comment="The tariff as applied")
    currency: Mapped[str] = mapped_column(String(3))
    energy_cost: Mapped[Decimal] = mapped_column(MONEY)
    time_cost: Mapped[Decimal] = mapped_column(MONEY)
    session_cost: Mapped[Decimal] = mapped_column(MONEY)
    total_excl_tax: Mapped[Decimal] = mapped_column(MONEY)
    tax: Mapped[Decimal] = mapped_column(MONEY)
    total_incl_tax: Mapped[Decimal] = mapped_column(MONEY)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


outbox = outbox_table(metadata)
# No inbox: transaction.ended is deduplicated by its business key (cdrs.transaction_id), which
# also catches a re-publication under a new event id, which an inbox would not.
