"""A fake Telegram messenger that remembers what the bot said where.

Where the fake and the Telegram adapter could differ, the fake does what Telegram
(through the adapter) does: the Messenger contract suite runs against both.
"""

from __future__ import annotations

import attrs

from adapters.catalog.markup import MarkupError, check, visible
from adapters.catalog.message import OutgoingMessage
from adapters.catalog.notices import Composed, compose, failure_notes
from adapters.outbound.memory.scripted_failures import ScriptedFailures
from core.domain.ids import ChatId, MessageId, UserId
from core.domain.messages import Notice
from core.domain.rights import ChatRights, Right
from core.ports.errors import PortError
from core.ports.languages import LanguageBook
from core.ports.telegram import (
    ChatGone,
    MessageGone,
    NotEnoughRights,
    RecipientUnreachable,
    Unavailable,
)
from core.ports.wordings import WordingBook

MAX_TEXT = 4096
"""Telegram's limit on a text message, in characters."""


@attrs.frozen
class PostedMessage:
    chat_id: ChatId
    message_id: MessageId
    message: OutgoingMessage


class InMemoryMessenger:
    """Implements Messenger. Message ids count up per chat from 1, as Telegram's do.

    Every chat is open to the bot unless a test says otherwise: a user blocked the
    bot or never started it (RecipientUnreachable), a chat is gone (ChatGone), or
    the bot's rights in a channel were set without POST_MESSAGES (NotEnoughRights).

    ``sent``, ``edits`` and ``deletions`` keep every successful call in order;
    :meth:`visible` is what a user would see in a chat now."""

    def __init__(
        self, languages: LanguageBook | None = None, wordings: WordingBook | None = None
    ) -> None:
        self._languages = languages
        self._wordings = wordings
        self.sent: list[PostedMessage] = []
        self.edits: list[PostedMessage] = []
        self.deletions: list[tuple[ChatId, MessageId]] = []
        self.failures = ScriptedFailures()
        self._visible: dict[ChatId, dict[MessageId, OutgoingMessage]] = {}
        self._last_id: dict[ChatId, int] = {}
        self._blocked: set[ChatId] = set()
        self._strangers: set[ChatId] = set()
        self._gone: set[ChatId] = set()
        self._bot_rights: dict[ChatId, ChatRights] = {}

    # -- set-up by tests ---------------------------------------------------------

    def block(self, user_id: UserId) -> None:
        """The user blocked the bot: their private chat refuses every call."""
        self._blocked.add(ChatId(user_id))

    def unblock(self, user_id: UserId) -> None:
        self._blocked.discard(ChatId(user_id))

    def never_started(self, user_id: UserId) -> None:
        """The user never opened a chat with the bot: the bot cannot write first."""
        self._strangers.add(ChatId(user_id))

    def forget_chat(self, chat_id: ChatId) -> None:
        """The chat was deleted or the bot was thrown out of it."""
        self._gone.add(chat_id)

    def set_bot_rights(self, chat_id: ChatId, rights: ChatRights) -> None:
        """The bot's standing in a channel: posting there needs POST_MESSAGES."""
        self._bot_rights[chat_id] = rights

    def someone_deletes(self, chat_id: ChatId, message_id: MessageId) -> None:
        """An administrator of the chat deleted the message by hand. Telegram does not
        tell the bot; the message is simply not there any more."""
        self._visible.get(chat_id, {}).pop(message_id, None)

    def fail_next(self, count: int = 1, retry_after: float | None = None) -> None:
        """The next ``count`` calls raise Unavailable (a 429 when ``retry_after`` is set)."""
        message = "flood control" if retry_after is not None else "telegram unreachable"
        self.failures.arm(Unavailable(message, retry_after=retry_after), count)

    # -- inspection ----------------------------------------------------------------

    def visible(self, chat_id: ChatId) -> list[PostedMessage]:
        """The chat's messages as they stand now (edits applied, deletions gone)."""
        return [
            PostedMessage(chat_id, message_id, message)
            for message_id, message in sorted(self._visible.get(chat_id, {}).items())
        ]

    # -- the port ------------------------------------------------------------------

    async def send(self, chat_id: ChatId, notice: Notice) -> MessageId:
        composed = await compose(chat_id, notice, self._languages, self._wordings)
        message_id = await self._post(chat_id, composed.message)
        await self._tell_authors(composed)
        return message_id

    async def _post(self, chat_id: ChatId, message: OutgoingMessage) -> MessageId:
        self._enter(chat_id)
        if chat_id in self._strangers:
            raise RecipientUnreachable(f"bot can't initiate conversation with user {chat_id}")
        rights = self._bot_rights.get(chat_id)
        if rights is not None and not (rights.is_admin and rights.has(Right.POST_MESSAGES)):
            raise NotEnoughRights(f"the bot lacks {Right.POST_MESSAGES} in chat {chat_id}")
        _check_text(message)
        message_id = MessageId(self._last_id.get(chat_id, 0) + 1)
        self._last_id[chat_id] = message_id
        self._visible.setdefault(chat_id, {})[message_id] = message
        self.sent.append(PostedMessage(chat_id, message_id, message))
        return message_id

    async def edit(self, chat_id: ChatId, message_id: MessageId, notice: Notice) -> None:
        """An edit that changes nothing is done (Telegram's "message is not modified");
        a message that is not in the chat is MessageGone ("message to edit not found")."""
        composed = await compose(chat_id, notice, self._languages, self._wordings)
        message = composed.message
        self._enter(chat_id)
        chat = self._visible.get(chat_id, {})
        if message_id not in chat:
            raise MessageGone(f"no message {message_id} in chat {chat_id}")
        _check_text(message)
        chat[message_id] = message
        self.edits.append(PostedMessage(chat_id, message_id, message))
        await self._tell_authors(composed)

    async def _tell_authors(self, composed: Composed) -> None:
        """An owner's text that could not be used: its author hears of it once (a
        note that cannot be delivered is dropped; the message itself went out)."""
        if self._wordings is None or not composed.failures:
            return
        for author, note in await failure_notes(composed.failures, self._languages, self._wordings):
            try:
                await self._post(author, note)
            except PortError:
                continue

    async def delete(self, chat_id: ChatId, message_id: MessageId) -> None:
        self._enter(chat_id)
        if self._visible.get(chat_id, {}).pop(message_id, None) is not None:
            self.deletions.append((chat_id, message_id))

    # -- internals -------------------------------------------------------------------

    def _enter(self, chat_id: ChatId) -> None:
        self.failures.check()
        if chat_id in self._gone:
            raise ChatGone(f"chat {chat_id} does not exist or the bot is not in it")
        if chat_id in self._blocked:
            raise RecipientUnreachable(f"chat {chat_id} blocked the bot")


def _check_text(message: OutgoingMessage) -> None:
    # Telegram refuses these outright; retrying the same message cannot help.
    text = message.text
    if message.html:
        try:
            check(text)
        except MarkupError as exc:
            raise PortError(f"Telegram refused the call: can't parse entities at {exc}") from exc
        text = visible(text)
    if not text.strip():
        raise PortError("Telegram refused the call: message text is empty")
    if len(text) > MAX_TEXT:
        raise PortError("Telegram refused the call: message is too long")
