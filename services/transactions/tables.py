"""The tables of schema ``transactions``, and the row a station message holds under its lock;
nobody else reads them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    Index,
    Integer,
    Numeric,
    Sequence,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from opencpms_db.metadata import service_metadata
from opencpms_db.outbox import outbox_table

SCHEMA = "transactions"
metadata = service_metadata(SCHEMA)

# OpenCPMS's transaction ids; for OCPP 1.6 stations they are also the transactionId, so they
# are drawn before the insert (the station transaction id of a 1.6 row is this id as text).
transaction_ids = Sequence("transaction_ids", schema=SCHEMA, metadata=metadata)


class Base(DeclarativeBase):
    metadata = metadata


class TransactionRecord(Base):
    __tablename__ = "transactions"
    __table_args__ = (
        # The business keys that make retried station messages no-ops (ARCHITECTURE §5).
        UniqueConstraint("station_id", "station_transaction_id"),
        UniqueConstraint("station_id", "start_key"),
        Index("ix_transactions_station_id_started_at", "station_id", "started_at"),
        Index("ix_transactions_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger, transaction_ids, server_default=transaction_ids.next_value(), primary_key=True
    )
    station_id: Mapped[str] = mapped_column(String(48))
    station_transaction_id: Mapped[str] = mapped_column(String(36))
    start_key: Mapped[str | None] = mapped_column(
        String(400), comment="1.6 only: what identifies a retried StartTransaction"
    )
    evse_id: Mapped[int] = mapped_column(Integer)
    connector_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    implicit: Mapped[bool] = mapped_column(
        Boolean, comment="Created by a later message because its start never arrived"
    )
    id_token: Mapped[str | None] = mapped_column(String(255), index=True)
    id_token_type: Mapped[str | None] = mapped_column(String(32))
    id_token_info: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    meter_start_wh: Mapped[int | None] = mapped_column(BigInteger)
    meter_stop_wh: Mapped[int | None] = mapped_column(BigInteger)
    first_register_wh: Mapped[int | None] = mapped_column(BigInteger)
    first_register_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    max_register_wh: Mapped[int | None] = mapped_column(BigInteger)
    energy_wh: Mapped[int] = mapped_column(BigInteger)
    stop_reason: Mapped[str | None] = mapped_column(String(64))
    charging_state: Mapped[str | None] = mapped_column(String(32))
    last_power_w: Mapped[float | None] = mapped_column(Float)
    last_power_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_soc_percent: Mapped[float | None] = mapped_column(Float)
    last_soc_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reservation_id: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(eq=False)
class LockedTransaction:
    """A transaction row read under its lock for a station message. What a handler assigns is
    remembered and written back by ``repository.save`` in one UPDATE: the ORM did the same with its
    identity map and flush, about a fifth of the service's CPU on the messages stations send
    most. The fields are the table's columns (a test keeps them so)."""

    id: int
    station_id: str
    station_transaction_id: str
    start_key: str | None
    evse_id: int
    connector_id: int
    status: str
    implicit: bool
    id_token: str | None
    id_token_type: str | None
    id_token_info: dict[str, Any] | None
    started_at: datetime
    ended_at: datetime | None
    meter_start_wh: int | None
    meter_stop_wh: int | None
    first_register_wh: int | None
    first_register_at: datetime | None
    max_register_wh: int | None
    energy_wh: int
    stop_reason: str | None
    charging_state: str | None
    last_power_w: float | None
    last_power_at: datetime | None
    last_soc_percent: float | None
    last_soc_at: datetime | None
    reservation_id: int | None
    updated_at: datetime
    changed: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    def __setattr__(self, name: str, value: Any) -> None:
        # Assignments after __init__ (which sets ``changed`` last) are changes to write.
        if name != "changed" and "changed" in self.__dict__:
            self.changed[name] = value
        object.__setattr__(self, name, value)


class SeenSequenceNumber(Base):
    """2.0.1 seqNo per transaction: a TransactionEvent whose seqNo is here was applied."""

    __tablename__ = "seen_seq_nos"

    transaction_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    seq_no: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class MeterSampleRecord(Base):
    """One sampled value. A sample sent twice (a retried message) is stored once: the unique
    index treats absent phase/location/context as equal (NULLS NOT DISTINCT)."""

    __tablename__ = "meter_samples"
    __table_args__ = (
        Index(
            "uq_meter_samples_reading",
            "station_id",
            "evse_id",
            "connector_id",
            "transaction_id",
            "timestamp",
            "measurand",
            "phase",
            "location",
            "context",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
        Index("ix_meter_samples_transaction_id_timestamp", "transaction_id", "timestamp"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    transaction_id: Mapped[int | None] = mapped_column(BigInteger)
    station_id: Mapped[str] = mapped_column(String(48))
    evse_id: Mapped[int] = mapped_column(Integer)
    connector_id: Mapped[int] = mapped_column(Integer)
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    measurand: Mapped[str] = mapped_column(String(64))
    phase: Mapped[str | None] = mapped_column(String(8))
    location: Mapped[str | None] = mapped_column(String(16))
    context: Mapped[str | None] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(32))
    value: Mapped[Decimal] = mapped_column(Numeric(24, 6))


outbox = outbox_table(metadata)
