"""Telegram Stars subscriptions that renew themselves: a tier's switch, and one row
per subscription (its first charge id, who, which channel and tier, whether its
renewal was canceled).

Revision ID: 0012
Revises: 0011
Created: 2026-12-08

A column with a default (false: a tier sold as before) and a new table: older
processes neither read nor write either.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("channel_tiers") as batch:
        batch.add_column(
            sa.Column("stars_renews", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "stars_renewals",
        sa.Column("charge_id", sa.String(128), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "channel_id",
            sa.String(32),
            sa.ForeignKey("channels.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("canceled_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_stars_renewals_user_id_channel_id", "stars_renewals", ["user_id", "channel_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_stars_renewals_user_id_channel_id", table_name="stars_renewals")
    op.drop_table("stars_renewals")
    with op.batch_alter_table("channel_tiers") as batch:
        batch.drop_column("stars_renews")
