"""What channel owners do in the bot: register a channel pair, list their channels,
view and set tiers and donation limits, ask for a fresh offer post.

Owners name their channels by the number /channels shows, counted among their own
channels only, so nobody can even point at someone else's channel; the use cases
check ownership all the same.
"""

from __future__ import annotations

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import CommandHandler, ConversationHandler, MessageHandler, filters

from adapters.inbound.telegram import texts
from adapters.inbound.telegram.conversation import ACTIVE, Handler, user_data
from adapters.inbound.telegram.deps import BotDeps
from adapters.inbound.telegram.errors import describe, guarded, log_failure
from adapters.inbound.telegram.parsing import BadInput, parse_bounds, parse_chat_ref, parse_tiers
from adapters.inbound.telegram.queries import ChannelViews
from adapters.inbound.telegram.replies import Context, reply
from adapters.inbound.telegram.updates import forwarded_chat_id
from core.domain.errors import DomainError
from core.domain.ids import ChatId, UserId

OPEN, CLOSED, TITLE = "open", "closed", "title"
END = ConversationHandler.END
REGISTER_CONVERSATION = "register"

_OPEN = "register_open"
_CLOSED = "register_closed"

REGISTER_USAGE = (
    "write /register <open channel> <closed channel> <title>, "
    "or just /register and I will ask for each"
)


class OwnerHandlers:
    def __init__(self, deps: BotDeps, views: ChannelViews) -> None:
        self._deps = deps
        self._views = views

    # ----------------------------------------------------------- /register
    @property
    def name(self) -> str:
        return REGISTER_CONVERSATION

    def entry_points(self) -> list[Handler]:
        return [
            CommandHandler("register", guarded(self.begin, END), filters=filters.ChatType.PRIVATE)
        ]

    def states(self) -> dict[object, list[Handler]]:
        private = filters.ChatType.PRIVATE
        chat_reference = private & ((filters.TEXT & ~filters.COMMAND) | filters.FORWARDED)
        return {
            OPEN: [MessageHandler(chat_reference, guarded(self.got_open, OPEN))],
            CLOSED: [MessageHandler(chat_reference, guarded(self.got_closed, CLOSED))],
            TITLE: [
                MessageHandler(
                    private & filters.TEXT & ~filters.COMMAND, guarded(self.got_title, END)
                )
            ],
        }

    async def begin(self, update: Update, context: Context) -> object:
        """``/register`` asks step by step; ``/register <open> <closed> <title>`` does it
        at once (open and closed as ``@username``, ``t.me`` link or id)."""
        args = context.args or []
        if not args:
            _forget(context)
            user_data(context)[ACTIVE] = REGISTER_CONVERSATION
            await reply(update, context, texts.REGISTER_OPEN)
            return OPEN
        if len(args) < 3:
            raise BadInput(REGISTER_USAGE)
        open_chat = await self._resolve(context, parse_chat_ref(args[0]))
        closed_chat = await self._resolve(context, parse_chat_ref(args[1]))
        await self._finish(update, context, open_chat, closed_chat, " ".join(args[2:]))
        return END

    async def got_open(self, update: Update, context: Context) -> object:
        user_data(context)[_OPEN] = await self._chat_from(update, context)
        await reply(update, context, texts.REGISTER_CLOSED)
        return CLOSED

    async def got_closed(self, update: Update, context: Context) -> object:
        closed_chat = await self._chat_from(update, context)
        if closed_chat == user_data(context).get(_OPEN):
            raise BadInput(texts.REGISTER_SAME_CHAT)
        user_data(context)[_CLOSED] = closed_chat
        await reply(update, context, texts.REGISTER_TITLE)
        return TITLE

    async def got_title(self, update: Update, context: Context) -> object:
        data = user_data(context)
        open_chat, closed_chat = data.pop(_OPEN, None), data.pop(_CLOSED, None)
        message = update.effective_message
        if not isinstance(open_chat, int) or not isinstance(closed_chat, int) or message is None:
            await reply(update, context, texts.REGISTER_TIMED_OUT)
            return END
        try:
            await self._finish(update, context, open_chat, closed_chat, message.text or "")
        except DomainError as error:
            # Rights or ownership missing: nothing typed now can fix that, so the
            # conversation ends and the owner starts over once it is fixed.
            log_failure(update, error)
            await reply(update, context, texts.register_again(describe(error)))
        return END

    async def cancel(self, update: Update, context: Context) -> object:
        _forget(context)
        await reply(update, context, texts.REGISTER_CANCELLED)
        return END

    async def timed_out(self, update: object, context: Context) -> None:
        _forget(context)
        if isinstance(update, Update):
            await reply(update, context, texts.REGISTER_TIMED_OUT)

    async def _finish(
        self, update: Update, context: Context, open_chat: int, closed_chat: int, title: str
    ) -> None:
        user = update.effective_user
        if user is None:
            return
        channel = await self._deps.register.execute(
            UserId(user.id), ChatId(open_chat), ChatId(closed_chat), title
        )
        owned = await self._views.owned_by(UserId(user.id))
        number = next((i for i, c in enumerate(owned, start=1) if c.id == channel.id), len(owned))
        await reply(update, context, texts.registered(channel, number))

    async def _chat_from(self, update: Update, context: Context) -> int:
        message = update.effective_message
        if message is None:
            raise BadInput(texts.REGISTER_OPEN)
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
            raise BadInput(f"I cannot find {reference}; check the name") from exc
        return chat.id

    # --------------------------------------------------- commands at once
    async def channels(self, update: Update, context: Context) -> None:
        user = update.effective_user
        if user is None:
            return
        await reply(update, context, texts.channels(await self._views.owned_by(UserId(user.id))))

    async def tiers(self, update: Update, context: Context) -> None:
        """``/tiers`` lists; ``/tiers 1`` shows channel 1; ``/tiers 1 1=10USD/30d …`` sets."""
        user = update.effective_user
        if user is None:
            return
        owner = UserId(user.id)
        args = context.args or []
        if not args:
            owned = await self._views.owned_by(owner)
            await reply(update, context, texts.tiers(list(enumerate(owned, start=1))))
            return
        number, channel = await self._views.numbered(owner, args[0])
        if len(args) == 1:
            await reply(update, context, texts.tiers([(number, channel)]))
            return
        tiers = parse_tiers(args[1:])
        saved = await self._deps.set_tiers.execute(owner, channel.id, tiers)
        await reply(update, context, texts.tiers_saved(saved))

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

    async def repost(self, update: Update, context: Context) -> None:
        """``/repost 1``: a fresh offer in channel 1's open channel now (with a cooldown)."""
        user = update.effective_user
        if user is None:
            return
        args = context.args or []
        if not args:
            raise BadInput(
                "write /repost and the channel's number from /channels, such as /repost 1"
            )
        _, channel = await self._views.numbered(UserId(user.id), args[0])
        report = await self._deps.publish.refresh_now(channel.id)
        await reply(update, context, texts.reposted(channel.title, report.posted, report.paused))


def _forget(context: Context) -> None:
    data = user_data(context)
    data.pop(_OPEN, None)
    data.pop(_CLOSED, None)
    if data.get(ACTIVE) == REGISTER_CONVERSATION:
        data.pop(ACTIVE)
