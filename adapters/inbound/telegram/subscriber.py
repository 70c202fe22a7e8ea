"""What subscribers do: open an offer (``/start <token>`` or a Renew button),
confirm it to get the invoice link, see their subscriptions, ask for their link
again, read the help."""

from __future__ import annotations

from telegram import Update

from adapters.catalog import coupon_texts, texts
from adapters.catalog.buttons import CONFIRM_PREFIX, COUPON_START, RENEW_PREFIX, STARS_PREFIX
from adapters.catalog.message import OutgoingMessage
from adapters.inbound.telegram.coupons import CouponHandlers
from adapters.inbound.telegram.deps import BotDeps
from adapters.inbound.telegram.errors import RateGate, tell
from adapters.inbound.telegram.parsing import channel_from_resend, token_from
from adapters.inbound.telegram.replies import Context, answer, replace, reply, send
from core.domain.ids import UserId
from core.domain.tier import Rail
from core.domain.trial import TRIAL_TIER
from core.services.checkout import Offer, TrialOffering


class SubscriberHandlers:
    def __init__(self, deps: BotDeps, gate: RateGate, coupons: CouponHandlers) -> None:
        self._deps = deps
        self._gate = gate
        self._coupons = coupons

    async def start(self, update: Update, context: Context) -> None:
        """``/start`` alone greets; ``/start <token>`` (an offer's deep link) shows the
        offer it names with a Confirm button; ``/start c-CODE`` redeems a code."""
        if not context.args:
            await reply(update, context, texts.welcome())
            return
        token = context.args[0]
        if token.startswith(COUPON_START):
            await self._coupons.redeem_code(update, context, token[len(COUPON_START) :])
            return
        user = update.effective_user
        found = await self._deps.resolve_offer.any(token)
        if user is not None:
            await reply(update, context, await self._shown(found, token, UserId(user.id)))

    async def renew(self, update: Update, context: Context) -> None:
        """A Renew button (``o:<token>``): the same offer as the deep link."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        token = token_from(query.data, RENEW_PREFIX)
        found = await self._deps.resolve_offer.any(token)
        shown = await self._shown(found, token, UserId(query.from_user.id))
        await send(context, query.from_user.id, shown)
        await answer(query)

    async def _shown(
        self, found: Offer | TrialOffering, token: str, user_id: UserId
    ) -> OutgoingMessage:
        """What an offer's deep link shows: the tier with its Confirm button; a paid
        trial the same way; a free trial is taken at once (once per person, ever)."""
        if isinstance(found, Offer):
            return await self._offer(found, token, user_id)
        if found.trial.is_free:
            started = await self._deps.take_trial.execute(user_id, found.channel_id)
            return texts.trial_started(started)
        await self._deps.take_trial.ensure_eligible(user_id, found.channel_id)
        return texts.trial_offer(found, token)

    async def _offer(self, found: Offer, token: str, user_id: UserId) -> OutgoingMessage:
        """The offer, with the prices the person's redeemed code gives them (issue 21)."""
        message = texts.offer(found, token)
        prices = self._deps.coupon_prices
        if prices is None:
            return message
        lowered = await prices.on_offer(user_id, found.channel_id, found.tier.number, found.rails)
        if lowered is None:
            return message
        return coupon_texts.with_discount(message, lowered, found.tier, token)

    async def confirm(self, update: Update, context: Context) -> None:
        """Confirm (``c:<token>``): the token is verified again, the price read from the
        stored channel, and the offer message becomes the invoice link."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        token = token_from(query.data, CONFIRM_PREFIX)
        found = await self._deps.resolve_offer.any(token)
        await self._gate.checkout(query.from_user.id)
        user_id = UserId(query.from_user.id)
        if isinstance(found, TrialOffering):
            invoice = await self._deps.checkout.execute(user_id, found.channel_id, TRIAL_TIER)
            await replace(query, context, texts.trial_invoice(found, invoice))
        else:
            invoice = await self._deps.checkout.execute(
                user_id, found.channel_id, found.tier.number
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
