"""Bundles: the channels a home channel's subscription also opens, and the member
chats each subscription period was granted.

Revision ID: 0016
Revises: 0015
Created: 2026-12-08

Two new tables and nothing else: older processes read neither, and a channel with no
bundle row sells its own closed chat only, as every channel did before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision: str | None = "0015"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "bundle_members",
        sa.Column("home_channel_id", sa.String(32), nullable=False),
        sa.Column("member_channel_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("home_channel_id", "member_channel_id", name="pk_bundle_members"),
    )
    op.create_index("ix_bundle_members_member_channel_id", "bundle_members", ["member_channel_id"])
    op.create_table(
        "bundle_grants",
        sa.Column("subscription_id", sa.String(32), nullable=False),
        sa.Column("period", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subscription_id", "period", "channel_id", name="pk_bundle_grants"),
    )


def downgrade() -> None:
    op.drop_table("bundle_grants")
    op.drop_index("ix_bundle_members_member_channel_id", table_name="bundle_members")
    op.drop_table("bundle_members")
