"""Issuing a hosted invoice for a payment intent: the path checkout and donations share.

The provider is never called inside a transaction: the intent is stored first (so
its order id exists before any invoice names it), the invoice is created outside
any transaction, then attached in a second short one. If the provider call fails
the intent stays open without an invoice and the next attempt reuses it.
"""

from __future__ import annotations

from datetime import timedelta

import attrs

from core.domain.audit import AuditRecord
from core.domain.channel import Channel
from core.domain.ids import IntentId, UserId
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.domain.order_id import OrderId
from core.domain.payment import PaymentIntent, Purpose
from core.domain.signing import MacKeyring
from core.ports.clock import Clock, IdGenerator
from core.ports.errors import Conflict
from core.ports.payments import InvoiceRequest, PaymentGateway
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory


@attrs.frozen
class InvoiceSettings:
    reuse_for: timedelta = timedelta(hours=1)
    """An open subscription intent younger than this is reused (same invoice link)."""


def invoice_settings(given: InvoiceSettings | None) -> InvoiceSettings:
    """None (a setting a container leaves unset) means the defaults."""
    return given or InvoiceSettings()


@attrs.frozen
class IssuedInvoice:
    intent_id: IntentId
    url: str
    price: Money
    reused: bool


@attrs.frozen
class InvoiceOrder:
    """What is being bought, as the use case decided it from stored data."""

    purpose: Purpose
    user_id: UserId
    channel: Channel
    price: Money
    description: str
    tier: int | None = None
    duration_days: int | None = None
    renews: bool = False
    """Sold as a subscription the provider renews itself (Telegram Stars, 30 days)."""


@attrs.define(eq=False)
class InvoiceIssuer:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _ids: IdGenerator
    _keyring: MacKeyring
    _gateway: PaymentGateway
    _settings: InvoiceSettings = attrs.field(default=None, converter=invoice_settings)

    async def issue(self, order: InvoiceOrder) -> IssuedInvoice:
        """Reuse the open intent for this user, channel and tier, or make one; make sure
        it has an invoice. Raises the gateway's ProviderRejected / Unavailable."""
        intent = await self._open_intent(order)
        if intent.invoice_url is not None:
            return IssuedInvoice(intent.id, intent.invoice_url, intent.price, reused=True)
        invoice = await self._gateway.create_invoice(
            InvoiceRequest(
                order_id=str(OrderId.issue(intent.id, self._keyring)),
                price=intent.price,
                description=order.description,
                renews=order.renews,
            )
        )
        async with self._uow() as tx:
            stored = await tx.intents.get(intent.id)
            if stored.invoice_url is not None:  # a concurrent attempt got there first
                return IssuedInvoice(stored.id, stored.invoice_url, stored.price, reused=True)
            now = self._clock.now()
            stored.attach_invoice(invoice.invoice_id, invoice.url, now)
            await tx.intents.update(stored)
            await tx.audit.append(
                AuditRecord(
                    f"user:{order.user_id}",
                    "intent.invoiced",
                    f"intent:{stored.id}",
                    {"provider": self._gateway.name, "invoice": invoice.invoice_id},
                ),
                now,
            )
            await tx.commit()
        return IssuedInvoice(stored.id, invoice.url, stored.price, reused=False)

    async def _open_intent(self, order: InvoiceOrder) -> PaymentIntent:
        for _ in range(3):
            try:
                async with self._uow() as tx:
                    intent = await self._reusable(tx, order)
                    if intent is None:
                        intent = await self._create(tx, order)
                    await tx.commit()
                    return intent
            except Conflict:
                # Another checkout for the same user, channel and tier committed first;
                # the next round finds and reuses its intent.
                continue
        raise Conflict("could not start the checkout; please try again")

    async def _reusable(self, tx: UnitOfWork, order: InvoiceOrder) -> PaymentIntent | None:
        if order.purpose is not Purpose.SUBSCRIPTION:
            return None
        intent = await tx.intents.find_open(
            order.user_id, order.channel.id, order.purpose, order.tier
        )
        if intent is None:
            return None
        now = self._clock.now()
        fresh = now - intent.created_at < self._settings.reuse_for
        same = (
            intent.provider == self._gateway.name
            and intent.price.same_value(order.price)
            and intent.duration_days == order.duration_days
        )
        if fresh and same:
            return intent
        # Superseded (old, or the tier changed): close it so a new one can be opened.
        # A payment that still arrives for it is recorded and alerted, never lost silently.
        previous = intent.status
        intent.move_to(IntentStatus.EXPIRED, now)
        await tx.intents.advance(intent, previous)
        await tx.audit.append(
            AuditRecord("system", "intent.superseded", f"intent:{intent.id}"), now
        )
        return None

    async def _create(self, tx: UnitOfWork, order: InvoiceOrder) -> PaymentIntent:
        now = self._clock.now()
        intent = PaymentIntent(
            id=IntentId(self._ids.new_id()),
            purpose=order.purpose,
            user_id=order.user_id,
            channel_id=order.channel.id,
            price=order.price,
            provider=self._gateway.name,
            created_at=now,
            updated_at=now,
            tier=order.tier,
            duration_days=order.duration_days,
        )
        await tx.intents.add(intent)
        details = {"price": str(order.price), "purpose": str(order.purpose)}
        if order.tier is not None:
            details["tier"] = str(order.tier)
        await tx.audit.append(
            AuditRecord(f"user:{order.user_id}", "intent.created", f"intent:{intent.id}", details),
            now,
        )
        return intent
