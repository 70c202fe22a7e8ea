"""Judging a batch of provider notifications against what it loaded: pure rules, no
I/O. What each notification does (its result) and what the batch changes (the
:class:`~core.ports.payment_ledger.PaymentChanges` to save) follow from the
notifications, the :class:`~core.ports.payment_ledger.PaymentBook`, the time and the
policy; :mod:`core.services.verify_payment` loads, saves and retries.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import attrs

from core.domain.audit import AuditRecord
from core.domain.ids import ChannelId, IntentId
from core.domain.intent_state import PAYING_CHOICES, IntentStatus, can_move, reaches_paying
from core.domain.payment import EventOutcome, PaymentEvent, PaymentIntent, ProviderNotification
from core.ports.alerts import Alert, Severity
from core.ports.payment_ledger import PaymentBook, PaymentChanges
from core.services.fulfilment import Fulfilment
from core.services.payment_batches import MOVING, BatchItem, split_copies
from core.services.payment_followups import take_back_refunds, tell_partial_payments

MAX_TOLERANCE = Decimal("0.5")


def _paying(_: object, __: attrs.Attribute[IntentStatus], value: IntentStatus) -> None:
    if value not in PAYING_CHOICES:
        raise ValueError(f"the paying status is one of {sorted(PAYING_CHOICES)}, not {value}")


def _tolerance(_: object, __: attrs.Attribute[Decimal], value: Decimal) -> None:
    if not isinstance(value, Decimal) or not Decimal(0) <= value <= MAX_TOLERANCE:
        raise ValueError(f"underpayment tolerance is a Decimal in 0..{MAX_TOLERANCE}")


@attrs.frozen
class PaymentPolicy:
    paying_status: IntentStatus = attrs.field(default=IntentStatus.FINISHED, validator=_paying)
    """Grant on ``finished`` (the provider's advice) or, by choice, on ``confirmed``."""
    underpayment_tolerance: Decimal = attrs.field(default=Decimal("0.005"), validator=_tolerance)
    """The fraction of the requested crypto amount that may be missing (network fees)."""

    def judge(self, intent: PaymentIntent, n: ProviderNotification) -> tuple[EventOutcome, bool]:
        """The outcome, and whether money arrived for an intent already closed."""
        if n.provider != intent.provider:
            return EventOutcome.MISMATCH, False
        if n.parent_payment_id:
            return EventOutcome.CHILD_PAYMENT, False
        if not n.price.same_value(intent.price):
            return EventOutcome.MISMATCH, False
        if not can_move(intent.status, n.status):
            closed_unpaid = not intent.is_fulfilled and intent.status in (
                IntentStatus.EXPIRED,
                IntentStatus.FAILED,
            )
            # A second payment of an invoice already paid for: money taken, nothing bought.
            paid_twice = intent.is_fulfilled and n.payment_id != intent.payment_id
            late_money = reaches_paying(n.status, self.paying_status) and (
                closed_unpaid or paid_twice
            )
            return EventOutcome.STALE, late_money
        if reaches_paying(n.status, self.paying_status) and not intent.is_fulfilled:
            if self._enough(n):
                return EventOutcome.GRANTED, False
            return EventOutcome.UNDERPAID, False
        return EventOutcome.APPLIED, False

    def _enough(self, n: ProviderNotification) -> bool:
        fraction = n.paid_fraction()
        if fraction is None:  # no evidence of the amount: never grant on faith
            return False
        return fraction >= 1 - self.underpayment_tolerance


def payment_policy(given: PaymentPolicy | None) -> PaymentPolicy:
    """None (a setting a container leaves unset) means the defaults."""
    return given or PaymentPolicy()


@attrs.frozen
class VerificationResult:
    outcome: EventOutcome
    intent_id: IntentId | None = None
    status: IntentStatus | None = None
    late_money: bool = False
    """Money arrived for an intent already closed (paid, expired or failed): alerted."""
    channel_id: ChannelId | None = None


@attrs.frozen
class Settlement:
    """What a batch does: a result per notification (by index) and what to save."""

    results: dict[int, VerificationResult]
    changes: PaymentChanges


def settle(
    batch: Sequence[BatchItem],
    book: PaymentBook,
    now: datetime,
    policy: PaymentPolicy,
    fulfilment: Fulfilment,
) -> Settlement:
    """Judge ``batch`` (one notification per intent and per (user, channel), exact
    copies aside) on ``book``. A notification recorded before is a duplicate and
    changes nothing; an exact copy of one in the batch is answered as its duplicate."""
    firsts, copies = split_copies(batch)
    results: dict[int, VerificationResult] = {}
    stored: list[BatchItem] = []
    for item in firsts:
        intent = book.intents.get(item.intent_id) if item.intent_id is not None else None
        # Judged and moved on a copy: the book stays as it was read.
        item.judge(None if intent is None else copy.copy(intent), policy.judge)
        if item.event_key in book.recorded:
            results[item.index] = _result(item, EventOutcome.DUPLICATE, late_money=False)
        else:
            stored.append(item)
    events = [_event(item, now) for item in stored]
    moves = [
        (item.intent, item.move(now))
        for item in stored
        if item.intent is not None and item.outcome in MOVING
    ]
    paid = [
        (item.intent, item.notification)
        for item in stored
        if item.intent is not None and item.outcome is EventOutcome.GRANTED
    ]
    changes = (
        PaymentChanges(events=events, moves=moves)
        .then(fulfilment.fulfil(paid, book, now) if paid else PaymentChanges())
        .then(take_back_refunds(_refunded(stored), book, now))
        .then(tell_partial_payments(_partial(stored), book))
        .then(PaymentChanges(audit=[_audit(item) for item in stored]))
    )
    for item in stored:
        results[item.index] = _result(item, item.outcome, item.late_money)
    for first, later in copies:
        results[later.index] = _result(first, EventOutcome.DUPLICATE, late_money=False)
    return Settlement(results, changes)


def _result(item: BatchItem, outcome: EventOutcome, late_money: bool) -> VerificationResult:
    intent = item.intent
    return VerificationResult(
        outcome,
        None if intent is None else intent.id,
        None if intent is None else intent.status,
        late_money,
        None if intent is None else intent.channel_id,
    )


def _event(item: BatchItem, now: datetime) -> PaymentEvent:
    n = item.notification
    return PaymentEvent(
        provider=n.provider,
        payment_id=n.payment_id,
        status=n.status,
        order_id=n.order_id,
        intent_id=None if item.intent is None else item.intent.id,
        received_at=now,
        outcome=item.outcome,
        price=n.price,
        actually_paid=n.actually_paid,
        parent_payment_id=n.parent_payment_id,
    )


def _audit(item: BatchItem) -> AuditRecord:
    n, intent = item.notification, item.intent
    subject = f"intent:{intent.id}" if intent else f"order:{n.order_id[:80]}"
    return AuditRecord(
        f"provider:{n.provider}",
        f"payment.{item.outcome}",
        subject,
        {"payment_id": n.payment_id, "status": str(n.status)},
    )


def _refunded(items: Sequence[BatchItem]) -> list[PaymentIntent]:
    """The fulfilled intents these notifications moved into ``refunded``."""
    return [
        item.intent
        for item in items
        if item.intent is not None
        and item.outcome is EventOutcome.APPLIED
        and item.notification.status is IntentStatus.REFUNDED
        and item.intent.is_fulfilled
    ]


def _partial(
    items: Sequence[BatchItem],
) -> list[tuple[PaymentIntent, ProviderNotification, bool]]:
    """The intents paid in part: still open to the rest (``partially_paid``), or
    closed with too little money (underpaid: True)."""
    return [
        (item.intent, item.notification, item.outcome is EventOutcome.UNDERPAID)
        for item in items
        if item.intent is not None
        and (
            item.outcome is EventOutcome.UNDERPAID
            or (
                item.outcome is EventOutcome.APPLIED
                and item.notification.status is IntentStatus.PARTIALLY_PAID
            )
        )
    ]


_ALERTING = {
    EventOutcome.UNDERPAID: Severity.WARNING,
    EventOutcome.MISMATCH: Severity.CRITICAL,
    EventOutcome.CHILD_PAYMENT: Severity.WARNING,
    EventOutcome.UNKNOWN_ORDER: Severity.CRITICAL,
}


def alert_for(
    n: ProviderNotification, result: VerificationResult, payment_pages: str | None = None
) -> Alert | None:
    """What the operators are told of a notification applied, if anything. With
    ``payment_pages`` (the dashboard's payment pages' address, ending in ``/``), late
    money carries the link to its payment's page, where it is granted by hand."""
    late = result.late_money
    severity = Severity.CRITICAL if late else _ALERTING.get(result.outcome)
    if severity is None:
        return None
    title = (
        "Money arrived for a closed payment: review and grant by hand"
        if late
        else f"Payment notification {result.outcome}"
    )
    details = {
        "order_id": n.order_id[:80],
        "status": str(n.status),
        "intent": result.intent_id or "-",
        "outcome": str(result.outcome),
    }
    if result.channel_id is not None:
        details["channel"] = result.channel_id
    if late and payment_pages and result.intent_id is not None:
        details["review"] = f"{payment_pages}{result.intent_id}"
    return Alert(
        severity=severity,
        title=title,
        key=f"payment:{n.provider}:{n.payment_id}:{n.status}",
        details=details,
    )
