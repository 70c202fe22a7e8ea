"""What subscribers do: open an offer (``/start <token>`` or a Renew button),
confirm it to get the invoice link, see their subscriptions, ask for their link
again, read the help."""

from __future__ import annotations

from telegram import Update

from adapters.catalog import texts
from adapters.catalog.buttons import CONFIRM_PREFIX, RENEW_PREFIX, STARS_PREFIX
from adapters.inbound.telegram.deps import BotDeps
from adapters.inbound.telegram.errors import RateGate, tell
from adapters.inbound.telegram.parsing import channel_from_resend, token_from
from adapters.inbound.telegram.replies import Context, answer, replace, reply, send
from core.domain.ids import UserId
from core.domain.tier import Rail


class SubscriberHandlers:
    def __init__(self, deps: BotDeps, gate: RateGate) -> None:
        self._deps = deps
        self._gate = gate

    async def start(self, update: Update, context: Context) -> None:
        """``/start`` alone greets; ``/start <token>`` (an offer's deep link) shows the
        offer it names with a Confirm button."""
        if not context.args:
            await reply(update, context, texts.welcome())
            return
        token = context.args[0]
        found = await self._deps.resolve_offer.execute(token)
        await reply(update, context, texts.offer(found, token))

    async def renew(self, update: Update, context: Context) -> None:
        """A Renew button (``o:<token>``): the same offer as the deep link."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        token = token_from(query.data, RENEW_PREFIX)
        found = await self._deps.resolve_offer.execute(token)
        await send(context, query.from_user.id, texts.offer(found, token))
        await answer(query)

    async def confirm(self, update: Update, context: Context) -> None:
        """Confirm (``c:<token>``): the token is verified again, the price read from the
        stored channel, and the offer message becomes the invoice link."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        token = token_from(query.data, CONFIRM_PREFIX)
        found = await self._deps.resolve_offer.execute(token)
        await self._gate.checkout(query.from_user.id)
        invoice = await self._deps.checkout.execute(
            UserId(query.from_user.id), found.channel_id, found.tier.number
        )
        await replace(query, context, texts.subscription_invoice(found, invoice))
        await answer(query)

    async def confirm_stars(self, update: Update, context: Context) -> None:
        """Pay in Stars (``s:<token>``): as Confirm, on the Stars rail; the offer message
        becomes the Stars invoice link."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        token = token_from(query.data, STARS_PREFIX)
        found = await self._deps.resolve_offer.execute(token)
        await self._gate.checkout(query.from_user.id)
        invoice = await self._deps.checkout.execute(
            UserId(query.from_user.id), found.channel_id, found.tier.number, Rail.STARS
        )
        await replace(query, context, texts.stars_invoice(found, invoice))
        await answer(query)

    async def status(self, update: Update, context: Context) -> None:
        user = update.effective_user
        if user is None:
            return
        views = await self._deps.status.execute(UserId(user.id))
        await reply(update, context, texts.status(views))

    async def resend(self, update: Update, context: Context) -> None:
        """The "Send my link again" button (``a:<channel id>``): the use case checks that
        the person holds an active subscription to that channel."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        channel_id = channel_from_resend(query.data)
        await self._deps.resend.execute(UserId(query.from_user.id), channel_id)
        await answer(query, texts.link_on_its_way())

    async def help(self, update: Update, context: Context) -> None:
        """Every command this person can use: a subscriber's, an owner's (anyone with a
        channel), an operator's (``PAYGATE_OPERATOR_IDS``)."""
        user = update.effective_user
        if user is None:
            return
        async with self._deps.uow() as tx:
            owner = bool(await tx.channels.by_owner(UserId(user.id)))
        operator = UserId(user.id) in self._deps.operators
        await reply(update, context, texts.help_text(owner=owner, operator=operator))

    async def nothing_to_cancel(self, update: Update, context: Context) -> None:
        await reply(update, context, texts.nothing_to_cancel())

    async def not_understood(self, update: Update, context: Context) -> None:
        await reply(update, context, texts.not_understood())

    async def stale_button(self, update: Update, context: Context) -> None:
        await tell(update, context, texts.stale_button())
