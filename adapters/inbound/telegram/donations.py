"""Donations: the Donate button in a closed channel opens a private chat with the
bot, which shows an amount keypad and then the invoice link.

The keypad's preset buttons carry everything they need (see :mod:`keypad`), so a
press works whichever process receives it. Typing an amount is a conversation: it
starts with the keypad (or "Other amount") and ends with an invoice, ``/cancel``,
the Cancel button, or five idle minutes. Nothing here ever answers inside a group
or a channel: every handler is limited to private chats.
"""

from __future__ import annotations

import contextlib
import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from adapters.inbound.telegram import texts
from adapters.inbound.telegram.conversation import ACTIVE, Handler, user_data
from adapters.inbound.telegram.deps import BotDeps
from adapters.inbound.telegram.errors import RateGate, guarded
from adapters.inbound.telegram.keypad import keypad_message
from adapters.inbound.telegram.parsing import (
    CANCEL_DONATION,
    DONATION_START,
    OTHER_AMOUNT_PREFIX,
    PRESET_PREFIX,
    BadInput,
    parse_amount,
    parse_other_amount,
    parse_preset,
)
from adapters.inbound.telegram.queries import ChannelViews
from adapters.inbound.telegram.replies import (
    Context,
    answer,
    private_chat_of,
    replace,
    reply,
    send,
)
from core.domain.channel import Channel, DonationBounds
from core.domain.errors import UnknownChannel
from core.domain.ids import ChannelId, UserId
from core.domain.offer_token import OfferToken

logger = logging.getLogger("paygate.bot")

AMOUNT = "amount"
"""The donation's one state: waiting for a typed amount (or a keypad press)."""
END = ConversationHandler.END
DONATION_CONVERSATION = "donation"

_CHANNEL = "donation_channel"
_KEYPAD = "donation_keypad"


class DonationHandlers:
    def __init__(self, deps: BotDeps, views: ChannelViews, gate: RateGate) -> None:
        self._deps = deps
        self._views = views
        self._gate = gate

    @property
    def name(self) -> str:
        return DONATION_CONVERSATION

    def entry_points(self) -> list[Handler]:
        return [
            CommandHandler(
                "start",
                guarded(self.open_keypad, END),
                filters=filters.ChatType.PRIVATE & filters.Regex(DONATION_START),
            ),
            CallbackQueryHandler(
                guarded(self.other_amount, END), pattern=f"^{OTHER_AMOUNT_PREFIX}"
            ),
        ]

    def states(self) -> dict[object, list[Handler]]:
        return {
            AMOUNT: [
                MessageHandler(
                    filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND,
                    guarded(self.typed_amount, AMOUNT),
                ),
                CallbackQueryHandler(guarded(self.preset, AMOUNT), pattern=f"^{PRESET_PREFIX}"),
                CallbackQueryHandler(
                    guarded(self.other_amount, AMOUNT), pattern=f"^{OTHER_AMOUNT_PREFIX}"
                ),
                CallbackQueryHandler(
                    guarded(self.cancel_button, AMOUNT), pattern=f"^{CANCEL_DONATION}$"
                ),
            ]
        }

    # ------------------------------------------------------------- steps
    async def open_keypad(self, update: Update, context: Context) -> object:
        """``/start <Donate token>`` in a private chat: verify the token, show the keypad."""
        token = OfferToken.decode(context.args[0] if context.args else "", self._deps.keyring)
        if not token.is_donation:
            raise BadInput("this link is not a Donate button")
        channel, bounds = await self._donations_of(token.channel_id)
        if bounds is None:
            await reply(update, context, texts.no_donations(channel.title))
            return END
        chat_id = private_chat_of(update)
        if chat_id is None:
            return END
        keypad = keypad_message(
            channel.title,
            channel.id,
            bounds,
            self._deps.clock.now(),
            self._deps.settings.presets,
        )
        sent = await send(context, chat_id, keypad)
        self._remember(context, channel.id, (sent.chat.id, sent.message_id))
        return AMOUNT

    async def typed_amount(self, update: Update, context: Context) -> object:
        message = update.effective_message
        channel_id = user_data(context).get(_CHANNEL)
        if message is None or not isinstance(channel_id, str):
            return END
        channel, bounds = await self._donations_of(ChannelId(channel_id))
        if bounds is None:
            await reply(update, context, texts.no_donations(channel.title))
            return END
        amount = parse_amount(message.text or "", bounds.minimum.currency)
        user = update.effective_user
        if user is None:
            return END
        await self._gate.checkout(user.id)
        invoice = await self._deps.donate.execute(UserId(user.id), channel.id, amount)
        await reply(update, context, texts.donation_invoice(channel.title, invoice))
        self._forget(context)
        return END

    async def preset(self, update: Update, context: Context) -> object:
        """A preset amount pressed: within its time, straight to the invoice link."""
        query = update.callback_query
        if query is None or query.data is None:
            return END
        if private_chat_of(update) is None:
            await answer(query, texts.donate_privately(self._deps.bot_username), alert=True)
            return END
        pressed = parse_preset(query.data)
        if self._deps.clock.now() - pressed.issued_at > self._deps.settings.keypad_ttl:
            await replace(query, context, texts.KEYPAD_EXPIRED)
            await answer(query)
            self._forget(context)
            return END
        channel, _ = await self._donations_of(pressed.channel_id)
        await self._gate.checkout(query.from_user.id)
        invoice = await self._deps.donate.execute(
            UserId(query.from_user.id), channel.id, pressed.amount
        )
        await replace(query, context, texts.donation_invoice(channel.title, invoice))
        await answer(query)
        self._forget(context)
        return END

    async def other_amount(self, update: Update, context: Context) -> object:
        """The "Other amount" button: ask for the amount and wait for it."""
        query = update.callback_query
        if query is None or query.data is None or query.message is None:
            return END
        if private_chat_of(update) is None:
            await answer(query, texts.donate_privately(self._deps.bot_username), alert=True)
            return END
        pressed = parse_other_amount(query.data)
        if self._deps.clock.now() - pressed.issued_at > self._deps.settings.keypad_ttl:
            await replace(query, context, texts.KEYPAD_EXPIRED)
            await answer(query)
            self._forget(context)
            return END
        channel, bounds = await self._donations_of(pressed.channel_id)
        if bounds is None:
            await replace(query, context, texts.no_donations(channel.title))
            await answer(query)
            return END
        self._remember(context, channel.id, (query.message.chat.id, query.message.message_id))
        await send(context, query.from_user.id, texts.ask_amount(channel.title, bounds))
        await answer(query)
        return AMOUNT

    async def cancel_button(self, update: Update, context: Context) -> object:
        query = update.callback_query
        if query is None:
            return END
        await replace(query, context, texts.DONATION_CANCELLED)
        await answer(query)
        self._forget(context)
        return END

    async def cancel(self, update: Update, context: Context) -> object:
        await self._retire_keypad(context, texts.DONATION_CANCELLED)
        await reply(update, context, texts.DONATION_CANCELLED)
        return END

    async def timed_out(self, update: object, context: Context) -> None:
        """Five idle minutes: the keypad is replaced by a note, so it cannot be pressed."""
        await self._retire_keypad(context, texts.KEYPAD_EXPIRED)

    async def _retire_keypad(self, context: Context, note: str) -> None:
        keypad = user_data(context).get(_KEYPAD)
        self._forget(context)
        if not isinstance(keypad, tuple):
            return
        chat_id, message_id = keypad
        with contextlib.suppress(TelegramError):
            await context.bot.edit_message_text(note, chat_id=chat_id, message_id=message_id)

    # ----------------------------------------------------------- helpers
    async def _donations_of(self, channel_id: ChannelId) -> tuple[Channel, DonationBounds | None]:
        channel = await self._views.get(channel_id)
        if channel is None:
            raise UnknownChannel("this channel no longer takes donations")
        return channel, channel.donation_bounds

    @staticmethod
    def _remember(context: Context, channel_id: ChannelId, keypad: tuple[int, int]) -> None:
        data = user_data(context)
        data[ACTIVE] = DONATION_CONVERSATION
        data[_CHANNEL] = channel_id
        data[_KEYPAD] = keypad

    @staticmethod
    def _forget(context: Context) -> None:
        data = user_data(context)
        data.pop(_CHANNEL, None)
        data.pop(_KEYPAD, None)
        if data.get(ACTIVE) == DONATION_CONVERSATION:
            data.pop(ACTIVE)
