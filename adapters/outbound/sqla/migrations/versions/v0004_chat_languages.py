"""The language each chat reads (a person's choice or Telegram's language_code, a
channel's for its posts).

Revision ID: 0004
Revises: 0003
Created: 2026-12-09

A new table and nothing else: older processes never read it, and a chat with no row
reads English, as every chat did before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "chat_languages",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("chosen", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name="pk_chat_languages"),
    )


def downgrade() -> None:
    op.drop_table("chat_languages")
