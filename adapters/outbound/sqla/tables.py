"""The schema, as SQLAlchemy Core tables (the domain classes are never mapped).

Idempotency lives here, in unique constraints the database enforces across
processes: one event per (provider, payment, status), one grant per subscription
period, one outbox row per key, one donation per intent, one subscription per
(user, channel), each chat in at most one channel pair, and at most one open
subscription intent per (user, channel, tier).

Cross-aggregate references are plain columns, not foreign keys: the repositories
must behave like the in-memory ones, where storing one aggregate never depends on
another. Tiers and chats belong to their channel and cascade with it.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from adapters.outbound.sqla.columns import Amount, UtcDateTime

ID = String(32)
"""Our ids: 1-32 ASCII letters and digits (IdGenerator port)."""
CURRENCY = String(16)
STATUS = String(32)
SEQUENCE = BigInteger().with_variant(Integer, "sqlite")
"""An autoincrement key (on SQLite only INTEGER is the rowid alias that increments)."""

# A naming convention makes constraint names stable across dialects, so migrations
# can drop them by name and autogenerate compares like with like.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

channels = Table(
    "channels",
    metadata,
    Column("id", ID, primary_key=True),
    Column("owner_id", BigInteger, nullable=False, index=True),
    Column("open_chat_id", BigInteger, nullable=False),
    Column("closed_chat_id", BigInteger, nullable=False),
    Column("title", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("donation_min", Amount, nullable=True),
    Column("donation_max", Amount, nullable=True),
    Column("donation_currency", CURRENCY, nullable=True),
    Column("payout_wallet", LargeBinary, nullable=True),  # Cipher token, never plaintext
    Column("sales_paused", Boolean, nullable=False),
    Column("pause_reason", Text, nullable=True),
    Column("tiers_version", Integer, nullable=False),
    Column("offer_message_id", BigInteger, nullable=True),
    Column("offer_posted_at", UtcDateTime, nullable=True),
    Column("offer_tiers_version", Integer, nullable=True),
    Column("donate_message_id", BigInteger, nullable=True),
    Column("donate_posted_at", UtcDateTime, nullable=True),
    Column("donate_tiers_version", Integer, nullable=True),
    Column("trial_days", Integer, nullable=True),
    Column("trial_price", Amount, nullable=True),
    Column("trial_currency", CURRENCY, nullable=True),
    Column("stars_link_url", String(255), nullable=True),
    Column("stars_link_stars", Integer, nullable=True),
)

channel_chats = Table(
    "channel_chats",
    metadata,
    # One row per chat of a pair: the primary key refuses a chat that is already the
    # open or the closed chat of any channel, whichever role it had there.
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column(
        "channel_id", ID, ForeignKey("channels.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("role", String(8), nullable=False),
)

channel_tiers = Table(
    "channel_tiers",
    metadata,
    Column("channel_id", ID, ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("price", Amount, nullable=False),
    Column("currency", CURRENCY, nullable=False),
    Column("duration_days", Integer, nullable=False),
    Column("stars_price", Integer, nullable=True),
    Column("kind", String(8), nullable=False, server_default="days"),
    Column("ends_on", Date, nullable=True),
    Column("stars_renews", Boolean, nullable=False, server_default=false()),
)

payment_intents = Table(
    "payment_intents",
    metadata,
    Column("id", ID, primary_key=True),
    Column("purpose", STATUS, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("channel_id", ID, nullable=False),
    Column("price", Amount, nullable=False),
    Column("currency", CURRENCY, nullable=False),
    Column("provider", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("tier", Integer, nullable=True),
    Column("duration_days", Integer, nullable=True),
    Column("status", STATUS, nullable=False),
    Column("status_rank", Integer, nullable=False),
    Column("invoice_id", Text, nullable=True),
    Column("invoice_url", Text, nullable=True),
    Column("payment_id", Text, nullable=True),
    Column("fulfilled_at", UtcDateTime, nullable=True),
    Column("paid_amount", Amount, nullable=True),
    Column("paid_currency", CURRENCY, nullable=True),
    Column("ends_at", UtcDateTime, nullable=True),
    Index("ix_payment_intents_user_id_channel_id", "user_id", "channel_id"),
    Index("ix_payment_intents_status_rank_created_at", "status_rank", "created_at"),
    Index("ix_payment_intents_provider_payment_id", "provider", "payment_id"),
)

OPEN_SUBSCRIPTION_INTENT = text("purpose = 'subscription' AND status IN ('created', 'waiting')")

# Two racing checkouts cannot both create an open intent for the same thing: the
# second insert fails on this partial index (SQLite and Postgres both have them).
Index(
    "uq_payment_intents_one_open",
    payment_intents.c.user_id,
    payment_intents.c.channel_id,
    payment_intents.c.tier,
    unique=True,
    sqlite_where=OPEN_SUBSCRIPTION_INTENT,
    postgresql_where=OPEN_SUBSCRIPTION_INTENT,
)

INTENT_PROGRESS = (
    "status",
    "status_rank",
    "updated_at",
    "payment_id",
    "fulfilled_at",
    "paid_amount",
    "paid_currency",
)
"""The columns of a payment intent that a notification moves (its compare-and-set)."""

payment_events = Table(
    "payment_events",
    metadata,
    Column("id", SEQUENCE, primary_key=True, autoincrement=True),
    Column("provider", String(64), nullable=False),
    Column("payment_id", Text, nullable=False),
    Column("status", STATUS, nullable=False),
    Column("order_id", Text, nullable=False),
    Column("intent_id", ID, nullable=True, index=True),
    Column("received_at", UtcDateTime, nullable=False),
    Column("outcome", STATUS, nullable=False),
    Column("price", Amount, nullable=False),
    Column("price_currency", CURRENCY, nullable=False),
    Column("paid_amount", Amount, nullable=True),
    Column("paid_currency", CURRENCY, nullable=True),
    Column("parent_payment_id", Text, nullable=True),
    UniqueConstraint("provider", "payment_id", "status"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("user_id", BigInteger, nullable=False),
    Column("channel_id", ID, nullable=False, index=True),
    Column("tier", Integer, nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("status", STATUS, nullable=False),
    Column("period", Integer, nullable=False),
    Column("reminders_sent", Text, nullable=False),  # JSON list of lead hours
    Column("version", Integer, nullable=False),  # optimistic lock
    UniqueConstraint("user_id", "channel_id"),
    # Keyset pages of the expiry and reminder sweeps (and of the dashboard's
    # subscribers by status across every channel).
    Index("ix_subscriptions_status_expires_at_id", "status", "expires_at", "id"),
    # Keyset pages of the dashboard's subscribers: of a channel, by status or not, and
    # of every channel (an operator).
    Index(
        "ix_subscriptions_channel_id_status_expires_at_id",
        "channel_id",
        "status",
        "expires_at",
        "id",
    ),
    Index("ix_subscriptions_channel_id_expires_at_id", "channel_id", "expires_at", "id"),
    Index("ix_subscriptions_expires_at_id", "expires_at", "id"),
)

access_grants = Table(
    "access_grants",
    metadata,
    Column("id", ID, primary_key=True),
    Column("subscription_id", ID, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("channel_id", ID, nullable=False),
    Column("period", Integer, nullable=False),
    Column("mode", STATUS, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("status", STATUS, nullable=False),
    Column("invite_link", Text, nullable=True),
    Column("link_expires_at", UtcDateTime, nullable=True),
    UniqueConstraint("subscription_id", "period"),
)

donations = Table(
    "donations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("intent_id", ID, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("channel_id", ID, nullable=False, index=True),
    Column("amount", Amount, nullable=False),
    Column("currency", CURRENCY, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    UniqueConstraint("intent_id"),
)

audit_events = Table(
    "audit_events",
    metadata,
    # The primary key on seq is the last line of defence against a forked chain.
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("details", Text, nullable=False),  # JSON object of strings
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # A subscriber's trail on the dashboard: the events about their things, newest first.
    Index("ix_audit_events_subject_seq", "subject", "seq"),
)

audit_head = Table(
    "audit_head",
    metadata,
    # One row (id 1): the chain's last seq and hash. On Postgres, appenders take
    # turns by updating it (its row lock), which reads the newest committed tail in
    # the same statement; SQLite (one writer at a time) reads the tail itself.
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    # A sequence, not a random id: messages due at the same moment go out in the
    # order they were queued.
    Column("id", SEQUENCE, primary_key=True, autoincrement=True),
    Column("key", Text, nullable=False),
    Column("kind", STATUS, nullable=False),
    Column("payload", Text, nullable=False),  # JSON, see core.domain.outbox
    Column("created_at", UtcDateTime, nullable=False),
    Column("available_at", UtcDateTime, nullable=False),
    Column("status", STATUS, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    UniqueConstraint("key"),
    Index("ix_outbox_status_available_at_id", "status", "available_at", "id"),
)

conversations = Table(
    "conversations",
    metadata,
    # One row per person: a person is in at most one bot conversation at a time.
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("step", String(64), nullable=False),
    Column("fields", Text, nullable=False),  # JSON object of ints and strings
    Column("version", String(32), nullable=False),  # compare-and-set between processes
    Column("expires_at", UtcDateTime, nullable=False, index=True),  # the timeout sweep
)

chat_languages = Table(
    "chat_languages",
    metadata,
    # A person's private chat (chat id = user id) or a channel's chat.
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("language", String(8), nullable=False),
    Column("chosen", Boolean, nullable=False),  # a choice outlives Telegram's language_code
)

person_names = Table(
    "person_names",
    metadata,
    # The Telegram username each person last showed the bot (folded: no @, lower
    # case), for finding subscribers by it; erased with the person's data.
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("username", String(32), nullable=False, index=True),
)

stars_renewals = Table(
    "stars_renewals",
    metadata,
    # A Telegram Stars subscription that renews itself, named by its first charge.
    Column("charge_id", String(128), primary_key=True),
    Column("user_id", BigInteger, nullable=False),
    Column("channel_id", ID, ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
    Column("tier", Integer, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("canceled_at", UtcDateTime, nullable=True),
    Index("ix_stars_renewals_user_id_channel_id", "user_id", "channel_id"),
)

seller_requests = Table(
    "seller_requests",
    metadata,
    # One row per person who asked to sell here; the operators decide it once.
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(256), nullable=False),
    Column("asked_at", UtcDateTime, nullable=False),
    Column("status", STATUS, nullable=False),
    Column("decided_by", BigInteger, nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
)

# --- owners' dashboard (issue 20)
dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("key", String(64), primary_key=True),  # SHA-256 of the cookie's token
    Column("user_id", BigInteger, nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)
# The overview's takings: a channel's fulfilled payments by time, from this index.
Index(
    "ix_payment_intents_channel_id_fulfilled_at",
    payment_intents.c.channel_id,
    payment_intents.c.fulfilled_at,
)
# --- end owners' dashboard

channel_wordings = Table(
    "channel_wordings",
    metadata,
    # An owner's own text for one kind of message of one channel in one language: the
    # published one subscribers read, and a draft the owner previews before that.
    Column("channel_id", ID, primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("language", String(8), primary_key=True),
    Column("text", Text, nullable=True),
    Column("author", BigInteger, nullable=True),
    Column("draft", Text, nullable=True),
    Column("draft_author", BigInteger, nullable=True),
    Column("failed", Boolean, nullable=False),  # its author was told it could not be used
)

# --- dashboard alerts (issue 20): the recent alerts, for the dashboard's Alerts section.
dashboard_alerts = Table(
    "dashboard_alerts",
    metadata,
    Column("id", SEQUENCE, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False, index=True),  # pruned by age
    Column("severity", STATUS, nullable=False),
    Column("title", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("channel_id", ID, nullable=True),
    Column("details", Text, nullable=False),  # JSON object of strings
    Index("ix_dashboard_alerts_channel_id_at", "channel_id", "at"),
)
# --- bundles (issue 21)
bundle_members = Table(
    "bundle_members",
    metadata,
    # A home channel's subscription also opens each member's closed chat.
    Column("home_channel_id", ID, primary_key=True),
    Column("member_channel_id", ID, primary_key=True),
    Column("position", Integer, nullable=False),  # the order members were added in
    Column("added_at", UtcDateTime, nullable=False),
    Index("ix_bundle_members_member_channel_id", "member_channel_id"),
)

bundle_grants = Table(
    "bundle_grants",
    metadata,
    # One grant of a member chat per subscription period: each chat is granted once.
    Column("subscription_id", ID, primary_key=True),
    Column("period", Integer, primary_key=True, autoincrement=False),
    Column("channel_id", ID, primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
)
# --- end bundles

# The Payments section finds a payment by its invoice or the provider's payment id.
Index("ix_payment_intents_invoice_id", payment_intents.c.invoice_id)
Index("ix_payment_events_payment_id", payment_events.c.payment_id)
# --- end dashboard alerts
# --- the HTTP API (issue 20)
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", ID, primary_key=True),
    Column("digest", String(64), nullable=False, unique=True),  # SHA-256 of the token
    Column("user_id", BigInteger, nullable=False, index=True),
    Column("name", String(64), nullable=False),
    Column("scope", String(8), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
)
# --- end the HTTP API
daily_figures = Table(
    "daily_figures",
    metadata,
    # The dashboard's rollup, kept by the write path in the unit of work that changes
    # what it counts (see core.domain.figures); read instead of the raw rows.
    Column("channel_id", ID, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("currency", CURRENCY, primary_key=True),
    Column("kind", STATUS, primary_key=True),
    Column("amount", Amount, nullable=False),
    Column("count", BigInteger, nullable=False),
    # Every read names its channels (the totals' channel for the operator): the primary
    # key's (channel_id, day, ...) order serves them all, no other index is needed.
)
# --- coupons and access codes (issue 21)
coupons = Table(
    "coupons",
    metadata,
    Column("id", ID, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),  # capitals; one per deployment
    Column("owner_id", BigInteger, nullable=False, index=True),
    Column("channel_id", ID, nullable=True),  # None: every channel of the owner
    Column("kind", String(16), nullable=False),
    Column("percent", SmallInteger, nullable=True),
    Column("amount", Amount, nullable=True),
    Column("currency", CURRENCY, nullable=True),
    Column("days", Integer, nullable=True),
    Column("max_uses", Integer, nullable=True),
    Column("used", Integer, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("tier", SmallInteger, nullable=True),  # None: every tier
)
coupon_redemptions = Table(
    "coupon_redemptions",
    metadata,
    # One per person and coupon: the primary key is the per-person-once rule.
    Column("coupon_id", ID, primary_key=True),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False, index=True),
    Column("redeemed_at", UtcDateTime, nullable=False),
    Column("intent_id", ID, nullable=True),
)
# --- end coupons

trials = Table(
    "trials",
    metadata,
    # One row per person and channel, ever: the primary key is the rule "once".
    Column("channel_id", ID, ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("taken_at", UtcDateTime, nullable=False),
)

DATA_TABLES = (
    channels,
    channel_chats,
    channel_tiers,
    payment_intents,
    payment_events,
    subscriptions,
    access_grants,
    donations,
    audit_events,
    audit_head,
    outbox,
    conversations,
    chat_languages,
    person_names,
    seller_requests,
    dashboard_sessions,
    channel_wordings,
    dashboard_alerts,
    api_tokens,
    stars_renewals,
    daily_figures,
    trials,
    coupons,
    coupon_redemptions,
    bundle_members,
    bundle_grants,
)
"""Every table that holds data (tests empty them between cases)."""
