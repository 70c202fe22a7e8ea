"""A fake Telegram messenger that remembers what the bot said where."""

from __future__ import annotations

import attrs

from adapters.outbound.memory.scripted_failures import ScriptedFailures
from core.domain.ids import ChatId, MessageId, UserId
from core.domain.messages import OutgoingMessage
from core.ports.errors import NotFound
from core.ports.telegram import RecipientUnreachable, Unavailable


@attrs.frozen
class PostedMessage:
    chat_id: ChatId
    message_id: MessageId
    message: OutgoingMessage


class InMemoryMessenger:
    """Implements Messenger. Message ids count up per chat from 1, as Telegram's do.

    ``sent``, ``edits`` and ``deletions`` keep every successful call in order;
    :meth:`visible` is what a user would see in a chat now."""

    def __init__(self) -> None:
        self.sent: list[PostedMessage] = []
        self.edits: list[PostedMessage] = []
        self.deletions: list[tuple[ChatId, MessageId]] = []
        self.failures = ScriptedFailures()
        self._visible: dict[ChatId, dict[MessageId, OutgoingMessage]] = {}
        self._last_id: dict[ChatId, int] = {}
        self._blocked: set[ChatId] = set()

    def block(self, user_id: UserId) -> None:
        """The user blocked the bot: their private chat refuses every call."""
        self._blocked.add(ChatId(user_id))

    def unblock(self, user_id: UserId) -> None:
        self._blocked.discard(ChatId(user_id))

    def fail_next(self, count: int = 1, retry_after: float | None = None) -> None:
        """The next ``count`` calls raise Unavailable (a 429 when ``retry_after`` is set)."""
        message = "flood control" if retry_after is not None else "telegram unreachable"
        self.failures.arm(Unavailable(message, retry_after=retry_after), count)

    def visible(self, chat_id: ChatId) -> list[PostedMessage]:
        """The chat's messages as they stand now (edits applied, deletions gone)."""
        return [
            PostedMessage(chat_id, message_id, message)
            for message_id, message in sorted(self._visible.get(chat_id, {}).items())
        ]

    def _enter(self, chat_id: ChatId) -> None:
        self.failures.check()
        if chat_id in self._blocked:
            raise RecipientUnreachable(f"chat {chat_id} blocked the bot")

    async def send(self, chat_id: ChatId, message: OutgoingMessage) -> MessageId:
        self._enter(chat_id)
        message_id = MessageId(self._last_id.get(chat_id, 0) + 1)
        self._last_id[chat_id] = message_id
        self._visible.setdefault(chat_id, {})[message_id] = message
        self.sent.append(PostedMessage(chat_id, message_id, message))
        return message_id

    async def edit(self, chat_id: ChatId, message_id: MessageId, message: OutgoingMessage) -> None:
        self._enter(chat_id)
        chat = self._visible.get(chat_id, {})
        if message_id not in chat:
            raise NotFound(f"no message {message_id} in chat {chat_id}")
        chat[message_id] = message
        self.edits.append(PostedMessage(chat_id, message_id, message))

    async def delete(self, chat_id: ChatId, message_id: MessageId) -> None:
        self._enter(chat_id)
        if self._visible.get(chat_id, {}).pop(message_id, None) is not None:
            self.deletions.append((chat_id, message_id))
