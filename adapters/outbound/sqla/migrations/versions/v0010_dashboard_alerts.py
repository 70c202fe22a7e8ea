"""The dashboard's recent alerts, and the indexes its Payments section searches by.

Revision ID: 0010
Revises: 0009
Created: 2026-12-07

A new table and two indexes: older processes read none of them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "dashboard_alerts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("severity", sa.String(32), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dashboard_alerts"),
    )
    op.create_index("ix_dashboard_alerts_at", "dashboard_alerts", ["at"])
    op.create_index("ix_dashboard_alerts_channel_id_at", "dashboard_alerts", ["channel_id", "at"])
    op.create_index("ix_payment_intents_invoice_id", "payment_intents", ["invoice_id"])
    op.create_index("ix_payment_events_payment_id", "payment_events", ["payment_id"])


def downgrade() -> None:
    op.drop_index("ix_payment_events_payment_id", table_name="payment_events")
    op.drop_index("ix_payment_intents_invoice_id", table_name="payment_intents")
    op.drop_index("ix_dashboard_alerts_channel_id_at", table_name="dashboard_alerts")
    op.drop_index("ix_dashboard_alerts_at", table_name="dashboard_alerts")
    op.drop_table("dashboard_alerts")
