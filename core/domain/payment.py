"""Payment intents and the provider notifications applied to them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TypeAlias

import attrs

from core.domain.errors import InvalidTransition, Why
from core.domain.ids import ChannelId, IntentId, UserId
from core.domain.intent_state import IntentStatus, can_move
from core.domain.money import Money


class Purpose(StrEnum):
    SUBSCRIPTION = "subscription"
    DONATION = "donation"


@attrs.frozen
class ProviderNotification:
    """A provider's report about one payment, already verified by its adapter.

    ``price`` is the invoice's price in fiat as the provider states it; ``pay_amount``
    is what the payer was asked to send in crypto and ``actually_paid`` what arrived.
    """

    provider: str
    payment_id: str
    order_id: str
    status: IntentStatus
    price: Money
    pay_amount: Money | None = None
    actually_paid: Money | None = None
    outcome: Money | None = None
    invoice_id: str | None = None
    parent_payment_id: str | None = None

    def paid_fraction(self) -> Decimal | None:
        """How much of the requested crypto amount arrived (None if not reported)."""
        if self.pay_amount is None or self.actually_paid is None:
            return None
        if self.pay_amount.currency != self.actually_paid.currency:
            return None
        if self.pay_amount.amount <= 0:
            return None
        return self.actually_paid.amount / self.pay_amount.amount


class EventOutcome(StrEnum):
    """What applying a notification did; stored with the event."""

    APPLIED = "applied"  # moved the intent forward
    GRANTED = "granted"  # moved it into the paying status and fulfilled it
    UNDERPAID = "underpaid"  # paying status, but too little money: moved, not granted
    DUPLICATE = "duplicate"  # same payment and status seen before
    STALE = "stale"  # out of order or late: recorded, no change
    MISMATCH = "mismatch"  # price or currency differs from what we stored: no change
    CHILD_PAYMENT = "child_payment"  # an extra deposit (parent_payment_id): never auto-granted
    UNKNOWN_ORDER = "unknown_order"  # signed, but for no intent of ours


EventKey: TypeAlias = tuple[str, str, IntentStatus]
"""What makes a payment event unique: (provider, payment_id, status)."""


@attrs.frozen
class PaymentEvent:
    """A provider notification as received. Unique on (provider, payment_id, status):
    a replay is recognised by the store, not by memory."""

    provider: str
    payment_id: str
    status: IntentStatus
    order_id: str
    intent_id: IntentId | None
    received_at: datetime
    outcome: EventOutcome
    price: Money
    actually_paid: Money | None = None
    parent_payment_id: str | None = None

    @property
    def key(self) -> EventKey:
        return self.provider, self.payment_id, self.status


@attrs.define
class PaymentIntent:
    """What someone is about to pay for, and how far the payment has got."""

    id: IntentId
    purpose: Purpose
    user_id: UserId
    channel_id: ChannelId
    price: Money
    provider: str
    created_at: datetime
    updated_at: datetime
    tier: int | None = None
    duration_days: int | None = None
    """For subscriptions: the tier's length when the intent was made, so an owner
    editing tiers mid-payment cannot change what the payer bought."""
    status: IntentStatus = IntentStatus.CREATED
    invoice_id: str | None = None
    invoice_url: str | None = None
    payment_id: str | None = None
    fulfilled_at: datetime | None = None
    actually_paid: Money | None = None

    @property
    def is_open(self) -> bool:
        return self.status in (IntentStatus.CREATED, IntentStatus.WAITING)

    @property
    def is_fulfilled(self) -> bool:
        return self.fulfilled_at is not None

    def attach_invoice(self, invoice_id: str, invoice_url: str, at: datetime) -> None:
        self.invoice_id = invoice_id
        self.invoice_url = invoice_url
        self.updated_at = at

    def move_to(self, status: IntentStatus, at: datetime) -> None:
        """Forward-only by the table in :mod:`core.domain.intent_state`."""
        if not can_move(self.status, status):
            raise InvalidTransition(
                Why.MOVE_REFUSED, what="payment", source=self.status, target=status
            )
        self.status = status
        self.updated_at = at

    def mark_fulfilled(self, at: datetime) -> None:
        if self.fulfilled_at is not None:
            raise InvalidTransition(
                Why.MOVE_REFUSED, what="payment", source="fulfilled", target="fulfilled"
            )
        self.fulfilled_at = at
        self.updated_at = at
