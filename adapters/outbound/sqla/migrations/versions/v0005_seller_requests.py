"""Requests to sell here, decided by the deployment's operators in the bot
(``PAYGATE_SELLERS=approval``).

Revision ID: 0005
Revises: 0004
Created: 2026-12-07

Column types are spelled out here rather than imported from the models, so this
revision keeps creating the same table whatever the models become.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "seller_requests",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="pk_seller_requests"),
    )


def downgrade() -> None:
    # Approved sellers keep the channels they registered; anyone approved but not on
    # PAYGATE_SELLERS asks again before registering another.
    op.drop_table("seller_requests")
