"""The tables of schema ``authorization``; nobody else reads them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from opencpms_db.metadata import service_metadata
from opencpms_db.outbox import inbox_table, outbox_table

SCHEMA = "authorization"
metadata = service_metadata(SCHEMA)


class Base(DeclarativeBase):
    metadata = metadata


class Station(Base):
    __tablename__ = "stations"

    station_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(500))
    registration_status: Mapped[str] = mapped_column(String(16))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # What the station said at its last boot.
    ocpp_version: Mapped[str | None] = mapped_column(String(8))
    vendor: Mapped[str | None] = mapped_column(String(255))
    model: Mapped[str | None] = mapped_column(String(255))
    serial_number: Mapped[str | None] = mapped_column(String(255))
    firmware_version: Mapped[str | None] = mapped_column(String(255))
    modem_iccid: Mapped[str | None] = mapped_column(String(255))
    modem_imsi: Mapped[str | None] = mapped_column(String(255))
    meter_type: Mapped[str | None] = mapped_column(String(255))
    meter_serial_number: Mapped[str | None] = mapped_column(String(255))
    last_boot_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_boot_reason: Mapped[str | None] = mapped_column(String(64))


class IdToken(Base):
    __tablename__ = "id_tokens"

    value: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    group_id: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
