"""tariffs (versioned), CDRs and outbox

Revision ID: 0001
Revises:
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
        "cdrs",
        sa.Column("cdr_id", sa.String(length=36), nullable=False),
        sa.Column("transaction_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "source_event_id",
            sa.String(length=255),
            nullable=True,
            comment="CloudEvents id of the transaction.ended that was priced",
        ),
        sa.Column("station_id", sa.String(length=48), nullable=False),
        sa.Column("station_transaction_id", sa.String(length=36), nullable=False),
        sa.Column("evse_id", sa.Integer(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("id_token", sa.String(length=255), nullable=True),
        sa.Column("id_token_type", sa.String(length=32), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("energy_wh", sa.BigInteger(), nullable=False),
        sa.Column("duration_s", sa.BigInteger(), nullable=False),
        sa.Column(
            "tariff",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="The tariff as applied",
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("energy_cost", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("time_cost", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("session_cost", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("total_excl_tax", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("tax", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("total_incl_tax", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cdr_id", name=op.f("pk_cdrs")),
        sa.UniqueConstraint("transaction_id", name=op.f("uq_cdrs_transaction_id")),
        schema="billing",
    )
    op.create_index(
        op.f("ix_billing_cdrs_ended_at"), "cdrs", ["ended_at"], unique=False, schema="billing"
    )
    op.create_index(
        "ix_cdrs_station_id_ended_at",
        "cdrs",
        ["station_id", "ended_at"],
        unique=False,
        schema="billing",
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
        schema="billing",
    )
    op.create_table(
        "tariffs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tariff_id", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("price_per_kwh", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("price_per_minute", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("price_per_session", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("tax_rate", sa.Numeric(precision=7, scale=6), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tariffs")),
        sa.UniqueConstraint(
            "tariff_id", "valid_from", name=op.f("uq_tariffs_tariff_id_valid_from")
        ),
        schema="billing",
    )


def downgrade() -> None:
    op.drop_table("tariffs", schema="billing")
    op.drop_table("outbox", schema="billing")
    op.drop_index("ix_cdrs_station_id_ended_at", table_name="cdrs", schema="billing")
    op.drop_index(op.f("ix_billing_cdrs_ended_at"), table_name="cdrs", schema="billing")
    op.drop_table("cdrs", schema="billing")
