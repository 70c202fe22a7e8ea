"""Coupons and access codes (issue 21): the owners' codes and who redeemed which.

Revision ID: 0015
Revises: 0014
Created: 2026-12-08

Two new tables; nothing existing changes, so older processes run on beside them.
Column types are spelled out here rather than imported from the models, so this
revision keeps creating the same tables whatever the models become.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision: str | None = "0014"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    amount = sa.Numeric().with_variant(sa.Text(), "sqlite")
    op.create_table(
        "coupons",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("percent", sa.SmallInteger(), nullable=True),
        sa.Column("amount", amount, nullable=True),
        sa.Column("currency", sa.String(16), nullable=True),
        sa.Column("days", sa.Integer(), nullable=True),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tier", sa.SmallInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_coupons"),
        sa.UniqueConstraint("code", name="uq_coupons_code"),
    )
    op.create_index("ix_coupons_owner_id", "coupons", ["owner_id"])
    op.create_table(
        "coupon_redemptions",
        sa.Column("coupon_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("intent_id", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("coupon_id", "user_id", name="pk_coupon_redemptions"),
    )
    op.create_index("ix_coupon_redemptions_user_id", "coupon_redemptions", ["user_id"])


def downgrade() -> None:
    # Codes and who redeemed them go; payments made at a discount keep their prices.
    op.drop_index("ix_coupon_redemptions_user_id", "coupon_redemptions")
    op.drop_table("coupon_redemptions")
    op.drop_index("ix_coupons_owner_id", "coupons")
    op.drop_table("coupons")
