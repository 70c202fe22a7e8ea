"""Reconciliation: a lost notification never loses a payment.

Intents still not final some time after they were made are looked up at their
provider and the provider's answer is applied through the very same use case as a
webhook (:class:`VerifyPaymentIntent`), with all its checks. An intent no
notification ever reported a payment for is looked up by its invoice: a payer whose
every webhook was lost (our endpoint down for longer than the provider retries) is
still let in. An intent whose invoice the provider lists no payment for (or whose
provider account cannot list payments) is closed as abandoned after a long while; a
payment that still arrives for it is recorded and alerted, never lost.

Each run takes the next page of candidates after where the previous run stopped,
starting over at the end: candidates that stay unfinished (invoices opened days ago
and not paid yet, a provider that keeps failing for one payment) would otherwise
fill every page and hide the payments behind them for good.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import attrs

from core.domain.audit import AuditRecord
from core.domain.ids import IntentId
from core.domain.intent_state import IntentStatus
from core.domain.payment import EventOutcome, PaymentIntent, ProviderNotification
from core.ports.clock import Clock
from core.ports.errors import NotFound, Unavailable
from core.ports.payments import (
    MalformedNotification,
    NotConfigured,
    PaymentGateway,
    ProviderRejected,
)
from core.ports.repositories import UnitOfWorkFactory
from core.services.verify_payment import VerifyPaymentIntent

_MOVED = {EventOutcome.APPLIED, EventOutcome.GRANTED, EventOutcome.UNDERPAID}


@attrs.frozen
class ReconcileSettings:
    look_after: timedelta = timedelta(minutes=30)
    """Leave the webhook this long to arrive before asking the provider."""
    abandon_after: timedelta = timedelta(days=7)
    batch_size: int = 100


def reconcile_settings(given: ReconcileSettings | None) -> ReconcileSettings:
    """None (a setting a container leaves unset) means the defaults."""
    return given or ReconcileSettings()


@attrs.frozen
class ReconcileReport:
    checked: int = 0
    applied: int = 0
    abandoned: int = 0
    failed: int = 0


def _by_name(gateways: Mapping[str, PaymentGateway]) -> dict[str, PaymentGateway]:
    return dict(gateways)  # its own copy: the caller's mapping may change


@attrs.define(eq=False)
class Reconcile:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _gateways: dict[str, PaymentGateway] = attrs.field(converter=_by_name)
    _verify: VerifyPaymentIntent
    _settings: ReconcileSettings = attrs.field(default=None, converter=reconcile_settings)
    _after: tuple[datetime, IntentId] | None = attrs.field(init=False, default=None)

    async def run_once(self) -> ReconcileReport:
        now = self._clock.now()
        batch = self._settings.batch_size
        async with self._uow() as tx:
            intents = list(
                await tx.intents.unfinished_before(
                    now - self._settings.look_after, batch, self._after
                )
            )
        # A short page is the end: the next run starts from the oldest again.
        self._after = (intents[-1].created_at, intents[-1].id) if len(intents) == batch else None
        checked = applied = abandoned = failed = 0
        for intent in intents:
            gateway = self._gateways.get(intent.provider)
            if gateway is None:
                continue
            checked += 1
            try:
                notifications = await self._provider_view(gateway, intent)
                results = await self._verify.execute_many(notifications)
            except (NotFound, Unavailable, ProviderRejected, MalformedNotification):
                failed += 1
                continue
            if any(isinstance(result, Unavailable) for result in results):
                failed += 1
            moved = [r for r in results if not isinstance(r, Unavailable) and r.outcome in _MOVED]
            applied += bool(moved)
            if not notifications and now - intent.created_at >= self._settings.abandon_after:
                abandoned += await self._abandon(intent)
        return ReconcileReport(checked, applied, abandoned, failed)

    async def _provider_view(
        self, gateway: PaymentGateway, intent: PaymentIntent
    ) -> list[ProviderNotification]:
        """What the provider says of the intent's payment(s) now: the payment a
        notification named, else every payment on the intent's invoice (none when the
        account cannot list them)."""
        if intent.payment_id is not None:
            return [await gateway.lookup_payment(intent.payment_id)]
        if intent.invoice_id is None:
            return []
        try:
            return list(await gateway.payments_for_invoice(intent.invoice_id))
        except NotConfigured:
            return []

    async def _abandon(self, intent: PaymentIntent) -> int:
        async with self._uow() as tx:
            now = self._clock.now()
            previous = intent.status
            if not intent.is_open:
                return 0
            intent.move_to(IntentStatus.EXPIRED, now)
            if not await tx.intents.advance(intent, previous):
                return 0  # a notification moved it meanwhile: not abandoned after all
            await tx.audit.append(
                AuditRecord("system", "intent.abandoned", f"intent:{intent.id}"), now
            )
            await tx.commit()
            return 1
