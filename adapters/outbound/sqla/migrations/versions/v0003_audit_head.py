"""The audit chain's head: one row with the last seq and hash.

Revision ID: 0003
Revises: 0002
Created: 2026-11-23

On Postgres appenders used to take turns with an advisory lock and then read the
tail (two round trips inside the turn). Updating this row takes the turn and reads
the newest committed head in one statement; the new head is written with the
events. Seeded from the events already stored.

Deploying it: stop every process that appends audit events before starting the
new ones (``paygate db upgrade`` first, then restart): an older process appending
beside a newer one would chain past a head it does not move, and the newer ones'
appends would then be refused (the primary key on ``seq``) until the head is set
right again by running this revision's seeding statement.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

GENESIS_HASH = "0" * 64

SEED = sa.text(
    "INSERT INTO audit_head (id, seq, hash) "
    "SELECT 1, COALESCE(MAX(seq), 0), COALESCE("
    "(SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1), :genesis) "
    "FROM audit_events"
).bindparams(genesis=GENESIS_HASH)


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    op.execute(SEED)


def downgrade() -> None:
    # The events keep the chain; the head is only where appenders take turns.
    op.drop_table("audit_head")
