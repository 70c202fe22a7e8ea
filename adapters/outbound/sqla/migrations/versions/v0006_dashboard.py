"""The owners' dashboard: server-side sessions, and an index for its takings.

Revision ID: 0006
Revises: 0005
Created: 2026-12-12

A new table and an index: older processes read neither.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "dashboard_sessions",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_dashboard_sessions"),
    )
    op.create_index("ix_dashboard_sessions_user_id", "dashboard_sessions", ["user_id"])
    op.create_index(
        "ix_payment_intents_channel_id_fulfilled_at",
        "payment_intents",
        ["channel_id", "fulfilled_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_payment_intents_channel_id_fulfilled_at", table_name="payment_intents")
    op.drop_index("ix_dashboard_sessions_user_id", table_name="dashboard_sessions")
    op.drop_table("dashboard_sessions")
