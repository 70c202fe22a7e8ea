"""Owners' own wording per channel, kind of message and language (published text and
a draft being previewed).

Revision ID: 0007
Revises: 0006
Created: 2026-12-10

A new table and nothing else: older processes never read it, and a channel with no
row reads the catalog's words, as every channel did before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "channel_wordings",
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("author", sa.BigInteger(), nullable=True),
        sa.Column("draft", sa.Text(), nullable=True),
        sa.Column("draft_author", sa.BigInteger(), nullable=True),
        sa.Column("failed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "kind", "language", name="pk_channel_wordings"),
    )


def downgrade() -> None:
    op.drop_table("channel_wordings")
