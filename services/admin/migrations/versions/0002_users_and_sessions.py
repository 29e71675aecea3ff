"""web UI users and sessions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 01:50:21.405715
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ui_sessions",
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_ui_sessions")),
        schema="admin",
    )
    op.create_index(
        op.f("ix_admin_ui_sessions_expires_at"),
        "ui_sessions",
        ["expires_at"],
        unique=False,
        schema="admin",
    )
    op.create_index(
        op.f("ix_admin_ui_sessions_user_id"),
        "ui_sessions",
        ["user_id"],
        unique=False,
        schema="admin",
    )
    op.create_table(
        "users",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
        schema="admin",
    )


def downgrade() -> None:
    op.drop_table("users", schema="admin")
    op.drop_index(op.f("ix_admin_ui_sessions_user_id"), table_name="ui_sessions", schema="admin")
    op.drop_index(op.f("ix_admin_ui_sessions_expires_at"), table_name="ui_sessions", schema="admin")
    op.drop_table("ui_sessions", schema="admin")
