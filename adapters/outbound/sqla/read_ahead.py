"""On Postgres, what a batch of payment notifications needs (``PaymentLedger.load``)
in one statement: the intents with their channels (and tiers), their payers'
subscriptions, and which of the notifications' events are recorded. Private to the
SQL adapter: a tactic of this store, not a promise of the port."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Collection
from typing import Any, cast

from sqlalchemy import FromClause, Row, and_, bindparam, func, select, true
from sqlalchemy.dialects import postgresql

from adapters.outbound.sqla.arrays import any_of
from adapters.outbound.sqla.channels import TIER_COLUMNS, channel_from_row, tier_from_row
from adapters.outbound.sqla.intents import intent_from_row
from adapters.outbound.sqla.subscriptions import subscription_from_row
from adapters.outbound.sqla.tables import channel_tiers, channels, subscriptions
from adapters.outbound.sqla.tables import payment_events as events
from adapters.outbound.sqla.tables import payment_intents as intents
from adapters.outbound.sqla.transaction import SqlTransaction
from core.domain.channel import Channel
from core.domain.ids import ChannelId, IntentId
from core.domain.payment import EventKey, PaymentIntent
from core.domain.subscription import Subscription
from core.domain.tier import Tier
from core.ports.payment_ledger import Buyer, PaymentBook
from core.ports.security import Cipher


def _labelled(table: FromClause, prefix: str) -> list[Any]:
    return [c.label(f"{prefix}{c.name}") for c in table.c]


_EXPECTED = (
    func.unnest(
        *(
            bindparam(f"expected_{name}", type_=postgresql.ARRAY(events.c[name].type))
            for name in ("provider", "payment_id", "status")
        )
    )
    .table_valued("provider", "payment_id", "status", with_ordinality="n")
    .render_derived(name="expected")
)
_RECORDED = (
    select(func.array_agg(_EXPECTED.c.n))
    .join_from(
        _EXPECTED,
        events,
        and_(
            events.c.provider == _EXPECTED.c.provider,
            events.c.payment_id == _EXPECTED.c.payment_id,
            events.c.status == _EXPECTED.c.status,
        ),
    )
    .scalar_subquery()
    .label("recorded_events")
)
"""Which of the events the unit of work expects to record are recorded already: their
positions (from 1) in the ``expected_*`` arrays."""

_RECORDED_ONLY = select(_RECORDED)
"""The same when no intent is read (every notification names an unknown order)."""

_OWNED = (
    select(subscriptions)
    .where(
        subscriptions.c.user_id == intents.c.user_id,
        subscriptions.c.channel_id == intents.c.channel_id,
    )
    .limit(1)
    .lateral("owned")
)
"""The payer's subscription to the channel, looked up per intent (LATERAL): a plain
join lets the planner pick a hash or merge join over all of ``subscriptions``, which
it then keeps for this prepared statement while the table grows."""

_STATEMENT = (
    select(
        *_labelled(intents, "i_"),
        *_labelled(channels, "c_"),
        *TIER_COLUMNS,
        *_labelled(_OWNED, "s_"),
        _RECORDED,
    )
    .select_from(
        intents.outerjoin(channels, channels.c.id == intents.c.channel_id)
        .outerjoin(channel_tiers, channel_tiers.c.channel_id == channels.c.id)
        .outerjoin(_OWNED, true())
    )
    .where(any_of(intents, "id", "intent_ids"))
    .order_by(intents.c.id, channel_tiers.c.number)
)


class _Part:
    """The columns of one table in a joined row, under their own names, for the
    row functions of that table's repository."""

    __slots__ = ("_mapping",)

    def __init__(self, row: Row[Any], columns: tuple[tuple[str, int], ...]) -> None:
        self._mapping = {name: row[index] for name, index in columns}

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None


@functools.lru_cache(maxsize=16)
def _columns(keys: tuple[str, ...], prefix: str) -> tuple[tuple[str, int], ...]:
    """Where a table's columns are in the joined rows: (own name, position). The keys
    are the same for every read (one statement): worked out once."""
    return tuple(
        (name[len(prefix) :], index) for index, name in enumerate(keys) if name.startswith(prefix)
    )


def _part(row: Row[Any], columns: tuple[tuple[str, int], ...]) -> Row[Any]:
    return cast(Row[Any], _Part(row, columns))


async def read_book(
    tx: SqlTransaction,
    keys: Collection[EventKey],
    intent_ids: Collection[IntentId],
    cipher: Cipher,
) -> PaymentBook:
    expected = list(dict.fromkeys(keys))
    params = {
        "intent_ids": sorted(set(intent_ids)),
        "expected_provider": [key[0] for key in expected],
        "expected_payment_id": [key[1] for key in expected],
        "expected_status": [key[2].value for key in expected],
    }
    rows: list[Row[Any]] = []
    keys_of_rows: tuple[str, ...] = ()
    if intent_ids:
        result = await tx.execute(_STATEMENT, "read intents", params, reads_only=True)
        keys_of_rows = tuple(result.keys())
        rows = list(result.all())
    if rows:
        positions = rows[0].recorded_events or ()
    elif expected:
        del params["intent_ids"]
        found = await tx.execute(_RECORDED_ONLY, "read payment events", params, reads_only=True)
        positions = found.scalar_one() or ()
    else:
        positions = ()
    recorded = frozenset(expected[n - 1] for n in positions)
    intents, channels, subscriptions = _book_rows(rows, keys_of_rows, cipher)
    return PaymentBook(recorded, intents, channels, subscriptions)


def _book_rows(
    rows: list[Row[Any]], keys: tuple[str, ...], cipher: Cipher
) -> tuple[dict[IntentId, PaymentIntent], dict[ChannelId, Channel], dict[Buyer, Subscription]]:
    intent_columns, channel_columns = _columns(keys, "i_"), _columns(keys, "c_")
    subscription_columns = _columns(keys, "s_")
    found: dict[IntentId, PaymentIntent] = {}
    owned: dict[Buyer, Subscription] = {}
    channel_rows: dict[ChannelId, Row[Any]] = {}
    tiers_from: dict[ChannelId, IntentId] = {}
    """The intent whose rows carry a channel's tiers (every intent's rows repeat them)."""
    tiers: defaultdict[ChannelId, list[Tier]] = defaultdict(list)
    for row in rows:  # by intent, then by tier
        intent_id = IntentId(row.i_id)
        if intent_id not in found:
            intent = found[intent_id] = intent_from_row(_part(row, intent_columns))
            if row.s_id is not None:
                owned[(intent.user_id, intent.channel_id)] = subscription_from_row(
                    _part(row, subscription_columns)
                )
            if row.c_id is not None and ChannelId(row.c_id) not in channel_rows:
                channel_rows[ChannelId(row.c_id)] = row
                tiers_from[ChannelId(row.c_id)] = intent_id
        if row.tier_number is not None and tiers_from.get(ChannelId(row.c_id)) == intent_id:
            tiers[ChannelId(row.c_id)].append(tier_from_row(row))
    channels: dict[ChannelId, Channel] = {
        cid: channel_from_row(_part(r, channel_columns), tiers[cid], cipher)
        for cid, r in channel_rows.items()
    }
    return found, channels, owned
