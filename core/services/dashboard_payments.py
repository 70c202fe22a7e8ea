"""The dashboard's Payments section, as use cases: find a payment by any of its ids,
show what we hold about it, and grant by hand the money that arrived late.

A payment is seen only by the owner of its channel (and by the operators); anyone
else's payment is reported as unknown, exactly like one that does not exist.

Grant by hand: when money arrives for an intent already closed unpaid (expired or
failed), the payment path records the notification as stale and alerts the
operators ("review and grant by hand", :func:`core.services.payment_judging.alert_for`).
The owner or an operator grants it here, with a reason: the intent is marked
fulfilled with that payment and what it buys is worked out by the same
:class:`~core.services.fulfilment.Fulfilment` and saved by the same
:meth:`~core.ports.payment_ledger.PaymentLedger.save`, whose expectations (the
intent's status, the subscription's version, one donation per intent, one grant per
period) make a second grant of it impossible, however often or concurrently it is
asked for. A payment already fulfilled is not granted again.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Sequence

import attrs

from core.domain.audit import AuditRecord
from core.domain.errors import DomainError, InvalidOrderId, UnknownChannel, Why
from core.domain.ids import IntentId
from core.domain.intent_state import IntentStatus, reaches_paying
from core.domain.order_id import OrderId
from core.domain.payment import EventOutcome, PaymentEvent, ProviderNotification
from core.domain.signing import MacKeyring
from core.ports.clock import Clock
from core.ports.errors import Conflict, Unavailable
from core.ports.payment_ledger import PaymentChanges
from core.ports.payment_lookup import PaymentLookup, PaymentRecord
from core.ports.repositories import UnitOfWorkFactory
from core.services.dashboard import OwnerDashboard, Viewer, required_reason
from core.services.fulfilment import Fulfilment
from core.services.payment_judging import PaymentPolicy, payment_policy

MAX_QUERY = 200
CLOSED_UNPAID = frozenset({IntentStatus.EXPIRED, IntentStatus.FAILED})


class UnknownPayment(DomainError):
    """No payment the viewer may see matches."""


class NotGrantable(DomainError):
    """The payment holds no late money to grant by hand."""


@attrs.frozen
class PaymentView:
    record: PaymentRecord
    channel_title: str
    late: PaymentEvent | None
    """The late notification a grant by hand would honour, if there is one."""


def late_money(record: PaymentRecord, policy: PaymentPolicy) -> PaymentEvent | None:
    """The newest notification that reported money for the intent after it was closed
    unpaid, at the intent's price; None when there is none or it was fulfilled."""
    intent = record.intent
    if intent.is_fulfilled or intent.status not in CLOSED_UNPAID:
        return None
    late = [
        event
        for event in record.events
        if event.outcome is EventOutcome.STALE
        and event.provider == intent.provider
        and event.parent_payment_id is None
        and event.price.same_value(intent.price)
        and reaches_paying(event.status, policy.paying_status)
    ]
    return late[-1] if late else None


@attrs.define(eq=False)
class DashboardPayments:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _keyring: MacKeyring
    _owners: OwnerDashboard
    _lookup: PaymentLookup
    _fulfilment: Fulfilment
    _policy: PaymentPolicy = attrs.field(default=None, converter=payment_policy)

    async def search(self, viewer: Viewer, text: str) -> Sequence[PaymentRecord]:
        """The payments whose order id (ours, as the provider shows it), intent id,
        invoice id or provider's payment id is ``text``, in the viewer's channels."""
        wanted = text.strip()[:MAX_QUERY]
        if not wanted:
            return []
        # Not our order id: an intent, invoice or payment id perhaps.
        with contextlib.suppress(InvalidOrderId):
            wanted = OrderId.parse(wanted, self._keyring).intent_id
        channels = None
        if not viewer.operator:
            channels = [c.id for c in await self._owners.channels(viewer)]
        found = await self._lookup.find(wanted, channels)
        records = [await self._lookup.record(intent.id) for intent in found]
        return [r for r in records if r is not None]

    async def payment(self, viewer: Viewer, intent_id: IntentId) -> PaymentView:
        """Raises UnknownPayment when it does not exist or the viewer may not see it."""
        record = await self._lookup.record(intent_id)
        if record is None:
            raise UnknownPayment(Why.NO_SUCH_PAYMENT)
        try:
            channel = await self._owners.channel(viewer, record.intent.channel_id)
        except UnknownChannel as exc:
            raise UnknownPayment(Why.NO_SUCH_PAYMENT) from exc
        return PaymentView(record, channel.title, late_money(record, self._policy))

    async def grant_by_hand(self, viewer: Viewer, intent_id: IntentId, reason: str) -> bool:
        """Fulfil the late money of ``intent_id``, saying why; audited with the person
        and the reason. False when the payment was fulfilled already (a second submit,
        or a grant that won a race). Raises UnknownPayment, NotGrantable (no reason, or
        no late money), Unavailable."""
        why = required_reason(reason)
        view = await self.payment(viewer, intent_id)
        if view.record.intent.is_fulfilled:
            return False
        late = view.late
        if late is None:
            raise NotGrantable(Why.NO_LATE_MONEY)
        try:
            return await self._grant(viewer, intent_id, late, why)
        except Conflict as exc:
            again = await self._lookup.record(intent_id)
            if again is not None and again.intent.is_fulfilled:
                return False
            raise Unavailable("the payment changed meanwhile; try again") from exc

    async def _grant(
        self, viewer: Viewer, intent_id: IntentId, late: PaymentEvent, why: str
    ) -> bool:
        async with self._uow() as tx:
            now = self._clock.now()
            book = await tx.payments.load([], [intent_id])
            stored = book.intents.get(intent_id)
            if stored is None:
                raise UnknownPayment(Why.NO_SUCH_PAYMENT)
            if stored.is_fulfilled:
                return False
            if stored.status not in CLOSED_UNPAID:
                raise NotGrantable(Why.NO_LATE_MONEY)
            intent = copy.copy(stored)  # the book stays as it was read
            intent.payment_id = late.payment_id
            intent.actually_paid = late.actually_paid
            intent.mark_fulfilled(now)
            paid = ProviderNotification(
                provider=late.provider,
                payment_id=late.payment_id,
                order_id=late.order_id,
                status=late.status,
                price=late.price,
                actually_paid=late.actually_paid,
            )
            record = AuditRecord(
                f"user:{viewer.user_id}",
                "payment.granted_by_hand",
                f"intent:{intent.id}",
                {"reason": why, "payment_id": late.payment_id, "status": str(late.status)},
            )
            changes = (
                PaymentChanges(moves=[(intent, stored.status)])
                .then(self._fulfilment.fulfil([(intent, paid)], book, now))
                .then(PaymentChanges(audit=[record]))
            )
            await tx.payments.save(changes, now)
            await tx.commit()
        return True


__all__ = ["DashboardPayments", "NotGrantable", "PaymentView", "UnknownPayment", "late_money"]
