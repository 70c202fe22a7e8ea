"""Messenger over the Bot API: send, edit and delete messages with inline keyboards."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, TelegramError

from adapters.catalog.message import OutgoingMessage
from adapters.catalog.notices import render_for
from adapters.outbound.telegram.client import TelegramBotClient
from adapters.outbound.telegram.errors import has, translate
from core.domain.ids import ChatId, MessageId
from core.domain.messages import Notice
from core.ports.languages import LanguageBook

__all__ = ["TelegramMessenger"]


class TelegramMessenger:
    """``core.ports.telegram.Messenger``. Each notice is rendered by the catalog and sent
    as plain text (no parse mode), so a channel title or a user's name can never
    inject markup; in the language ``languages`` says the chat reads (English without
    it)."""

    def __init__(self, client: TelegramBotClient, languages: LanguageBook | None = None) -> None:
        self._bot = client.bot
        self._languages = languages

    async def send(self, chat_id: ChatId, notice: Notice) -> MessageId:
        message = await render_for(chat_id, notice, self._languages)
        try:
            sent = await self._bot.send_message(
                chat_id, message.text, reply_markup=_keyboard(message)
            )
        except TelegramError as exc:
            raise translate(exc, chat_id) from exc
        return MessageId(sent.message_id)

    async def edit(self, chat_id: ChatId, message_id: MessageId, notice: Notice) -> None:
        message = await render_for(chat_id, notice, self._languages)
        try:
            await self._bot.edit_message_text(
                message.text,
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=_keyboard(message),
            )
        except BadRequest as exc:
            if has(exc, "message is not modified"):
                return  # it already says this: the edit is done
            raise translate(exc, chat_id) from exc
        except TelegramError as exc:
            raise translate(exc, chat_id) from exc

    async def delete(self, chat_id: ChatId, message_id: MessageId) -> None:
        """Deleting a message that is already gone is not an error."""
        try:
            await self._bot.delete_message(chat_id, message_id)
        except BadRequest as exc:
            if has(exc, "message to delete not found"):
                return
            raise translate(exc, chat_id) from exc
        except TelegramError as exc:
            raise translate(exc, chat_id) from exc


def _keyboard(message: OutgoingMessage) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.text, url=b.url, callback_data=b.callback_data) for b in row]
            for row in message.buttons
        ]
    )
