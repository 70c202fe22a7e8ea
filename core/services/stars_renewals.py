"""Telegram Stars subscriptions that renew themselves (a tier sold ``+auto``).

Rules kept here:
- the first payment (``is_first_recurring``) is an ordinary Stars payment of its
  intent; once it is granted, its charge id names the subscription, kept with who
  pays for which channel and tier;
- a renewal (``is_recurring``, not first) is a new charge for the same invoice, so
  the same order id: it becomes a renewal intent of its own (same person, channel,
  tier, period and price as the one it renews), and the renewal's charge id takes
  the same verify-payment path as every payment, so a renewal extends the
  subscription from its end exactly once, however often it is delivered;
- a renewal of an order that is no fulfilled Stars subscription of ours, or for
  another amount, is judged as a payment of that order itself: unknown, a mismatch,
  a late payment (alerted) or, for an order still open, its payment;
- canceling stops the renewals at Telegram (``editUserStarSubscription``) and keeps
  what was paid to its end; only the subscriber cancels their own.
"""

from __future__ import annotations

import attrs

from core.domain.audit import AuditRecord
from core.domain.errors import DomainError, InvalidOrderId, Why
from core.domain.ids import ChannelId, IntentId, UserId
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.domain.order_id import OrderId
from core.domain.payment import EventOutcome, PaymentIntent, Purpose
from core.domain.signing import MacKeyring
from core.domain.stars_renewal import StarsRenewal
from core.ports.clock import Clock, IdGenerator
from core.ports.errors import NotFound
from core.ports.payments import ProviderRejected
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from core.ports.stars_renewals import RenewalControl
from core.services.payment_judging import VerificationResult


class NoRenewal(DomainError):
    """No self-renewing Stars subscription of this person for this channel still
    renews: nothing to cancel."""


@attrs.define(eq=False)
class StarsRenewals:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _ids: IdGenerator
    _keyring: MacKeyring
    _provider: str

    async def started(self, charge_id: str, result: VerificationResult) -> None:
        """Keep the subscription a first payment started once it is granted; a
        repeated delivery keeps it if the first one was granted but not kept."""
        if result.outcome not in (EventOutcome.GRANTED, EventOutcome.DUPLICATE):
            return
        async with self._uow() as tx:
            intent = await tx.intents.by_payment(self._provider, charge_id)
            if intent is None or not intent.is_fulfilled or intent.tier is None:
                return
            renewal = StarsRenewal(
                charge_id, intent.user_id, intent.channel_id, intent.tier, self._clock.now()
            )
            if await tx.stars_renewals.add(renewal):
                await self._audit(tx, intent.user_id, "stars.subscription_started", renewal)
                await tx.commit()

    async def renewal_order(self, charge_id: str, order_id: str, amount: Money) -> str:
        """The order id a renewal ``charge_id`` of ``order_id`` is judged under: its
        renewal intent's (made now, or found when the renewal came before); the
        renewed order itself when it is no fulfilled Stars subscription of ours, so
        the verify path refuses it as it refuses any such payment."""
        try:
            renewed_id = OrderId.parse(order_id, self._keyring).intent_id
        except InvalidOrderId:
            return order_id
        async with self._uow() as tx:
            known = await tx.intents.by_payment(self._provider, charge_id)
            if known is not None:
                return self._order(known.id)
            try:
                renewed = await tx.intents.get(renewed_id)
            except NotFound:
                return order_id
            if not self._renewable(renewed, amount):
                return order_id
            intent = self._renewal_intent(renewed)
            await tx.intents.add(intent)
            await tx.audit.append(
                AuditRecord(
                    "system",
                    "intent.renewal",
                    f"intent:{intent.id}",
                    {"renews": str(renewed.id), "payment_id": charge_id},
                ),
                intent.created_at,
            )
            await tx.commit()
        return self._order(intent.id)

    def _renewable(self, renewed: PaymentIntent, amount: Money) -> bool:
        return (
            renewed.provider == self._provider
            and renewed.purpose is Purpose.SUBSCRIPTION
            and renewed.is_fulfilled
            and renewed.price.same_value(amount)
        )

    def _renewal_intent(self, renewed: PaymentIntent) -> PaymentIntent:
        now = self._clock.now()
        # Telegram has taken the Stars already: the intent starts past the open
        # statuses (an open checkout of the same tier may stand beside it), and the
        # renewal's payment moves it on as any payment does.
        return PaymentIntent(
            id=IntentId(self._ids.new_id()),
            purpose=Purpose.SUBSCRIPTION,
            user_id=renewed.user_id,
            channel_id=renewed.channel_id,
            price=renewed.price,
            provider=self._provider,
            created_at=now,
            updated_at=now,
            tier=renewed.tier,
            duration_days=renewed.duration_days,
            status=IntentStatus.CONFIRMING,
        )

    def _order(self, intent_id: IntentId) -> str:
        return str(OrderId.issue(intent_id, self._keyring))

    async def _audit(
        self, tx: UnitOfWork, actor: UserId, action: str, renewal: StarsRenewal
    ) -> None:
        await tx.audit.append(
            AuditRecord(
                f"user:{actor}",
                action,
                f"channel:{renewal.channel_id}",
                {"payment_id": renewal.charge_id, "tier": str(renewal.tier)},
            ),
            self._clock.now(),
        )


@attrs.define(eq=False)
class CancelStarsRenewal:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _control: RenewalControl

    async def execute(
        self, user_id: UserId, channel_id: ChannelId | None = None
    ) -> list[StarsRenewal]:
        """Stop the renewals of ``user_id``'s Stars subscriptions (to ``channel_id``,
        or to every channel): Telegram first, then the records. One Telegram refuses
        (ProviderRejected: it has no such live subscription, e.g. the subscriber
        canceled it in their app and it ended) renews no more either, and is kept as
        canceled with the refusal in the audit. Raises NoRenewal, or Unavailable
        (nothing is stored; asking again is safe)."""
        async with self._uow() as tx:
            live = [
                r
                for r in await tx.stars_renewals.of_user(user_id)
                if r.renews and channel_id in (None, r.channel_id)
            ]
        if not live:
            raise NoRenewal(Why.NO_RENEWAL)
        answers: dict[str, str] = {}
        for renewal in live:
            try:
                await self._control.stop_renewal(user_id, renewal.charge_id)
                answers[renewal.charge_id] = "canceled"
            except ProviderRejected:
                answers[renewal.charge_id] = "refused"
        now = self._clock.now()
        async with self._uow() as tx:
            for renewal in live:
                renewal.cancel(now)
                if await tx.stars_renewals.cancel(renewal):
                    await tx.audit.append(
                        AuditRecord(
                            f"user:{user_id}",
                            "stars.subscription_canceled",
                            f"channel:{renewal.channel_id}",
                            {
                                "payment_id": renewal.charge_id,
                                "telegram": answers[renewal.charge_id],
                            },
                        ),
                        now,
                    )
            await tx.commit()
        return live
