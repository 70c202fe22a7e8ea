"""A channel's Telegram Stars subscription link (issue 21).

Revision ID: 0017
Revises: 0016
Created: 2026-12-08

Two nullable columns: the link Telegram made for the closed channel and its price in
Stars. Older processes read neither and sell through the checkout as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision: str | None = "0016"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("channels", sa.Column("stars_link_url", sa.String(255), nullable=True))
    op.add_column("channels", sa.Column("stars_link_stars", sa.Integer(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (as 0014 does): a batch copy of ``channels`` would cascade
    # the delete of the old table to its tiers on SQLite.
    op.drop_column("channels", "stars_link_stars")
    op.drop_column("channels", "stars_link_url")
