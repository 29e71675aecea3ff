"""transactions, meter samples, seen seqNos and outbox

Revision ID: 0001
Revises:
Create Date: 2026-11-25 00:06:48.264515
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "meter_samples",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("transaction_id", sa.BigInteger(), nullable=True),
        sa.Column("station_id", sa.String(length=48), nullable=False),
        sa.Column("evse_id", sa.Integer(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("measurand", sa.String(length=64), nullable=False),
        sa.Column("phase", sa.String(length=8), nullable=True),
        sa.Column("location", sa.String(length=16), nullable=True),
        sa.Column("context", sa.String(length=32), nullable=True),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Numeric(precision=24, scale=6), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter_samples")),
        schema="transactions",
    )
    op.create_index(
        "ix_meter_samples_transaction_id_timestamp",
        "meter_samples",
        ["transaction_id", "timestamp"],
        unique=False,
        schema="transactions",
    )
    op.create_index(
        "uq_meter_samples_reading",
        "meter_samples",
        [
            "station_id",
            "evse_id",
            "connector_id",
            "transaction_id",
            "timestamp",
            "measurand",
            "phase",
            "location",
            "context",
        ],
        unique=True,
        schema="transactions",
        postgresql_nulls_not_distinct=True,
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("routing_key", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
        schema="transactions",
    )
    op.create_table(
        "seen_seq_nos",
        sa.Column("transaction_id", sa.BigInteger(), nullable=False),
        sa.Column("seq_no", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("transaction_id", "seq_no", name=op.f("pk_seen_seq_nos")),
        schema="transactions",
    )
    op.execute(sa.schema.CreateSequence(sa.Sequence("transaction_ids", schema="transactions")))
    op.create_table(
        "transactions",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('transactions.transaction_ids')"),
            nullable=False,
        ),
        sa.Column("station_id", sa.String(length=48), nullable=False),
        sa.Column("station_transaction_id", sa.String(length=36), nullable=False),
        sa.Column(
            "start_key",
            sa.String(length=400),
            nullable=True,
            comment="1.6 only: what identifies a retried StartTransaction",
        ),
        sa.Column("evse_id", sa.Integer(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "implicit",
            sa.Boolean(),
            nullable=False,
            comment="Created by a later message because its start never arrived",
        ),
        sa.Column("id_token", sa.String(length=255), nullable=True),
        sa.Column("id_token_type", sa.String(length=32), nullable=True),
        sa.Column("id_token_info", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("meter_start_wh", sa.BigInteger(), nullable=True),
        sa.Column("meter_stop_wh", sa.BigInteger(), nullable=True),
        sa.Column("first_register_wh", sa.BigInteger(), nullable=True),
        sa.Column("first_register_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_register_wh", sa.BigInteger(), nullable=True),
        sa.Column("energy_wh", sa.BigInteger(), nullable=False),
        sa.Column("stop_reason", sa.String(length=64), nullable=True),
        sa.Column("charging_state", sa.String(length=32), nullable=True),
        sa.Column("last_power_w", sa.Float(), nullable=True),
        sa.Column("last_power_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_soc_percent", sa.Float(), nullable=True),
        sa.Column("last_soc_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reservation_id", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transactions")),
        sa.UniqueConstraint(
            "station_id", "start_key", name=op.f("uq_transactions_station_id_start_key")
        ),
        sa.UniqueConstraint(
            "station_id",
            "station_transaction_id",
            name=op.f("uq_transactions_station_id_station_transaction_id"),
        ),
        schema="transactions",
    )
    op.create_index(
        "ix_transactions_started_at",
        "transactions",
        ["started_at"],
        unique=False,
        schema="transactions",
    )
    op.create_index(
        "ix_transactions_station_id_started_at",
        "transactions",
        ["station_id", "started_at"],
        unique=False,
        schema="transactions",
    )
    op.create_index(
        op.f("ix_transactions_transactions_id_token"),
        "transactions",
        ["id_token"],
        unique=False,
        schema="transactions",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_transactions_transactions_id_token"),
        table_name="transactions",
        schema="transactions",
    )
    op.drop_index(
        "ix_transactions_station_id_started_at", table_name="transactions", schema="transactions"
    )
    op.drop_index("ix_transactions_started_at", table_name="transactions", schema="transactions")
    op.drop_table("transactions", schema="transactions")
    op.execute(sa.schema.DropSequence(sa.Sequence("transaction_ids", schema="transactions")))
    op.drop_table("seen_seq_nos", schema="transactions")
    op.drop_table("outbox", schema="transactions")
    op.drop_index(
        "uq_meter_samples_reading",
        table_name="meter_samples",
        schema="transactions",
        postgresql_nulls_not_distinct=True,
    )
    op.drop_index(
        "ix_meter_samples_transaction_id_timestamp",
        table_name="meter_samples",
        schema="transactions",
    )
    op.drop_table("meter_samples", schema="transactions")
