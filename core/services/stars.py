"""Payments in Telegram Stars, as the bot sees them: the pre-checkout query answered
on the stored intent, the successful payment and the refund applied through the same
verify-payment path as a provider's notification.

Rules kept here:
- Telegram asks before it takes the Stars (``pre_checkout_query``, answered within
  10 s): yes only for an intent of ours (the order id's tag verifies), sold for Stars,
  still open, at the stored price in ``XTR``, by the person it was made for;
- a ``successful_payment`` is a notification keyed by its
  ``telegram_payment_charge_id``: a repeat is a duplicate, and the grant follows the
  same forward-only states, exactly once, with the same audit; a Stars
  subscription's first payment and its renewals follow
  :mod:`core.services.stars_renewals`;
- a refund (``refundStarPayment``) is asked by an operator or the channel's owner,
  with a reason (audited); the refund then takes back what the payment bought, as a
  provider's refund notification does.
"""

from __future__ import annotations

from enum import StrEnum

import attrs

from core.domain.audit import AuditRecord
from core.domain.errors import DomainError, InvalidOrderId, NotAuthorized, Why
from core.domain.ids import UserId
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.domain.order_id import OrderId
from core.domain.payment import PaymentIntent, ProviderNotification
from core.domain.signing import MacKeyring
from core.domain.tier import STARS
from core.ports.clock import Clock
from core.ports.errors import NotFound
from core.ports.payments import PaymentRefunds
from core.ports.repositories import UnitOfWorkFactory
from core.services.payment_judging import VerificationResult
from core.services.stars_renewals import StarsRenewals
from core.services.verify_payment import VerifyPaymentIntent

MAX_REASON = 200


class Refusal(StrEnum):
    """Why a pre-checkout query is answered no (the bot words it for the payer)."""

    UNKNOWN = "unknown"  # not an order of ours, or not one sold for Stars
    CLOSED = "closed"  # paid, superseded or expired: nothing left to pay
    CHANGED = "changed"  # the amount or currency is not the stored one
    SOMEONE_ELSE = "someone_else"  # the invoice was made for another person


@attrs.frozen
class StarsCheckout:
    """A ``pre_checkout_query``: who is about to pay how much for which order."""

    payer: UserId
    order_id: str
    amount: int
    currency: str


@attrs.frozen
class StarsPayment:
    """A ``successful_payment`` message."""

    payer: UserId
    charge_id: str
    order_id: str
    amount: int
    currency: str
    recurring: bool = False
    """A payment of a Stars subscription (``is_recurring``)."""
    first_recurring: bool = False
    """The payment that started it (``is_first_recurring``); a recurring payment that
    is not the first is a renewal."""

    @property
    def renewal(self) -> bool:
        return self.recurring and not self.first_recurring


def _money(amount: int, currency: str) -> Money | None:
    try:
        return Money(amount, currency)
    except DomainError:
        return None


@attrs.define(eq=False)
class AnswerPreCheckout:
    _uow: UnitOfWorkFactory
    _keyring: MacKeyring
    _provider: str
    """The Stars gateway's name, stored with the intents it sells."""

    async def execute(self, query: StarsCheckout) -> Refusal | None:
        """None: Telegram may take the Stars. Reads only (one short unit of work), so
        the answer leaves well within Telegram's 10 s."""
        try:
            intent_id = OrderId.parse(query.order_id, self._keyring).intent_id
        except InvalidOrderId:
            return Refusal.UNKNOWN
        async with self._uow() as tx:
            try:
                intent = await tx.intents.get(intent_id)
            except NotFound:
                return Refusal.UNKNOWN
        return self._judge(intent, query)

    def _judge(self, intent: PaymentIntent, query: StarsCheckout) -> Refusal | None:
        if intent.provider != self._provider:
            return Refusal.UNKNOWN
        if not intent.is_open:
            return Refusal.CLOSED
        asked = _money(query.amount, query.currency)
        if asked is None or asked.currency != STARS or not asked.same_value(intent.price):
            return Refusal.CHANGED
        if query.payer != intent.user_id:
            return Refusal.SOMEONE_ELSE
        return None


@attrs.define(eq=False)
class RecordStarsPayment:
    _verify: VerifyPaymentIntent
    _provider: str
    _renewals: StarsRenewals | None = None
    """Stars subscriptions that renew; None: recurring payments are judged as one-off
    payments of their order (a renewal is then a stale payment, alerted)."""

    async def execute(self, payment: StarsPayment) -> VerificationResult:
        """Applied as a finished payment of the stated Stars; a price that is not the
        stored one is a mismatch (alerted, nothing granted). Raises Unavailable (the
        update is then not acknowledged, and Telegram sends it again)."""
        price = _money(payment.amount, payment.currency) or Money(0, STARS)
        order_id = payment.order_id
        if payment.renewal and self._renewals is not None:
            order_id = await self._renewals.renewal_order(payment.charge_id, order_id, price)
        result = await self._verify.execute(
            ProviderNotification(
                provider=self._provider,
                payment_id=payment.charge_id,
                order_id=order_id,
                status=IntentStatus.FINISHED,
                price=price,
                pay_amount=price,
                actually_paid=price,
                invoice_id=order_id,
            )
        )
        if payment.recurring and payment.first_recurring and self._renewals is not None:
            await self._renewals.started(payment.charge_id, result)
        return result


class NotRefundable(DomainError):
    """No Stars payment of ours by that charge id, or it is not one that bought
    something and stands (refunded already, never fulfilled)."""


@attrs.define(eq=False)
class RefundStarsPayment:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _keyring: MacKeyring
    _refunds: PaymentRefunds
    _verify: VerifyPaymentIntent
    _provider: str

    async def execute(
        self, actor: UserId, charge_id: str, reason: str, *, operator: bool = False
    ) -> PaymentIntent:
        """Refund the Stars of ``charge_id`` and take back what they bought; ``actor``
        is an operator (``operator``) or must own the channel paid for. Raises
        NotRefundable, NotAuthorized, or the provider's ProviderRejected /
        Unavailable (nothing changed then)."""
        reason = " ".join(reason.split())[:MAX_REASON]
        if not reason:
            raise NotRefundable(Why.REFUND_REASON_MISSING)
        async with self._uow() as tx:
            intent = await tx.intents.by_payment(self._provider, charge_id)
            if intent is None:
                raise NotRefundable(Why.NO_STARS_PAYMENT, charge=charge_id[:64])
            channel = await tx.channels.get(intent.channel_id)
        if not operator and actor != channel.owner_id:
            raise NotAuthorized(Why.REFUNDER_NOT_ALLOWED)
        if not intent.is_fulfilled or intent.status is not IntentStatus.FINISHED:
            raise NotRefundable(Why.NOT_REFUNDABLE)
        await self._refunds.refund(intent.user_id, charge_id)
        async with self._uow() as tx:
            await tx.audit.append(
                AuditRecord(
                    f"user:{actor}",
                    "payment.refund_requested",
                    f"intent:{intent.id}",
                    {"payment_id": charge_id, "reason": reason},
                ),
                self._clock.now(),
            )
            await tx.commit()
        await self._verify.execute(
            ProviderNotification(
                provider=self._provider,
                payment_id=charge_id,
                order_id=str(OrderId.issue(intent.id, self._keyring)),
                status=IntentStatus.REFUNDED,
                price=intent.price,
            )
        )
        async with self._uow() as tx:
            return await tx.intents.get(intent.id)
