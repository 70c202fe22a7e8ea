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

import attrs

from core.domain.errors import InvalidOrderId
from core.domain.ids import IntentId
from core.domain.order_id import OrderId
from core.domain.payment import ProviderNotification
from core.domain.signing import MacKeyring
from core.ports.alerts import AlertSink
from core.ports.clock import Clock
from core.ports.errors import Conflict, Unavailable
from core.ports.repositories import UnitOfWorkFactory
from core.services.fulfilment import Fulfilment
from core.services.payment_batches import BatchItem, one_per_buyer, one_per_intent
from core.services.payment_judging import (
    MAX_TOLERANCE,
    PaymentPolicy,
    VerificationResult,
    alert_for,
    payment_policy,
    settle,
)

__all__ = ["MAX_TOLERANCE", "PaymentPolicy", "VerificationResult", "VerifyPaymentIntent"]


@attrs.define(eq=False)
class VerifyPaymentIntent:
    """Applies notifications one at a time (:meth:`execute`) or a batch of them in
    one unit of work (:meth:`execute_many`), with one statement per step for the
    whole batch: under load the webhook hands over every notification that arrived
    while the previous batch was being written. A notification is judged by the
    same rules either way; a batch of one is the single case."""

    MAX_ROUNDS = 5
    """Units of work one notification gets to win its races before it is answered
    Unavailable (the provider resends)."""

    _uow: UnitOfWorkFactory
    _clock: Clock
    _keyring: MacKeyring
    _fulfilment: Fulfilment
    _alerts: AlertSink
    _policy: PaymentPolicy = attrs.field(default=None, converter=payment_policy)
    _payment_pages: str | None = None
    """The dashboard's payment pages (``PAYGATE_PUBLIC_URL/dashboard/payments/``) when
    it is on: late money's alert links to its page, where it is granted by hand."""

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
        """Apply ``batch`` in one unit of work: one load of what it needs, one save of
        what it changes. The results, and the items left for a following batch (a
        second payment of a (user, channel) already in this one)."""
        async with self._uow() as tx:
            now = self._clock.now()
            keys = [item.event_key for item in batch]
            known = {i.intent_id for i in batch if i.intent_id is not None}
            book = await tx.payments.load(keys, known)
            batch, postponed = one_per_buyer(batch, book.intents)
            settled = settle(batch, book, now, self._policy, self._fulfilment)
            await tx.payments.save(settled.changes, now)
            await tx.commit()
        results: dict[int, VerificationResult | Unavailable] = dict(settled.results)
        return results, postponed

    async def _alert(self, n: ProviderNotification, result: VerificationResult) -> None:
        alert = alert_for(n, result, self._payment_pages)
        if alert is not None:
            await self._alerts.send(alert)
