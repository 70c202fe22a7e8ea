"""The dashboard's daily rollup: per channel, UTC day, currency and kind, the amount
and the count of new and renewed subscriptions, donations, refunds and endings, kept
by the write path from now on and filled here from the rows already stored.

Revision ID: 0013
Revises: 0012
Created: 2026-12-07

The backfill adds up what the raw rows say: fulfilled subscription payments (a
payer's first one in a channel as new, later ones as renewed: the rows do not keep
whether a later payment came after a lapse), donations, refunded payments (on the
day of their last change) and subscriptions that expired or were revoked (on their
end day), per channel and over every channel (channel ''). Postgres adds up in
SQL; SQLite stores amounts as exact text, so they are added in Python there (SQLite
databases are small).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None

ALL_CHANNELS = ""
"""The channel of the totals over every channel (core.domain.figures.ALL_CHANNELS)."""

_FIGURES = """
WITH paid AS (
    SELECT channel_id, currency, price, fulfilled_at, updated_at, status, purpose,
           ROW_NUMBER() OVER (
               PARTITION BY user_id, channel_id, purpose ORDER BY fulfilled_at, id
           ) AS nth
    FROM payment_intents
    WHERE fulfilled_at IS NOT NULL
)
SELECT channel_id, {fulfilled_day} AS day, currency,
       CASE WHEN purpose = 'donation' THEN 'donation'
            WHEN nth = 1 THEN 'new' ELSE 'renewed' END AS kind,
       price AS amount
FROM paid
UNION ALL
SELECT channel_id, {updated_day}, currency, 'refund', price
FROM paid WHERE status = 'refunded'
UNION ALL
SELECT channel_id, {expires_day}, '', 'churned', {zero}
FROM subscriptions WHERE status IN ('expired', 'revoked')
"""


def _figures_table() -> sa.TableClause:
    return sa.table(
        "daily_figures",
        sa.column("channel_id"),
        sa.column("day"),
        sa.column("currency"),
        sa.column("kind"),
        sa.column("amount"),
        sa.column("count"),
    )


def upgrade() -> None:
    op.create_table(
        "daily_figures",
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("amount", sa.Numeric().with_variant(sa.Text(), "sqlite"), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "day", "currency", "kind", name="pk_daily_figures"),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        rows = _FIGURES.format(
            fulfilled_day="(fulfilled_at AT TIME ZONE 'UTC')::date",
            updated_day="(updated_at AT TIME ZONE 'UTC')::date",
            expires_day="(expires_at AT TIME ZONE 'UTC')::date",
            zero="0::numeric",
        )
        op.execute(
            "INSERT INTO daily_figures (channel_id, day, currency, kind, amount, count) "  # noqa: S608 (our own fixed text)
            f"SELECT COALESCE(channel_id, ''), day, currency, kind, SUM(amount), COUNT(*) "
            f"FROM ({rows}) AS f "
            "GROUP BY GROUPING SETS ((channel_id, day, currency, kind), (day, currency, kind))"
        )
        return
    rows = _FIGURES.format(
        fulfilled_day="substr(fulfilled_at, 1, 10)",
        updated_day="substr(updated_at, 1, 10)",
        expires_day="substr(expires_at, 1, 10)",
        zero="'0'",
    )
    found = bind.execute(sa.text(rows))
    totals = _added_up(found)
    if totals:
        op.bulk_insert(_figures_table(), totals)


def _added_up(rows: Iterable[Any]) -> list[dict[str, Any]]:
    totals: dict[tuple[str, str, str, str], tuple[Decimal, int]] = {}
    for channel_id, day, currency, kind, amount in rows:
        for channel in (channel_id, ALL_CHANNELS):
            key = (channel, str(day)[:10], currency, kind)
            before = totals.get(key, (Decimal(0), 0))
            totals[key] = (before[0] + Decimal(str(amount)), before[1] + 1)
    return [
        {
            "channel_id": channel_id,
            "day": day,  # SQLite keeps a date as its ISO text
            "currency": currency,
            "kind": kind,
            "amount": str(amount),
            "count": count,
        }
        for (channel_id, day, currency, kind), (amount, count) in sorted(totals.items())
    ]


def downgrade() -> None:
    op.drop_table("daily_figures")
