"""Donations: the Donate button in a closed channel opens a private chat with the
bot, which shows an amount keypad and then the invoice link.

The keypad's preset buttons carry everything they need (see :mod:`keypad`), so a
press works whichever process receives it. Typing an amount is a conversation (see
:mod:`conversation`): it starts with the keypad (or "Other amount") and ends with an
invoice, ``/cancel``, the Cancel button, or five idle minutes. It remembers the
channel and the keypad's message, so /cancel and the timeout can retire the keypad.
Nothing here ever answers inside a group or a channel: every handler is limited to
private chats.
"""

from __future__ import annotations

import contextlib

from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import filters

from adapters.catalog import texts
from adapters.catalog.buttons import CANCEL_DONATION, OTHER_AMOUNT_PREFIX, PRESET_PREFIX
from adapters.inbound.telegram.conversation import Route, Turn, button, command, message
from adapters.inbound.telegram.deps import BotDeps
from adapters.inbound.telegram.errors import RateGate
from adapters.inbound.telegram.keypad import keypad_message, preset_amounts
from adapters.inbound.telegram.parsing import (
    DONATION_START,
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
from core.domain.errors import UnknownChannel, Why
from core.domain.ids import ChannelId, UserId
from core.domain.money import Money
from core.domain.offer_token import OfferToken
from core.ports.conversations import Conversation, FieldValue

AMOUNT = "donation.amount"
"""The donation's one step: waiting for a typed amount (or a keypad press)."""

_CHANNEL = "channel"
_KEYPAD_CHAT = "keypad_chat"
_KEYPAD_MESSAGE = "keypad_message"


class DonationHandlers:
    def __init__(self, deps: BotDeps, views: ChannelViews, gate: RateGate) -> None:
        self._deps = deps
        self._views = views
        self._gate = gate

    def entry_routes(self) -> list[Route]:
        return [
            command(
                "start",
                self.open_keypad,
                filters.ChatType.PRIVATE & filters.Regex(DONATION_START),
            ),
            button(f"^{OTHER_AMOUNT_PREFIX}", self.other_amount),
        ]

    def step_routes(self) -> dict[str, list[Route]]:
        typed = filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
        return {
            AMOUNT: [
                message(typed, self.typed_amount),
                button(f"^{PRESET_PREFIX}", self.preset_in_conversation),
                button(f"^{CANCEL_DONATION}$", self.cancel_button_in_conversation),
            ]
        }

    # ------------------------------------------------------------- steps
    async def open_keypad(self, turn: Turn) -> None:
        """``/start <Donate token>`` in a private chat: verify the token, show the keypad."""
        args = turn.context.args
        token = OfferToken.decode(args[0] if args else "", self._deps.keyring)
        if not token.is_donation:
            raise BadInput(texts.not_a_donate_button())
        channel, bounds = await self._donations_of(token.channel_id)
        if bounds is None:
            await reply(turn.update, turn.context, texts.no_donations(channel.title))
            return
        chat_id = private_chat_of(turn.update)
        if chat_id is None:
            return
        keypad = keypad_message(
            channel.title,
            channel.id,
            bounds,
            self._deps.clock.now(),
            self._deps.settings.presets,
            self._deps.keyring,
        )
        started = Conversation(AMOUNT, {_CHANNEL: channel.id})
        # Stored before the keypad shows, so an amount typed at once finds it.
        await turn.start(started)
        sent = await send(turn.context, chat_id, keypad)
        # The keypad's message, for /cancel and the timeout to retire it. If the person
        # has already moved on (paid, cancelled), there is nothing to add it to.
        await turn.move(
            started.with_fields(**{_KEYPAD_CHAT: sent.chat.id, _KEYPAD_MESSAGE: sent.message_id})
        )

    async def typed_amount(self, turn: Turn) -> None:
        """An amount typed while the keypad is open: an invoice within the channel's
        bounds; anything else is explained and the donation waits for another try."""
        update, context = turn.update, turn.context
        text = update.effective_message
        user = update.effective_user
        if text is None or user is None:
            return
        channel, bounds = await self._donations_of(ChannelId(turn.conversation.text(_CHANNEL)))
        if bounds is None:
            await turn.end()
            await reply(update, context, texts.no_donations(channel.title))
            return
        amount = parse_amount(text.text or "", bounds.minimum.currency)
        await self._gate.checkout(user.id)
        invoice = await self._deps.donate.execute(UserId(user.id), channel.id, amount)
        # The invoice exists now, whatever else this person started meanwhile; that
        # newer conversation would stay (end() leaves it).
        await turn.end()
        await reply(update, context, texts.donation_invoice(channel.title, invoice))

    async def preset(self, update: Update, context: Context) -> None:
        """A preset amount pressed outside a donation conversation (the buttons carry
        all they need)."""
        await self._preset(update, context, None)

    async def preset_in_conversation(self, turn: Turn) -> None:
        await self._preset(turn.update, turn.context, turn)

    async def _preset(self, update: Update, context: Context, turn: Turn | None) -> None:
        """A preset amount pressed: within its time, straight to the invoice link."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        if private_chat_of(update) is None:
            await answer(query, texts.donate_privately(self._deps.bot_username), alert=True)
            return
        pressed = parse_preset(query.data)
        channel, bounds = await self._donations_of(pressed.preset.channel_id)
        if bounds is None:
            await _end(turn)
            await replace(query, context, texts.no_donations(channel.title))
            await answer(query)
            return
        amounts = preset_amounts(bounds, self._deps.settings.presets)
        index = pressed.preset.index
        # The amount at the button's place now: the press counts only if the bot signed
        # the button for that amount (the owner may have changed the bounds since).
        price = Money(amounts[index], bounds.minimum.currency) if index < len(amounts) else None
        if price is None or not pressed.shows(price, self._deps.keyring):
            raise BadInput(texts.keypad_not_valid())
        if self._deps.clock.now() - pressed.preset.issued_at > self._deps.settings.keypad_ttl:
            await _end(turn)
            await replace(query, context, texts.keypad_expired())
            await answer(query)
            return
        await self._gate.checkout(query.from_user.id)
        invoice = await self._deps.donate.execute(
            UserId(query.from_user.id), channel.id, price.amount
        )
        await _end(turn)
        await replace(query, context, texts.donation_invoice(channel.title, invoice))
        await answer(query)

    async def other_amount(self, turn: Turn) -> None:
        """The "Other amount" button: ask for the amount and wait for it."""
        update, context = turn.update, turn.context
        query = update.callback_query
        if query is None or query.data is None or query.message is None:
            return
        if private_chat_of(update) is None:
            await answer(query, texts.donate_privately(self._deps.bot_username), alert=True)
            return
        pressed = parse_other_amount(query.data, self._deps.keyring)
        if self._deps.clock.now() - pressed.issued_at > self._deps.settings.keypad_ttl:
            await replace(query, context, texts.keypad_expired())
            await answer(query)
            return
        channel, bounds = await self._donations_of(pressed.channel_id)
        if bounds is None:
            await replace(query, context, texts.no_donations(channel.title))
            await answer(query)
            return
        collected: dict[str, FieldValue] = {
            _CHANNEL: channel.id,
            _KEYPAD_CHAT: query.message.chat.id,
            _KEYPAD_MESSAGE: query.message.message_id,
        }
        await turn.start(Conversation(AMOUNT, collected))
        await send(context, query.from_user.id, texts.ask_amount(channel.title, bounds))
        await answer(query)

    async def cancel_button(self, update: Update, context: Context) -> None:
        """The keypad's Cancel outside a donation conversation: the keypad goes."""
        await self._cancel_button(update, context, None)

    async def cancel_button_in_conversation(self, turn: Turn) -> None:
        await self._cancel_button(turn.update, turn.context, turn)

    async def _cancel_button(self, update: Update, context: Context, turn: Turn | None) -> None:
        query = update.callback_query
        if query is None:
            return
        await _end(turn)
        await replace(query, context, texts.donation_cancelled())
        await answer(query)

    async def cancelled(self, update: Update, context: Context, conversation: Conversation) -> None:
        await _retire_keypad(context.bot, conversation, texts.donation_cancelled())
        await reply(update, context, texts.donation_cancelled())

    async def timed_out(self, bot: Bot, user_id: UserId, conversation: Conversation) -> None:
        """Five idle minutes: the keypad is replaced by a note, so it cannot be pressed."""
        await _retire_keypad(bot, conversation, texts.keypad_expired())

    # ----------------------------------------------------------- helpers
    async def _donations_of(self, channel_id: ChannelId) -> tuple[Channel, DonationBounds | None]:
        channel = await self._views.get(channel_id)
        if channel is None:
            raise UnknownChannel(Why.DONATIONS_GONE)
        return channel, channel.donation_bounds


async def _end(turn: Turn | None) -> None:
    # A press that settles the donation ends its conversation, if it is in one.
    if turn is not None:
        await turn.end()


async def _retire_keypad(bot: Bot, conversation: Conversation, note: str) -> None:
    try:
        chat_id = conversation.number(_KEYPAD_CHAT)
        message_id = conversation.number(_KEYPAD_MESSAGE)
    except KeyError:
        return  # the keypad was never recorded: nothing to retire
    with contextlib.suppress(TelegramError):
        await bot.edit_message_text(note, chat_id=chat_id, message_id=message_id)
