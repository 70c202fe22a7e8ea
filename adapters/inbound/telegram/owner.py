"""What channel owners do in the bot: register (or reclaim) a channel pair, list
their channels, view and set tiers and donation limits, ask for a fresh offer post,
resume paused sales.

Owners name their channels by the number /channels shows, counted among their own
channels only, so nobody can even point at someone else's channel; the use cases
check ownership all the same. /register step by step is a conversation (see
:mod:`conversation`) that remembers the chats given so far.
"""

from __future__ import annotations

from telegram import Bot, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import filters

from adapters.catalog import texts
from adapters.inbound.telegram.conversation import Route, Superseded, Turn, command, message
from adapters.inbound.telegram.deps import BotDeps
from adapters.inbound.telegram.errors import describe, log_failure
from adapters.inbound.telegram.parsing import (
    BadInput,
    parse_bounds,
    parse_chat_ref,
    parse_stars_link,
    parse_tiers,
    parse_trial,
)
from adapters.inbound.telegram.queries import ChannelViews
from adapters.inbound.telegram.replies import Context, reply
from adapters.inbound.telegram.updates import forwarded_chat_id
from core.domain.channel import Channel, PayoutWallet
from core.domain.errors import ClosedToSellers, DomainError
from core.domain.ids import ChatId, UserId
from core.ports.conversations import Conversation

OPEN = "register.open"
CLOSED = "register.closed"
TITLE = "register.title"
"""/register's steps: waiting for the open channel, the closed one, the title."""

_BUNDLE_ACTS = ("add", "remove")
"""What /bundle does to the channels after the home channel's number."""

_OPEN_CHAT = "open"
_CLOSED_CHAT = "closed"


class OwnerHandlers:
    def __init__(self, deps: BotDeps, views: ChannelViews) -> None:
        self._deps = deps
        self._views = views

    # ----------------------------------------------------------- /register
    def entry_routes(self) -> list[Route]:
        return [command("register", self.begin)]

    def step_routes(self) -> dict[str, list[Route]]:
        private = filters.ChatType.PRIVATE
        chat_reference = private & ((filters.TEXT & ~filters.COMMAND) | filters.FORWARDED)
        return {
            OPEN: [message(chat_reference, self.got_open)],
            CLOSED: [message(chat_reference, self.got_closed)],
            TITLE: [message(private & filters.TEXT & ~filters.COMMAND, self.got_title)],
        }

    async def begin(self, turn: Turn) -> None:
        """``/register`` asks step by step; ``/register <open> <closed> <title>`` does it
        at once (open and closed as ``@username``, ``t.me`` link or id)."""
        update, context = turn.update, turn.context
        args = context.args or []
        if not await self._may_register(update, context):
            return
        if not args:
            await turn.start(Conversation(OPEN))
            await reply(update, context, texts.register_open())
            return
        if len(args) < 3:
            raise BadInput(texts.register_usage())
        open_chat = await self._resolve(context, parse_chat_ref(args[0]))
        closed_chat = await self._resolve(context, parse_chat_ref(args[1]))
        await self._finish(update, context, open_chat, closed_chat, " ".join(args[2:]))

    async def _may_register(self, update: Update, context: Context) -> bool:
        """Whether the sender may sell here, asked before anything else. With requests
        to sell (``PAYGATE_SELLERS=approval``) someone who may not yet files one and
        is told the operators were asked; otherwise ClosedToSellers says no."""
        user = update.effective_user
        if user is None:
            return False
        try:
            await self._deps.register.ensure_may_sell(UserId(user.id))
        except ClosedToSellers:
            requests = self._deps.seller_requests
            if requests is None:
                raise
            name = user.full_name + (f" @{user.username}" if user.username else "")
            asked = await requests.ask(UserId(user.id), name)
            await reply(update, context, texts.seller_asked(asked))
            return False
        return True

    async def got_open(self, turn: Turn) -> None:
        """The open channel (forwarded message, @name, link or id); then the closed one."""
        open_chat = await self._chat_from(turn.update, turn.context)
        if not await turn.move(Conversation(CLOSED, {_OPEN_CHAT: open_chat})):
            raise Superseded
        await reply(turn.update, turn.context, texts.register_closed())

    async def got_closed(self, turn: Turn) -> None:
        """The closed channel, which must be another chat than the open one."""
        closed_chat = await self._chat_from(turn.update, turn.context)
        open_chat = turn.conversation.number(_OPEN_CHAT)
        if closed_chat == open_chat:
            raise BadInput(texts.register_same_chat())
        collected = {_OPEN_CHAT: open_chat, _CLOSED_CHAT: closed_chat}
        if not await turn.move(Conversation(TITLE, collected)):
            raise Superseded
        await reply(turn.update, turn.context, texts.register_title())

    async def got_title(self, turn: Turn) -> None:
        """The title: the pair is registered (the use case checks the bot's and the
        owner's rights in both chats), and the conversation is over either way."""
        update, context = turn.update, turn.context
        collected = turn.conversation
        title = update.effective_message
        if title is None:
            return
        # Ended before registering: whatever happens next, the owner starts over, and
        # a title sent twice in a hurry registers once.
        if not await turn.end():
            raise Superseded
        try:
            await self._finish(
                update,
                context,
                collected.number(_OPEN_CHAT),
                collected.number(_CLOSED_CHAT),
                title.text or "",
            )
        except DomainError as error:
            # Rights or ownership missing: nothing typed now can fix that, so the
            # conversation ends and the owner starts over once it is fixed.
            log_failure(update, error)
            await reply(update, context, texts.register_again(describe(error)))

    async def cancelled(self, update: Update, context: Context, conversation: Conversation) -> None:
        await reply(update, context, texts.register_cancelled())

    async def timed_out(self, bot: Bot, user_id: UserId, conversation: Conversation) -> None:
        # /register is only ever asked in the owner's private chat, whose id is theirs.
        await bot.send_message(user_id, texts.register_timed_out())

    async def _finish(
        self, update: Update, context: Context, open_chat: int, closed_chat: int, title: str
    ) -> None:
        user = update.effective_user
        if user is None:
            return
        registration = await self._deps.register.register(
            UserId(user.id), ChatId(open_chat), ChatId(closed_chat), title
        )
        channel = registration.channel
        owned = await self._views.owned_by(UserId(user.id))
        number = next((i for i, c in enumerate(owned, start=1) if c.id == channel.id), len(owned))
        if registration.reclaimed_from is not None:
            await reply(update, context, texts.reclaimed(channel, number))
            return
        await reply(update, context, texts.registered(channel, number))

    async def _chat_from(self, update: Update, context: Context) -> int:
        message = update.effective_message
        if message is None:
            raise BadInput(texts.register_open())
        forwarded = forwarded_chat_id(message)
        if forwarded is not None:
            return forwarded
        return await self._resolve(context, parse_chat_ref(message.text or ""))

    @staticmethod
    async def _resolve(context: Context, reference: int | str) -> int:
        if isinstance(reference, int):
            return reference
        try:
            chat = await context.bot.get_chat(reference)
        except BadRequest as exc:
            raise BadInput(texts.chat_not_found(reference)) from exc
        return chat.id

    # --------------------------------------------------- commands at once
    async def channels(self, update: Update, context: Context) -> None:
        user = update.effective_user
        if user is None:
            return
        owned = await self._views.owned_by(UserId(user.id))
        await reply(update, context, texts.channels(owned, self._deps.clock.now()))

    async def tiers(self, update: Update, context: Context) -> None:
        """``/tiers`` lists; ``/tiers 1`` shows channel 1; ``/tiers 1 1=10USD/30d …`` sets."""
        user = update.effective_user
        if user is None:
            return
        owner = UserId(user.id)
        args = context.args or []
        if not args:
            owned = await self._views.owned_by(owner)
            now = self._deps.clock.now()
            await reply(update, context, texts.tiers(list(enumerate(owned, start=1)), now))
            return
        number, channel = await self._views.numbered(owner, args[0])
        if len(args) == 1:
            await reply(update, context, texts.tiers([(number, channel)], self._deps.clock.now()))
            return
        tiers = parse_tiers(args[1:])
        if self._deps.stars_refund is None and any(t.stars_price for t in tiers):
            raise BadInput(texts.stars_off())
        saved = await self._deps.set_tiers.execute(owner, channel.id, tiers)
        await reply(update, context, texts.tiers_saved(saved, self._deps.clock.now()))

    async def trial(self, update: Update, context: Context) -> None:
        """``/trial 1 7d`` (free), ``/trial 1 3d 1USD`` (paid), ``/trial 1 off``;
        ``/trial`` alone lists the channels' trials."""
        user = update.effective_user
        if user is None:
            return
        owner = UserId(user.id)
        args = context.args or []
        if not args:
            owned = await self._views.owned_by(owner)
            now = self._deps.clock.now()
            await reply(update, context, texts.tiers(list(enumerate(owned, start=1)), now))
            return
        _, channel = await self._views.numbered(owner, args[0])
        trial = parse_trial(args[1:])
        saved = await self._deps.set_trial.execute(owner, channel.id, trial)
        await reply(update, context, texts.trial_saved(saved))

    async def stars_link(self, update: Update, context: Context) -> None:
        """``/stars_link 1 500``: Telegram's own Stars subscription link for channel 1
        at 500 Stars every 30 days, shown on its offer; ``/stars_link 1 off``."""
        user = update.effective_user
        if user is None:
            return
        owner = UserId(user.id)
        args = context.args or []
        if len(args) < 2:
            raise BadInput(texts.stars_link_usage())
        _, channel = await self._views.numbered(owner, args[0])
        stars = parse_stars_link(args[1:])
        saved = await self._deps.stars_link.execute(owner, channel.id, stars)
        await reply(update, context, texts.stars_link_saved(saved))

    async def donations(self, update: Update, context: Context) -> None:
        """``/donations 1 1USD-500USD`` sets the limits; ``/donations 1 off`` stops them."""
        user = update.effective_user
        if user is None:
            return
        owner = UserId(user.id)
        args = context.args or []
        if len(args) < 2:
            owned = await self._views.owned_by(owner)
            await reply(update, context, texts.donations(list(enumerate(owned, start=1))))
            return
        _, channel = await self._views.numbered(owner, args[0])
        bounds = parse_bounds(" ".join(args[1:]))
        saved = await self._deps.set_donations.execute(owner, channel.id, bounds)
        await reply(update, context, texts.donations_saved(saved))

    async def wallet(self, update: Update, context: Context) -> None:
        """``/wallet`` lists (masked); ``/wallet 1 btc <address>`` sets channel 1's
        payout wallet; ``/wallet 1 off`` clears it. Only a masked form is ever shown."""
        user = update.effective_user
        if user is None:
            return
        owner = UserId(user.id)
        args = context.args or []
        if len(args) < 2:
            owned = await self._views.owned_by(owner)
            await reply(update, context, texts.wallets(list(enumerate(owned, start=1))))
            return
        _, channel = await self._views.numbered(owner, args[0])
        if len(args) == 2 and args[1].lower() == "off":
            wallet = None
        elif len(args) == 3:
            wallet = PayoutWallet.parse(args[1], args[2])
        else:
            raise BadInput(texts.wallet_usage())
        saved = await self._deps.set_wallet.execute(owner, channel.id, wallet)
        await reply(update, context, texts.wallet_saved(saved))

    async def bundle(self, update: Update, context: Context) -> None:
        """``/bundle 1`` shows what channel 1's subscription opens; ``/bundle 1 add 2 3``
        adds channels 2 and 3 to it; ``/bundle 1 remove 3`` takes 3 out."""
        user = update.effective_user
        if user is None:
            return
        owner = UserId(user.id)
        args = context.args or []
        if not args or len(args) == 2 or (len(args) > 2 and args[1].lower() not in _BUNDLE_ACTS):
            raise BadInput(texts.bundle_usage())
        number, home = await self._views.numbered(owner, args[0])
        owned = await self._views.owned_by(owner)
        numbers = {channel.id: index for index, channel in enumerate(owned, start=1)}
        if len(args) == 1:
            shown = await self._deps.bundles.show(owner, home.id)
            await reply(update, context, texts.bundle(number, shown, numbers))
            return
        members = [(await self._views.numbered(owner, word))[1].id for word in args[2:]]
        if args[1].lower() == "add":
            saved = await self._deps.bundles.add(owner, home.id, members)
        else:
            saved = await self._deps.bundles.remove(owner, home.id, members)
        await reply(update, context, texts.bundle_saved(number, saved, numbers))

    async def repost(self, update: Update, context: Context) -> None:
        """``/repost 1``: a fresh offer in channel 1's open channel now (with a cooldown)."""
        user = update.effective_user
        if user is None:
            return
        _, channel = await self._channel_named(user.id, context, "repost")
        report = await self._deps.publish.refresh_now(channel.id)
        await reply(update, context, texts.reposted(channel.title, report.posted, report.paused))

    async def resume(self, update: Update, context: Context) -> None:
        """``/resume 1``: the bot's rights in both chats of channel 1 are checked, and
        its sales resume if both are in order; otherwise the owner reads what the bot
        lacks in which chat."""
        user = update.effective_user
        if user is None:
            return
        number, channel = await self._channel_named(user.id, context, "resume")
        outcome = await self._deps.resume.execute(UserId(user.id), channel.id)
        title = outcome.channel.title
        if outcome.shortfalls:
            named = [(await _chat_name(context, s.chat_id), s) for s in outcome.shortfalls]
            paused = outcome.channel.sales_paused
            await reply(update, context, texts.resume_refused(title, number, named, paused))
        elif outcome.resumed:
            await reply(update, context, texts.resumed(title))
        else:
            await reply(update, context, texts.not_paused(title))

    async def _channel_named(
        self, user_id: int, context: Context, command: str
    ) -> tuple[int, Channel]:
        """The owner's channel whose /channels number is the command's argument."""
        args = context.args or []
        if not args:
            raise BadInput(texts.command_usage(command))
        return await self._views.numbered(UserId(user_id), args[0])


async def _chat_name(context: Context, chat_id: int) -> str | None:
    """The chat's title as its members see it; None when Telegram will not say (the
    bot is not in it any more)."""
    try:
        chat = await context.bot.get_chat(chat_id)
    except TelegramError:
        return None
    return chat.title or chat.username
