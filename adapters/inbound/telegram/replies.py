"""Putting the bot's plain-text messages on the wire with python-telegram-bot.

Every answer goes to the private chat of the person who wrote or pressed: nothing
here ever posts into a group or a channel.
"""

from __future__ import annotations

import contextlib

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LoginUrl,
    Message,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from adapters.catalog.message import Button, OutgoingMessage

Context = ContextTypes.DEFAULT_TYPE


def keyboard(message: OutgoingMessage) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup([[_button(b) for b in row] for row in message.buttons])


def _button(button: Button) -> InlineKeyboardButton:
    if button.url is not None:
        return InlineKeyboardButton(button.text, url=button.url)
    if button.login_url is not None:
        return InlineKeyboardButton(button.text, login_url=LoginUrl(button.login_url))
    return InlineKeyboardButton(button.text, callback_data=button.callback_data)


def as_message(text: str | OutgoingMessage) -> OutgoingMessage:
    return text if isinstance(text, OutgoingMessage) else OutgoingMessage(text)


def private_chat_of(update: Update) -> int | None:
    """The private chat to answer in: the sender's, and only if the update came from
    a private chat (a button pressed under a private message included)."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or chat.type != ChatType.PRIVATE:
        return None
    return chat.id


async def send(context: Context, chat_id: int, text: str | OutgoingMessage) -> Message:
    message = as_message(text)
    return await context.bot.send_message(
        chat_id,
        message.text,
        reply_markup=keyboard(message),
        # Only an owner's own wording (its preview) is HTML; every other answer is
        # plain text, so nothing a person typed can turn into markup.
        parse_mode=ParseMode.HTML if message.html else None,
    )


async def reply(update: Update, context: Context, text: str | OutgoingMessage) -> Message | None:
    """Answer in the sender's private chat; updates from elsewhere get no answer."""
    chat_id = private_chat_of(update)
    if chat_id is None:
        return None
    return await send(context, chat_id, text)


async def replace(query: CallbackQuery, context: Context, text: str | OutgoingMessage) -> None:
    """Turn the message whose button was pressed into ``text`` (its buttons go with
    it, so the same button cannot be pressed twice); a new message if the old one
    cannot be edited any more."""
    message = as_message(text)
    try:
        await query.edit_message_text(message.text, reply_markup=keyboard(message))
    except TelegramError:
        if query.message is not None:
            await send(context, query.message.chat.id, message)


async def answer(query: CallbackQuery, text: str | None = None, alert: bool = False) -> None:
    """Stop the button's spinner, once what the press does is on screen. Telegram
    refuses a second answer and a very late one; neither matters to the person."""
    with contextlib.suppress(TelegramError):
        await query.answer(text, show_alert=alert)
