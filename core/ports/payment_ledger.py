"""The payment path's port: what a batch of provider notifications needs to be judged,
and what judging it changes.

The core says *what*: :meth:`PaymentLedger.load` answers everything a batch needs in
one call, and :meth:`PaymentLedger.save` writes everything it changes in one call,
each change with the state it was judged on (an event key not yet recorded, an
intent's status, a subscription's version, a period with no grant, an intent with no
donation). The adapter decides *how* (one read and one self-checking write, a
transaction, dicts); a lost race is ``Conflict``, and the caller rolls back and
judges again from fresh state.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Protocol

import attrs

from core.domain.audit import AuditRecord
from core.domain.channel import Channel
from core.domain.donation import Donation
from core.domain.figures import DailyFigure
from core.domain.grant import AccessGrant
from core.domain.ids import ChannelId, IntentId, UserId
from core.domain.intent_state import IntentStatus
from core.domain.outbox import Effect
from core.domain.payment import EventKey, PaymentEvent, PaymentIntent
from core.domain.subscription import Subscription
from core.ports.errors import Conflict

__all__ = ["Buyer", "Conflict", "PaymentBook", "PaymentChanges", "PaymentLedger"]

Buyer = tuple[UserId, ChannelId]
"""Who pays for what: a user and a channel (one subscription each)."""


@attrs.frozen
class PaymentBook:
    """What a batch of notifications is judged on, as read in one unit of work. The
    entities are this unit of work's own copies."""

    recorded: frozenset[EventKey]
    """Those of the asked event keys recorded before."""
    intents: Mapping[IntentId, PaymentIntent]
    """The asked intents that exist, by id."""
    channels: Mapping[ChannelId, Channel]
    """The channels of those intents (a channel that is gone is left out)."""
    subscriptions: Mapping[Buyer, Subscription]
    """The subscriptions of those intents' (user, channel) pairs that exist."""


def _tuple(values: Collection[object]) -> tuple[object, ...]:
    return tuple(values)


@attrs.frozen
class PaymentChanges:
    """Everything one batch writes, each with what it expects of the store."""

    events: tuple[PaymentEvent, ...] = attrs.field(default=(), converter=_tuple)
    """To record; each key is expected not to be recorded yet."""
    moves: tuple[tuple[PaymentIntent, IntentStatus], ...] = attrs.field(
        default=(), converter=_tuple
    )
    """Each intent's new progress (status, payment id, amount paid, fulfilment,
    ``updated_at``) with the status it is expected to have; each intent once."""
    new_subscriptions: tuple[Subscription, ...] = attrs.field(default=(), converter=_tuple)
    """Expected to be the first of their (user, channel)."""
    changed_subscriptions: tuple[Subscription, ...] = attrs.field(default=(), converter=_tuple)
    """Stored at ``version`` + 1, expected to be still at the ``version`` they carry."""
    grants: tuple[AccessGrant, ...] = attrs.field(default=(), converter=_tuple)
    """For periods expected to hold no grant yet."""
    donations: tuple[Donation, ...] = attrs.field(default=(), converter=_tuple)
    """For intents expected to hold no donation yet."""
    audit: tuple[AuditRecord, ...] = attrs.field(default=(), converter=_tuple)
    """Chained onto the audit log in this order."""
    messages: tuple[tuple[str, Effect], ...] = attrs.field(default=(), converter=_tuple)
    """Outbox messages by unique key; a key queued before is skipped."""
    figures: tuple[DailyFigure, ...] = attrs.field(default=(), converter=_tuple)
    """Added to the daily rollup (see ``FigureRollup``) with the rest, exactly once."""

    def __attrs_post_init__(self) -> None:
        # A second change of one row in the same changes would race with the first.
        groups: dict[str, list[object]] = {
            "intent moves": [intent.id for intent, _ in self.moves],
            "new subscriptions": [(s.user_id, s.channel_id) for s in self.new_subscriptions],
            "changed subscriptions": [s.id for s in self.changed_subscriptions],
            "grants": [(g.subscription_id, g.period) for g in self.grants],
            "donations": [d.intent_id for d in self.donations],
        }
        for what, keys in groups.items():
            if len(set(keys)) != len(keys):
                raise ValueError(f"one row twice among the {what}")

    def then(self, other: PaymentChanges) -> PaymentChanges:
        """These changes followed by ``other``'s."""
        return PaymentChanges(
            *(
                getattr(self, field.name) + getattr(other, field.name)
                for field in attrs.fields(PaymentChanges)
            )
        )


class PaymentLedger(Protocol):
    async def load(
        self, keys: Collection[EventKey], intent_ids: Collection[IntentId]
    ) -> PaymentBook:
        """Which of ``keys`` are recorded; the intents ``intent_ids`` that exist, their
        channels, and the subscriptions of their (user, channel) pairs."""
        ...

    async def save(self, changes: PaymentChanges, at: datetime) -> None:
        """Write ``changes`` (outbox messages queued, audit records stamped ``at``, the
        figures added to the daily rollup).
        Raises Conflict, at once or at the latest from the unit of work's commit, if
        any expectation fails: an event key recorded meanwhile, an intent that moved
        on (or is gone), a subscription that exists or changed, a grant for that
        period, a donation for that intent. The caller then rolls back: nothing of
        the changes stays."""
        ...
