"""The whole schema: channels, intents, events, subscriptions, grants, donations,
audit log and outbox.

Revision ID: 0001
Revises:
Created: 2026-11-23

Column types are spelled out here rather than imported from the models, so this
revision keeps creating the same schema whatever the models become.
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

ID = sa.String(32)
CURRENCY = sa.String(16)
STATUS = sa.String(32)


def utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def amount() -> sa.types.TypeEngine[Decimal]:
    # Exact decimals: numeric on Postgres, the decimal's text on SQLite (whose
    # NUMERIC affinity would store floats).
    return sa.Numeric().with_variant(sa.Text(), "sqlite")


def sequence() -> sa.types.TypeEngine[int]:
    # SQLite increments only an INTEGER primary key (its rowid).
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


OPEN_SUBSCRIPTION_INTENT = "purpose = 'subscription' AND status IN ('created', 'waiting')"


def upgrade() -> None:
    op.create_table(
        "channels",
        sa.Column("id", ID, nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("open_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("closed_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(128), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("donation_min", amount(), nullable=True),
        sa.Column("donation_max", amount(), nullable=True),
        sa.Column("donation_currency", CURRENCY, nullable=True),
        sa.Column("payout_wallet", sa.LargeBinary(), nullable=True),
        sa.Column("sales_paused", sa.Boolean(), nullable=False),
        sa.Column("pause_reason", sa.Text(), nullable=True),
        sa.Column("tiers_version", sa.Integer(), nullable=False),
        sa.Column("offer_message_id", sa.BigInteger(), nullable=True),
        sa.Column("offer_posted_at", utc(), nullable=True),
        sa.Column("offer_tiers_version", sa.Integer(), nullable=True),
        sa.Column("donate_message_id", sa.BigInteger(), nullable=True),
        sa.Column("donate_posted_at", utc(), nullable=True),
        sa.Column("donate_tiers_version", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_channels"),
    )
    op.create_index("ix_channels_owner_id", "channels", ["owner_id"])

    op.create_table(
        "channel_chats",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name="fk_channel_chats_channel_id_channels",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chat_id", name="pk_channel_chats"),
    )
    op.create_index("ix_channel_chats_channel_id", "channel_chats", ["channel_id"])

    op.create_table(
        "channel_tiers",
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("price", amount(), nullable=False),
        sa.Column("currency", CURRENCY, nullable=False),
        sa.Column("duration_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name="fk_channel_tiers_channel_id_channels",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_id", "number", name="pk_channel_tiers"),
    )

    op.create_table(
        "payment_intents",
        sa.Column("id", ID, nullable=False),
        sa.Column("purpose", STATUS, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("price", amount(), nullable=False),
        sa.Column("currency", CURRENCY, nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("updated_at", utc(), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=True),
        sa.Column("duration_days", sa.Integer(), nullable=True),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("status_rank", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Text(), nullable=True),
        sa.Column("invoice_url", sa.Text(), nullable=True),
        sa.Column("payment_id", sa.Text(), nullable=True),
        sa.Column("fulfilled_at", utc(), nullable=True),
        sa.Column("paid_amount", amount(), nullable=True),
        sa.Column("paid_currency", CURRENCY, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_payment_intents"),
    )
    op.create_index(
        "ix_payment_intents_user_id_channel_id", "payment_intents", ["user_id", "channel_id"]
    )
    op.create_index(
        "ix_payment_intents_status_rank_created_at",
        "payment_intents",
        ["status_rank", "created_at"],
    )
    op.create_index(
        "uq_payment_intents_one_open",
        "payment_intents",
        ["user_id", "channel_id", "tier"],
        unique=True,
        sqlite_where=sa.text(OPEN_SUBSCRIPTION_INTENT),
        postgresql_where=sa.text(OPEN_SUBSCRIPTION_INTENT),
    )

    op.create_table(
        "payment_events",
        sa.Column("id", sequence(), autoincrement=True, nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("payment_id", sa.Text(), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("intent_id", ID, nullable=True),
        sa.Column("received_at", utc(), nullable=False),
        sa.Column("outcome", STATUS, nullable=False),
        sa.Column("price", amount(), nullable=False),
        sa.Column("price_currency", CURRENCY, nullable=False),
        sa.Column("paid_amount", amount(), nullable=True),
        sa.Column("paid_currency", CURRENCY, nullable=True),
        sa.Column("parent_payment_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_payment_events"),
        sa.UniqueConstraint(
            "provider",
            "payment_id",
            "status",
            name="uq_payment_events_provider_payment_id_status",
        ),
    )
    op.create_index("ix_payment_events_intent_id", "payment_events", ["intent_id"])

    op.create_table(
        "subscriptions",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("starts_at", utc(), nullable=False),
        sa.Column("expires_at", utc(), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("reminders_sent", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
        sa.UniqueConstraint("user_id", "channel_id", name="uq_subscriptions_user_id_channel_id"),
    )
    op.create_index("ix_subscriptions_channel_id", "subscriptions", ["channel_id"])
    op.create_index(
        "ix_subscriptions_status_expires_at_id", "subscriptions", ["status", "expires_at", "id"]
    )

    op.create_table(
        "access_grants",
        sa.Column("id", ID, nullable=False),
        sa.Column("subscription_id", ID, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("mode", STATUS, nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("invite_link", sa.Text(), nullable=True),
        sa.Column("link_expires_at", utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_access_grants"),
        sa.UniqueConstraint(
            "subscription_id", "period", name="uq_access_grants_subscription_id_period"
        ),
    )

    op.create_table(
        "donations",
        sa.Column("id", ID, nullable=False),
        sa.Column("intent_id", ID, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("amount", amount(), nullable=False),
        sa.Column("currency", CURRENCY, nullable=False),
        sa.Column("received_at", utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_donations"),
        sa.UniqueConstraint("intent_id", name="uq_donations_intent_id"),
    )
    op.create_index("ix_donations_channel_id", "donations", ["channel_id"])

    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", utc(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_events"),
    )

    op.create_table(
        "outbox",
        sa.Column("id", sequence(), autoincrement=True, nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("kind", STATUS, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("available_at", utc(), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("key", name="uq_outbox_key"),
    )
    op.create_index("ix_outbox_status_available_at_id", "outbox", ["status", "available_at", "id"])


def downgrade() -> None:
    # Dropping a table drops its indexes and constraints with it; children first.
    for table in (
        "outbox",
        "audit_events",
        "donations",
        "access_grants",
        "subscriptions",
        "payment_events",
        "payment_intents",
        "channel_tiers",
        "channel_chats",
        "channels",
    ):
        op.drop_table(table)
