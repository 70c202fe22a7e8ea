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
- extra deposits (a parent payment id) are never granted automatically.
"""

from __future__ import annotations

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
from core.ports.errors import Conflict, NotFound, Unavailable
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from core.services.fulfilment import Fulfilment

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


class _Raced(Exception):
    """Another unit of work advanced the intent between our read and our write."""


_ALERTING = {
    EventOutcome.UNDERPAID: Severity.WARNING,
    EventOutcome.MISMATCH: Severity.CRITICAL,
    EventOutcome.CHILD_PAYMENT: Severity.WARNING,
    EventOutcome.UNKNOWN_ORDER: Severity.CRITICAL,
}


class VerifyPaymentIntent:
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
        try:
            intent_id: IntentId | None = OrderId.parse(
                notification.order_id, self._keyring
            ).intent_id
        except InvalidOrderId:
            intent_id = None
        for _ in range(self.MAX_ROUNDS):
            try:
                result, late_money = await self._apply(notification, intent_id)
            except (_Raced, Conflict):
                # Lost a race (the intent moved, or a concurrent payment created the
                # subscription first): everything rolled back; judge again from fresh state.
                continue
            await self._alert(notification, result, late_money)
            return result
        # Every round lost a race: someone else is applying this intent right now. Not
        # applied, nothing written; the provider resends on a non-2xx answer.
        raise Unavailable("the payment is being applied concurrently; retry later")

    async def _apply(
        self, notification: ProviderNotification, intent_id: IntentId | None
    ) -> tuple[VerificationResult, bool]:
        async with self._uow() as tx:
            now = self._clock.now()
            intent = await self._load(tx, intent_id)
            if intent is None:
                outcome = EventOutcome.UNKNOWN_ORDER
                if not await self._record(tx, notification, None, outcome):
                    return VerificationResult(EventOutcome.DUPLICATE), False
                await self._audit(tx, notification, None, outcome)
                await tx.commit()
                return VerificationResult(outcome), False

            previous = intent.status
            outcome, late_money = self._judge(intent, notification)
            if not await self._record(tx, notification, intent.id, outcome):
                return VerificationResult(EventOutcome.DUPLICATE, intent.id, intent.status), False
            if outcome in (EventOutcome.APPLIED, EventOutcome.GRANTED, EventOutcome.UNDERPAID):
                intent.move_to(notification.status, now)
                intent.payment_id = intent.payment_id or notification.payment_id
                if notification.actually_paid is not None:
                    intent.actually_paid = notification.actually_paid
                if outcome is EventOutcome.GRANTED:
                    intent.mark_fulfilled(now)
                # The compare-and-set comes first: it takes the intent's row lock before
                # any other lock (audit chain, subscription), so two deliveries for one
                # intent queue on the same lock instead of deadlocking.
                if not await tx.intents.advance(intent, previous):
                    raise _Raced()
                if outcome is EventOutcome.GRANTED:
                    await self._fulfilment.fulfil(tx, intent, notification, now)
            await self._audit(tx, notification, intent, outcome)
            await tx.commit()
            return VerificationResult(outcome, intent.id, intent.status), late_money

    async def _load(self, tx: UnitOfWork, intent_id: IntentId | None) -> PaymentIntent | None:
        if intent_id is None:
            return None
        try:
            return await tx.intents.get(intent_id)
        except NotFound:
            return None

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

    async def _record(
        self,
        tx: UnitOfWork,
        n: ProviderNotification,
        intent_id: IntentId | None,
        outcome: EventOutcome,
    ) -> bool:
        return await tx.events.add(
            PaymentEvent(
                provider=n.provider,
                payment_id=n.payment_id,
                status=n.status,
                order_id=n.order_id,
                intent_id=intent_id,
                received_at=self._clock.now(),
                outcome=outcome,
                price=n.price,
                actually_paid=n.actually_paid,
                parent_payment_id=n.parent_payment_id,
            )
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

    async def _alert(self, n: ProviderNotification, result: VerificationResult, late: bool) -> None:
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
