"""Telegram Stars: a tier's price in Stars beside its crypto price, and the lookup of
an intent by the provider's payment id (a Stars refund names the charge id).

Revision ID: 0008
Revises: 0007
Created: 2026-12-10

A nullable column and an index: older processes neither read nor write the column,
and a tier without it is sold for crypto only, as every tier was before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("channel_tiers") as batch:
        batch.add_column(sa.Column("stars_price", sa.Integer(), nullable=True))
    op.create_index(
        "ix_payment_intents_provider_payment_id",
        "payment_intents",
        ["provider", "payment_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_payment_intents_provider_payment_id", table_name="payment_intents")
    with op.batch_alter_table("channel_tiers") as batch:
        batch.drop_column("stars_price")
