"""Plans (issue 21): lifetime and season tiers, and trials.

Revision ID: 0014
Revises: 0013
Created: 2026-12-08

A tier's kind (``days``, ``lifetime``, ``until``) and a season's last day; the fixed
end an intent for such a tier buys; a channel's trial (days, and a price when it is
not free); and one row per person who took a channel's trial, kept for good (it is
what refuses a second trial after the person left and came back).

Every new column is nullable or has a default, so older processes, which neither
read nor write them, keep selling the tiers they know (all of kind ``days``).
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision: str | None = "0013"
branch_labels: str | None = None
depends_on: str | None = None


def amount() -> sa.types.TypeEngine[Decimal]:
    return sa.Numeric().with_variant(sa.Text(), "sqlite")


def upgrade() -> None:
    # Plain ALTER TABLE (SQLite has ADD and DROP COLUMN since 3.35): a batch would
    # copy ``channels`` into a new table, and dropping the old one deletes, through
    # the foreign keys, every row that points at it.
    op.add_column(
        "channel_tiers", sa.Column("kind", sa.String(8), nullable=False, server_default="days")
    )
    op.add_column("channel_tiers", sa.Column("ends_on", sa.Date(), nullable=True))
    op.add_column("payment_intents", sa.Column("ends_at", sa.DateTime(timezone=True)))
    op.add_column("channels", sa.Column("trial_days", sa.Integer(), nullable=True))
    op.add_column("channels", sa.Column("trial_price", amount(), nullable=True))
    op.add_column("channels", sa.Column("trial_currency", sa.String(16), nullable=True))
    op.create_table(
        "trials",
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name="fk_trials_channel_id_channels",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_id", "user_id", name="pk_trials"),
    )


def downgrade() -> None:
    op.drop_table("trials")
    for table, column in (
        ("channels", "trial_currency"),
        ("channels", "trial_price"),
        ("channels", "trial_days"),
        ("payment_intents", "ends_at"),
        ("channel_tiers", "ends_on"),
        ("channel_tiers", "kind"),
    ):
        op.drop_column(table, column)
