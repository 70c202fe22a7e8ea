"""Verify payment intent: apply a provider notification (already signature-checked
by its adapter) to the stored intent.

Rules kept here:
- the order id's MAC tag must verify before the intent is looked up;
- the event is recorded once per (provider, payment, status): a replay is a no-op;
- the stated price and currency must be the ones stored with the intent;
- the status moves forward only (by the table); late or out-of-order reports are
  recorded and change nothing;
- on the first move into the paying status, with enough money (within the
  tolerance), the purchase is fulfilled in the same unit of work — exactly once;
- extra deposits (a parent payment id) are never granted automatically;
- a refund of a fulfilled payment takes back what it bought, and a partial payment
  tells the payer what is missing (:mod:`core.services.payment_followups`), in the
  same unit of work.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import attrs

from core.domain.audit import AuditRecord
from core.domain.errors import InvalidOrderId
from core.domain.ids import IntentId
from core.domain.intent_state import PAYING_CHOICES, IntentStatus, can_move, reaches_paying
from core.domain.order_id import OrderId
from core.domain.payment import EventOutcome, PaymentEvent, PaymentIntent, ProviderNotification
from core.domain.signing import MacKeyring
from core.ports.alerts import Alert, AlertSink, Severity
from core.ports.clock import Clock
from core.ports.errors import Conflict, Unavailable
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from core.services.fulfilment import Fulfilment
from core.services.payment_batches import (
    MOVING,
    BatchItem,
    one_per_buyer,
    one_per_intent,
    split_copies,
)
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


@attrs.frozen
class VerificationResult:
    outcome: EventOutcome
    intent_id: IntentId | None = None
    status: IntentStatus | None = None
    late_money: bool = False
    """Money arrived for an intent already closed (paid, expired or failed): alerted."""


_ALERTING = {
    EventOutcome.UNDERPAID: Severity.WARNING,
    EventOutcome.MISMATCH: Severity.CRITICAL,
    EventOutcome.CHILD_PAYMENT: Severity.WARNING,
    EventOutcome.UNKNOWN_ORDER: Severity.CRITICAL,
}


class VerifyPaymentIntent:
    """Applies notifications one at a time (:meth:`execute`) or a batch of them in
    one unit of work (:meth:`execute_many`), with one statement per step for the
    whole batch: under load the webhook hands over every notification that arrived
    while the previous batch was being written. A notification is judged by the
    same rules either way; a batch of one is the single case."""

    MAX_ROUNDS = 5

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        keyring: MacKeyring,
        fulfilment: Fulfilment,
        alerts: AlertSink,
        policy: PaymentPolicy | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._keyring = keyring
        self._fulfilment = fulfilment
        self._alerts = alerts
        self._policy = policy or PaymentPolicy()

    async def execute(self, notification: ProviderNotification) -> VerificationResult:
        """Raises Unavailable when the store is, or when every round lost a race."""
        outcome = (await self.execute_many([notification]))[0]
        if isinstance(outcome, Unavailable):
            raise outcome
        return outcome

    async def execute_many(
        self, notifications: Sequence[ProviderNotification]
    ) -> list[VerificationResult | Unavailable]:
        """One result per notification, in order: what applying it did, or why it
        could not be applied now (the provider resends on a non-2xx answer).

        A batch holds each intent and each (user, channel) at most once, so no two
        of its notifications race on one row: the rest wait for a following batch,
        except exact copies (same provider, payment and status), which are answered
        as duplicates once the first copy is stored. When a batch loses a race to
        another process (or the store refuses it), nothing of it is written and its
        notifications are applied one by one."""
        items = [BatchItem(i, n, self._intent_id(n)) for i, n in enumerate(notifications)]
        results: dict[int, VerificationResult | Unavailable] = {}
        pending = items
        while pending:
            batch, pending = one_per_intent(pending)
            try:
                done, postponed = await self._apply(batch)
            except (Conflict, Unavailable) as exc:
                postponed = []
                if len(batch) > 1:
                    done = {}
                    for item in batch:
                        done.update(await self._retry_alone(item, self.MAX_ROUNDS))
                elif isinstance(exc, Unavailable):
                    done = {batch[0].index: exc}
                else:
                    done = await self._retry_alone(batch[0], self.MAX_ROUNDS - 1)
            results.update(done)
            pending = postponed + pending
        for item in items:
            outcome = results[item.index]
            if isinstance(outcome, VerificationResult):
                await self._alert(item.notification, outcome)
        return [results[item.index] for item in items]

    def _intent_id(self, notification: ProviderNotification) -> IntentId | None:
        try:
            return OrderId.parse(notification.order_id, self._keyring).intent_id
        except InvalidOrderId:
            return None

    async def _retry_alone(
        self, item: BatchItem, rounds: int
    ) -> dict[int, VerificationResult | Unavailable]:
        """The single case: a lost race rolls everything back and the notification is
        judged again from fresh state, up to ``rounds`` times."""
        for _ in range(rounds):
            try:
                done, _postponed = await self._apply([item])
            except Conflict:  # another unit of work moved the intent first
                continue
            except Unavailable as exc:
                return {item.index: exc}
            return done
        # Every round lost a race: someone else is applying this intent right now. Not
        # applied, nothing written; the provider resends on a non-2xx answer.
        return {item.index: Unavailable("the payment is being applied concurrently; retry later")}

    async def _apply(
        self, batch: Sequence[BatchItem]
    ) -> tuple[dict[int, VerificationResult | Unavailable], list[BatchItem]]:
        """Apply ``batch`` in one unit of work: the results, and the items left for a
        following batch (a second payment of a (user, channel) already in this one)."""
        async with self._uow() as tx:
            now = self._clock.now()
            tx.events.expect([item.event_key for item in batch])
            known = {i.intent_id for i in batch if i.intent_id is not None}
            intents = await tx.intents.get_many(known) if known else {}
            batch, postponed = one_per_buyer(batch, intents)
            firsts, copies = split_copies(batch)
            for item in firsts:
                intent = intents.get(item.intent_id) if item.intent_id else None
                item.judge(intent, self._judge)
            recorded = await tx.events.add_many([self._event(i, now) for i in firsts])
            results: dict[int, VerificationResult | Unavailable] = {}
            moves: list[tuple[PaymentIntent, IntentStatus]] = []
            paid: list[tuple[PaymentIntent, ProviderNotification]] = []
            stored = []
            for item, new in zip(firsts, recorded, strict=True):
                if not new:
                    intent = item.intent
                    results[item.index] = VerificationResult(
                        EventOutcome.DUPLICATE,
                        None if intent is None else intent.id,
                        None if intent is None else intent.status,
                    )
                    continue
                stored.append(item)
                if item.intent is not None and item.outcome in MOVING:
                    moves.append((item.intent, item.move(now)))
                    if item.outcome is EventOutcome.GRANTED:
                        paid.append((item.intent, item.notification))
            # The compare-and-set comes right after the events, before the subscriptions
            # and the audit turn: it takes the intents' row locks (in id order) before
            # any other lock, so two deliveries for one intent queue on the same lock
            # instead of deadlocking. A lost race is Conflict, now or at the commit.
            if moves:
                await tx.intents.advance_all(moves)
            if paid:
                await self._fulfilment.fulfil_many(tx, paid, now)
            if refunded := _refunded(stored):
                await take_back_refunds(tx, refunded, now)
            if partial := _partial(stored):
                await tell_partial_payments(tx, partial, now)
            for item in stored:
                await self._audit(tx, item.notification, item.intent, item.outcome)
            await tx.commit()
        for item in stored:
            intent = item.intent
            results[item.index] = VerificationResult(
                item.outcome,
                None if intent is None else intent.id,
                None if intent is None else intent.status,
                item.late_money,
            )
        for first, copy in copies:
            intent = first.intent
            results[copy.index] = VerificationResult(
                EventOutcome.DUPLICATE,
                None if intent is None else intent.id,
                None if intent is None else intent.status,
            )
        return results, postponed

    def _judge(self, intent: PaymentIntent, n: ProviderNotification) -> tuple[EventOutcome, bool]:
        """The outcome, and whether money arrived for an intent already closed."""
        if n.provider != intent.provider:
            return EventOutcome.MISMATCH, False
        if n.parent_payment_id:
            return EventOutcome.CHILD_PAYMENT, False
        if not n.price.same_value(intent.price):
            return EventOutcome.MISMATCH, False
        paying = self._policy.paying_status
        if not can_move(intent.status, n.status):
            closed_unpaid = not intent.is_fulfilled and intent.status in (
                IntentStatus.EXPIRED,
                IntentStatus.FAILED,
            )
            # A second payment of an invoice already paid for: money taken, nothing bought.
            paid_twice = intent.is_fulfilled and n.payment_id != intent.payment_id
            late_money = reaches_paying(n.status, paying) and (closed_unpaid or paid_twice)
            return EventOutcome.STALE, late_money
        if reaches_paying(n.status, paying) and not intent.is_fulfilled:
            if self._enough(n):
                return EventOutcome.GRANTED, False
            return EventOutcome.UNDERPAID, False
        return EventOutcome.APPLIED, False

    def _enough(self, n: ProviderNotification) -> bool:
        fraction = n.paid_fraction()
        if fraction is None:  # no evidence of the amount: never grant on faith
            return False
        return fraction >= 1 - self._policy.underpayment_tolerance

    def _event(self, item: BatchItem, now: datetime) -> PaymentEvent:
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

    async def _audit(
        self,
        tx: UnitOfWork,
        n: ProviderNotification,
        intent: PaymentIntent | None,
        outcome: EventOutcome,
    ) -> None:
        subject = f"intent:{intent.id}" if intent else f"order:{n.order_id[:80]}"
        await tx.audit.append(
            AuditRecord(
                f"provider:{n.provider}",
                f"payment.{outcome}",
                subject,
                {"payment_id": n.payment_id, "status": str(n.status)},
            ),
            self._clock.now(),
        )

    async def _alert(self, n: ProviderNotification, result: VerificationResult) -> None:
        late = result.late_money
        severity = Severity.CRITICAL if late else _ALERTING.get(result.outcome)
        if severity is None:
            return
        title = (
            "Money arrived for a closed payment: review and grant by hand"
            if late
            else f"Payment notification {result.outcome}"
        )
        await self._alerts.send(
            Alert(
                severity=severity,
                title=title,
                key=f"payment:{n.provider}:{n.payment_id}:{n.status}",
                details={
                    "order_id": n.order_id[:80],
                    "status": str(n.status),
                    "intent": result.intent_id or "-",
                    "outcome": str(result.outcome),
                },
            )
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
