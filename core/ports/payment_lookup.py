"""What the dashboard's Payments and Exports sections read: payments found by any of
their ids, what we hold about one payment, and every subscriber, payment and
donation of some channels in keyset pages (constant memory however many there are).

Read-only and outside the payment path's units of work: each call is one short read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import attrs

from core.domain.audit import AuditEvent
from core.domain.donation import Donation
from core.domain.ids import ChannelId, IntentId
from core.domain.payment import PaymentEvent, PaymentIntent
from core.domain.subscription import Subscription
from core.ports.errors import Unavailable

__all__ = ["ExportPages", "PaymentLookup", "PaymentRecord", "Unavailable"]

MAX_FOUND = 20
"""A search answers at most this many payments (newest first)."""


@attrs.frozen
class PaymentRecord:
    """What we hold about one payment intent: the provider's notifications as received
    (oldest first), the audit records about it (oldest first), and what it bought."""

    intent: PaymentIntent
    events: tuple[PaymentEvent, ...]
    audit: tuple[AuditEvent, ...]
    donation: Donation | None
    subscription: Subscription | None
    """The payer's subscription to the channel, for a subscription payment."""


class PaymentLookup(Protocol):
    async def find(
        self, text: str, channels: Sequence[ChannelId] | None
    ) -> Sequence[PaymentIntent]:
        """The intents whose id, invoice id or provider's payment id (the intent's own
        or one of its notifications') is exactly ``text``, newest first, at most
        :data:`MAX_FOUND`; only those of ``channels`` (None: every channel)."""
        ...

    async def record(self, intent_id: IntentId) -> PaymentRecord | None:
        """Everything held about one intent; None when there is no such intent."""
        ...


class ExportPages(Protocol):
    """Keyset pages ordered by id: the next page starts after the last id returned."""

    async def subscriptions(
        self, channels: Sequence[ChannelId], after: str | None, limit: int
    ) -> Sequence[Subscription]: ...

    async def intents(
        self, channels: Sequence[ChannelId], after: str | None, limit: int
    ) -> Sequence[PaymentIntent]:
        """Payment intents that reached the provider or were paid (an invoice, a payment
        id or a fulfilment): the abandoned checkouts are no payments."""
        ...

    async def donations(
        self, channels: Sequence[ChannelId], after: str | None, limit: int
    ) -> Sequence[Donation]: ...
