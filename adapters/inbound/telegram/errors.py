"""The bot's one mapping from failures to what people read, and its rate limits.

A business rule's refusal (DomainError) is shown as the catalog words its reason
(:mod:`adapters.catalog.refusals`), in the person's language; an unreachable
dependency asks them to try again in a minute; anything else gets a generic apology
while the details go to the log.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import NetworkError, RetryAfter
from telegram.ext import ApplicationHandlerStop

from adapters.catalog import texts
from adapters.catalog.refusals import Worded, refusal
from adapters.inbound.telegram.replies import Context, answer, reply
from core.domain.errors import DomainError
from core.ports.errors import Unavailable
from core.ports.payments import ProviderRejected
from core.ports.security import RateLimiter

logger = logging.getLogger("paygate.bot")


class SlowDown(Worded):
    """The person asked for more than their rate allows."""


def describe(error: BaseException) -> str:
    """The sentence a person sees for ``error``."""
    if isinstance(error, Worded):
        return _sentence(error.text) or texts.generic_failure()
    if isinstance(error, DomainError):
        return refusal(error)
    if isinstance(error, Unavailable | NetworkError | RetryAfter):
        # NetworkError: Telegram itself did not answer one of our calls.
        return texts.unavailable()
    if isinstance(error, ProviderRejected):
        return texts.provider_refused()
    return texts.generic_failure()


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def log_failure(update: object, error: BaseException) -> None:
    """Expected refusals are not news; everything else is logged with its traceback.
    Only the update's id is logged: its content is other people's messages."""
    update_id = update.update_id if isinstance(update, Update) else None
    fields = {"update_id": update_id, "error": type(error).__name__}
    if isinstance(error, DomainError):
        logger.info("update %s refused: %s", update_id, type(error).__name__, extra=fields)
    elif isinstance(error, Unavailable | NetworkError | RetryAfter):
        logger.warning("update %s: a dependency is unavailable: %s", update_id, error, extra=fields)
    elif isinstance(error, ProviderRejected):
        logger.error(
            "update %s: the payment provider refused an invoice: %s",
            update_id,
            error,
            extra=fields,
        )
    else:
        logger.error("update %s failed", update_id, exc_info=error, extra=fields)


async def tell(update: Update, context: Context, text: str) -> None:
    """Show ``text`` to the person behind ``update``: as the pressed button's alert,
    or as a message in their private chat."""
    query = update.callback_query
    if query is not None:
        await answer(query, text, alert=True)
        return
    await reply(update, context, text)


async def answer_failure(update: object, context: Context, error: BaseException) -> None:
    """Log ``error`` and tell the person behind ``update`` what it means for them."""
    log_failure(update, error)
    if isinstance(update, Update):
        try:
            await tell(update, context, describe(error))
        except Exception:
            logger.warning("could not tell the user about a failure", exc_info=True)


async def on_error(update: object, context: Context) -> None:
    """PTB's error handler: every failure of every ordinary handler ends here (the
    conversation router answers its own, the same way)."""
    error = context.error
    if error is None:
        return
    await answer_failure(update, context, error)


class RateGate:
    """Per-user token buckets. Every message and button press from a person takes
    ``command_cost`` tokens; each invoice request also takes ``checkout_cost`` from a
    second bucket, so invoice spam cannot turn into provider calls.

    A limiter outage lets people through (logged): refusing every subscriber because
    the limiter's store is down would be worse than a burst of traffic."""

    def __init__(self, limiter: RateLimiter, command_cost: int, checkout_cost: int) -> None:
        self._limiter = limiter
        self._command_cost = command_cost
        self._checkout_cost = checkout_cost

    async def gate(self, update: Update, context: Context) -> None:
        """Runs before every handler (group -1); stops the update when over the limit."""
        user = update.effective_user
        if user is None or (update.message is None and update.callback_query is None):
            return
        if update.message is not None and update.message.successful_payment is not None:
            return  # money taken: never dropped, whatever the payer's pace
        try:
            decision = await self._limiter.hit(f"bot:cmd:{user.id}", self._command_cost)
        except Unavailable:
            logger.warning("rate limiter unavailable; letting user updates through")
            return
        if decision.allowed:
            return
        if update.callback_query is not None:
            await answer(update.callback_query, texts.slow_down(decision.retry_after))
        elif await self._first_notice(user.id, decision.limit):
            await reply(update, context, texts.slow_down(decision.retry_after))
        raise ApplicationHandlerStop

    async def _first_notice(self, user_id: int, capacity: int) -> bool:
        # A flood answered message for message would make us the spammer: the notice
        # costs a whole bucket of its own, so it goes out once per refill.
        try:
            notice = await self._limiter.hit(f"bot:notice:{user_id}", capacity)
        except Unavailable:
            return False
        return notice.allowed

    async def checkout(self, user_id: int) -> None:
        """Raises SlowDown when this person asked for too many invoices lately."""
        try:
            decision = await self._limiter.hit(f"bot:checkout:{user_id}", self._checkout_cost)
        except Unavailable:
            logger.warning("rate limiter unavailable; letting a checkout through")
            return
        if not decision.allowed:
            raise SlowDown(texts.slow_down_checkout(decision.retry_after))
