"""Payments in Telegram Stars: the pre-checkout query answered on the stored intent
within Telegram's 10 s, the successful payment (a Stars subscription's first payment
and renewals too) applied through the payment path, ``/refund <charge id> <reason>``
for operators and channel owners, and ``/stoprenewal`` for subscribers."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update

from adapters.catalog import texts
from adapters.inbound.telegram.deps import BotDeps
from adapters.inbound.telegram.parsing import BadInput
from adapters.inbound.telegram.replies import Context, reply
from core.domain.ids import UserId
from core.ports.errors import Unavailable
from core.services.stars import Refusal, StarsCheckout, StarsPayment
from core.services.stars_renewals import NoRenewal

logger = logging.getLogger("paygate.bot")

PRE_CHECKOUT_BUDGET = 7.0
"""Seconds the check may take: Telegram waits 10 s for the answer, and the answer
itself is a call to Telegram."""
PAYMENT_ROUNDS = 3
"""Tries to record a successful payment whose store is unavailable for a moment."""


class StarsHandlers:
    def __init__(self, deps: BotDeps) -> None:
        self._deps = deps

    async def pre_checkout(self, update: Update, context: Context) -> None:
        query = update.pre_checkout_query
        if query is None:
            return
        refusal: Refusal | None = Refusal.UNKNOWN
        checked = True
        if self._deps.pre_checkout is not None:
            asked = StarsCheckout(
                UserId(query.from_user.id),
                query.invoice_payload,
                query.total_amount,
                query.currency,
            )
            try:
                async with asyncio.timeout(PRE_CHECKOUT_BUDGET):
                    refusal = await self._deps.pre_checkout.execute(asked)
            except (TimeoutError, Unavailable) as exc:
                logger.warning("pre-checkout %s not checked in time: %s", query.id, exc)
                checked = False
        if checked and refusal is None:
            await query.answer(ok=True)
        else:
            await query.answer(
                ok=False, error_message=texts.pre_checkout_refused(refusal if checked else None)
            )

    async def successful_payment(self, update: Update, context: Context) -> None:
        message = update.effective_message
        paid = None if message is None else message.successful_payment
        if message is None or paid is None or message.from_user is None:
            return
        if self._deps.stars_payment is None:
            logger.error("a Stars payment arrived but Stars are off: %s", paid.invoice_payload)
            return
        payment = StarsPayment(
            UserId(message.from_user.id),
            paid.telegram_payment_charge_id,
            paid.invoice_payload,
            paid.total_amount,
            paid.currency,
            recurring=bool(paid.is_recurring),
            first_recurring=bool(paid.is_first_recurring),
        )
        for round_ in range(PAYMENT_ROUNDS):
            try:
                await self._deps.stars_payment.execute(payment)
                return
            except Unavailable:
                if round_ == PAYMENT_ROUNDS - 1:
                    raise
                await asyncio.sleep(0.5 * 2**round_)

    async def refund(self, update: Update, context: Context) -> None:
        """``/refund <charge id> <reason>``: operators for any payment, owners for their
        channels' payments."""
        user = update.effective_user
        if user is None:
            return
        args = context.args or []
        if len(args) < 2:
            raise BadInput(texts.refund_usage())
        if self._deps.stars_refund is None:
            raise BadInput(texts.stars_off())
        actor = UserId(user.id)
        intent = await self._deps.stars_refund.execute(
            actor, args[0], " ".join(args[1:]), operator=actor in self._deps.operators
        )
        await reply(update, context, texts.refunded(args[0], intent.price))

    async def stop_renewal(self, update: Update, context: Context) -> None:
        """``/stoprenewal``: the subscriber's Stars subscriptions renew no more; what
        they paid for lasts to its end."""
        user = update.effective_user
        if user is None:
            return
        if self._deps.cancel_renewal is None:
            raise BadInput(texts.stars_off())
        try:
            stopped = await self._deps.cancel_renewal.execute(UserId(user.id))
        except NoRenewal as exc:
            raise BadInput(texts.no_renewal()) from exc
        await reply(update, context, texts.renewal_stopped(len(stopped)))
