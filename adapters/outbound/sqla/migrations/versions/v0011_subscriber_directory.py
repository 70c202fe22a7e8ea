"""The dashboard's Subscribers section: the usernames people show the bot, and the
indexes its keyset pages and a subscriber's audit trail are read through.

Revision ID: 0011
Revises: 0010
Created: 2026-12-07

A new table and indexes: older processes read neither. On a large Postgres database
the subscription indexes take a while to build (the table is locked for writes
meanwhile); run the upgrade in a quiet hour.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None

_SUBSCRIPTION_INDEXES = {
    "ix_subscriptions_channel_id_status_expires_at_id": [
        "channel_id",
        "status",
        "expires_at",
        "id",
    ],
    "ix_subscriptions_channel_id_expires_at_id": ["channel_id", "expires_at", "id"],
    "ix_subscriptions_expires_at_id": ["expires_at", "id"],
}


def upgrade() -> None:
    op.create_table(
        "person_names",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("username", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_person_names"),
    )
    op.create_index("ix_person_names_username", "person_names", ["username"])
    for name, columns in _SUBSCRIPTION_INDEXES.items():
        op.create_index(name, "subscriptions", columns)
    op.create_index("ix_audit_events_subject_seq", "audit_events", ["subject", "seq"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_subject_seq", table_name="audit_events")
    for name in reversed(list(_SUBSCRIPTION_INDEXES)):
        op.drop_index(name, table_name="subscriptions")
    op.drop_index("ix_person_names_username", table_name="person_names")
    op.drop_table("person_names")
