"""Messenger over the Bot API: send, edit and delete messages with inline keyboards."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from adapters.catalog.message import OutgoingMessage
from adapters.catalog.notices import Composed, Failure, compose, failure_notes
from adapters.outbound.telegram.client import TelegramBotClient
from adapters.outbound.telegram.errors import has, translate
from core.domain.ids import ChatId, MessageId
from core.domain.messages import Notice
from core.ports.languages import LanguageBook
from core.ports.wordings import WordingBook

__all__ = ["TelegramMessenger"]

logger = logging.getLogger("paygate.telegram")


class TelegramMessenger:
    """``core.ports.telegram.Messenger``. Each notice is rendered by the catalog, in the
    language ``languages`` says the chat reads (English without it), and sent as plain
    text (no parse mode), so a channel title or a user's name can never inject markup;
    a channel owner's own wording (``wordings``) goes as HTML, every value put into it
    escaped. If Telegram refuses an owner's markup all the same, the catalog's words go
    instead and the owner is told."""

    def __init__(
        self,
        client: TelegramBotClient,
        languages: LanguageBook | None = None,
        wordings: WordingBook | None = None,
    ) -> None:
        self._bot = client.bot
        self._languages = languages
        self._wordings = wordings

    async def send(self, chat_id: ChatId, notice: Notice) -> MessageId:
        composed = await compose(chat_id, notice, self._languages, self._wordings)
        try:
            message_id = await self._send(chat_id, composed.message)
        except BadRequest as exc:
            if not (composed.message.html and has(exc, "can't parse entities")):
                raise translate(exc, chat_id) from exc
            composed = await self._refused(chat_id, notice, composed)
            try:
                message_id = await self._send(chat_id, composed.message)
            except TelegramError as again:
                raise translate(again, chat_id) from again
        except TelegramError as exc:
            raise translate(exc, chat_id) from exc
        await self._tell_authors(composed)
        return message_id

    async def _send(self, chat_id: ChatId, message: OutgoingMessage) -> MessageId:
        sent = await self._bot.send_message(
            chat_id,
            message.text,
            reply_markup=_keyboard(message),
            parse_mode=ParseMode.HTML if message.html else None,
        )
        return MessageId(sent.message_id)

    async def _refused(self, chat_id: ChatId, notice: Notice, composed: Composed) -> Composed:
        """Telegram refused an owner's markup our check let through: the catalog's
        words instead, and the owner told."""
        plain = await compose(chat_id, notice, self._languages, None)
        title = getattr(notice, "title", "")
        refused = tuple(Failure(w, title, None) for w in composed.used)
        return Composed(plain.message, (), refused)

    async def _tell_authors(self, composed: Composed) -> None:
        if self._wordings is None or not composed.failures:
            return
        for author, note in await failure_notes(composed.failures, self._languages, self._wordings):
            try:
                await self._send(author, note)
            except TelegramError:
                logger.warning("could not tell a channel owner their wording failed")

    async def edit(self, chat_id: ChatId, message_id: MessageId, notice: Notice) -> None:
        composed = await compose(chat_id, notice, self._languages, self._wordings)
        try:
            await self._edit(chat_id, message_id, composed.message)
        except BadRequest as exc:
            if has(exc, "message is not modified"):
                return  # it already says this: the edit is done
            if not (composed.message.html and has(exc, "can't parse entities")):
                raise translate(exc, chat_id) from exc
            composed = await self._refused(chat_id, notice, composed)
            try:
                await self._edit(chat_id, message_id, composed.message)
            except BadRequest as again:
                if not has(again, "message is not modified"):
                    raise translate(again, chat_id) from again
            except TelegramError as again:
                raise translate(again, chat_id) from again
        except TelegramError as exc:
            raise translate(exc, chat_id) from exc
        await self._tell_authors(composed)

    async def _edit(self, chat_id: ChatId, message_id: MessageId, message: OutgoingMessage) -> None:
        await self._bot.edit_message_text(
            message.text,
            chat_id=chat_id,
            message_id=message_id,
            reply_markup=_keyboard(message),
            parse_mode=ParseMode.HTML if message.html else None,
        )

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
