"""How a batch of payment notifications is cut so that none of its notifications
race on one row inside the unit of work that applies them together."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

import attrs

from core.domain.ids import ChannelId, IntentId, UserId
from core.domain.intent_state import IntentStatus
from core.domain.payment import EventKey, EventOutcome, PaymentIntent, ProviderNotification

MOVING = frozenset({EventOutcome.APPLIED, EventOutcome.GRANTED, EventOutcome.UNDERPAID})

Judge = Callable[[PaymentIntent, ProviderNotification], tuple[EventOutcome, bool]]


@attrs.define(eq=False)
class BatchItem:
    """One notification of a batch and, once judged in a unit of work, its verdict."""

    index: int
    notification: ProviderNotification
    intent_id: IntentId | None
    intent: PaymentIntent | None = None
    outcome: EventOutcome = EventOutcome.UNKNOWN_ORDER
    late_money: bool = False

    @property
    def event_key(self) -> EventKey:
        n = self.notification
        return n.provider, n.payment_id, n.status

    def judge(self, intent: PaymentIntent | None, judge: Judge) -> None:
        self.intent = intent
        if intent is None:
            self.outcome, self.late_money = EventOutcome.UNKNOWN_ORDER, False
        else:
            self.outcome, self.late_money = judge(intent, self.notification)

    def move(self, now: datetime) -> IntentStatus:
        """Move the intent as judged; the status it had (for the compare-and-set)."""
        intent, n = self.intent, self.notification
        assert intent is not None
        previous = intent.status
        intent.move_to(n.status, now)
        intent.payment_id = intent.payment_id or n.payment_id
        if n.actually_paid is not None:
            intent.actually_paid = n.actually_paid
        if self.outcome is EventOutcome.GRANTED:
            intent.mark_fulfilled(now)
        return previous


def one_per_intent(items: Sequence[BatchItem]) -> tuple[list[BatchItem], list[BatchItem]]:
    """The items a batch takes (one notification per intent, with exact copies of the
    ones it takes) and the rest, in their order."""
    taken: list[BatchItem] = []
    rest: list[BatchItem] = []
    intents: set[IntentId] = set()
    keys: set[EventKey] = set()
    for item in items:
        if item.event_key in keys:
            taken.append(item)
        elif item.intent_id is not None and item.intent_id in intents:
            rest.append(item)
        else:
            taken.append(item)
            keys.add(item.event_key)
            if item.intent_id is not None:
                intents.add(item.intent_id)
    return taken, rest


def one_per_buyer(
    items: Sequence[BatchItem], intents: Mapping[IntentId, PaymentIntent]
) -> tuple[list[BatchItem], list[BatchItem]]:
    """Keep one intent per (user, channel) in the batch (a second payment by the same
    person for the same channel extends what the first one creates, so it waits for
    the next batch), with the exact copies of what is kept."""
    taken: list[BatchItem] = []
    rest: list[BatchItem] = []
    buyers: dict[tuple[UserId, ChannelId], IntentId] = {}
    for item in items:
        intent = intents.get(item.intent_id) if item.intent_id is not None else None
        if intent is None:
            taken.append(item)
            continue
        first = buyers.setdefault((intent.user_id, intent.channel_id), intent.id)
        (taken if first == intent.id else rest).append(item)
    return taken, rest


def split_copies(
    items: Sequence[BatchItem],
) -> tuple[list[BatchItem], list[tuple[BatchItem, BatchItem]]]:
    """The first of each (provider, payment, status), and each later copy with its first."""
    firsts: dict[EventKey, BatchItem] = {}
    copies: list[tuple[BatchItem, BatchItem]] = []
    for item in items:
        first = firsts.setdefault(item.event_key, item)
        if first is not item:
            copies.append((first, item))
    return list(firsts.values()), copies
