"""The language each chat reads, in this process's memory (tests, the demo)."""

from __future__ import annotations

from core.domain.ids import ChatId
from core.ports.languages import ChatLanguage, language_code


class InMemoryLanguageBook:
    """Implements LanguageBook."""

    def __init__(self) -> None:
        self._chats: dict[ChatId, ChatLanguage] = {}

    async def get(self, chat_id: ChatId) -> ChatLanguage | None:
        return self._chats.get(chat_id)

    async def note(self, chat_id: ChatId, language: str) -> None:
        language_code(language)
        held = self._chats.get(chat_id)
        if held is None or not held.chosen:
            self._chats[chat_id] = ChatLanguage(language, chosen=False)

    async def choose(self, chat_id: ChatId, language: str) -> None:
        self._chats[chat_id] = ChatLanguage(language, chosen=True)

    async def forget(self, chat_id: ChatId) -> bool:
        return self._chats.pop(chat_id, None) is not None
