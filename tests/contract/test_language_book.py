"""LanguageBook contract: what each chat reads, a choice outliving every later note
of Telegram's language_code (memory, SQLite, Postgres)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

from adapters.outbound.memory.languages import InMemoryLanguageBook
from adapters.outbound.sqla.languages import SqlLanguageBook
from core.domain.ids import ChatId
from core.ports.languages import ChatLanguage, LanguageBook
from tests.contract.backends_sql import postgres_engine, sqlite_engine

PERSON = ChatId(2003)
CHANNEL = ChatId(-1001000000001)


@asynccontextmanager
async def memory_book() -> AsyncIterator[LanguageBook]:
    yield InMemoryLanguageBook()


@asynccontextmanager
async def sqlite_book() -> AsyncIterator[LanguageBook]:
    async with sqlite_engine() as engine:
        yield SqlLanguageBook(engine)


@asynccontextmanager
async def postgres_book() -> AsyncIterator[LanguageBook]:
    async with postgres_engine() as engine:
        yield SqlLanguageBook(engine)


BOOKS: dict[str, Callable[[], AbstractAsyncContextManager[LanguageBook]]] = {
    "memory": memory_book,
    "sqlite": sqlite_book,
    "postgres": postgres_book,
}


@pytest.fixture(params=list(BOOKS), ids=list(BOOKS))
async def book(request: pytest.FixtureRequest) -> AsyncIterator[LanguageBook]:
    async with BOOKS[request.param]() as opened:
        yield opened


async def test_a_chat_nobody_spoke_of_has_no_language(book: LanguageBook) -> None:
    assert await book.get(PERSON) is None


async def test_a_noted_language_follows_the_app(book: LanguageBook) -> None:
    await book.note(PERSON, "ru")
    await book.note(PERSON, "es")

    assert await book.get(PERSON) == ChatLanguage("es", chosen=False)


async def test_a_choice_outlives_every_later_note(book: LanguageBook) -> None:
    await book.note(PERSON, "ru")
    await book.choose(PERSON, "es")
    await book.note(PERSON, "en")

    assert await book.get(PERSON) == ChatLanguage("es", chosen=True)


async def test_a_new_choice_replaces_the_old_one(book: LanguageBook) -> None:
    await book.choose(CHANNEL, "es")
    await book.choose(CHANNEL, "ru")

    assert await book.get(CHANNEL) == ChatLanguage("ru", chosen=True)
    assert await book.get(PERSON) is None


async def test_a_note_racing_a_choice_never_undoes_it(book: LanguageBook) -> None:
    for _ in range(5):
        await asyncio.gather(book.note(PERSON, "ru"), book.choose(PERSON, "es"))
        assert await book.get(PERSON) == ChatLanguage("es", chosen=True)


async def test_a_language_is_a_short_code(book: LanguageBook) -> None:
    with pytest.raises(ValueError, match="two- or three-letter"):
        await book.choose(PERSON, "es'); DROP TABLE chat_languages; --")
    assert await book.get(PERSON) is None


async def test_a_forgotten_chat_has_no_language_and_others_keep_theirs(
    book: LanguageBook,
) -> None:
    await book.choose(ChatId(501), "es")
    await book.note(ChatId(502), "ru")

    assert await book.forget(ChatId(501)) is True
    assert await book.forget(ChatId(501)) is False

    assert await book.get(ChatId(501)) is None
    assert await book.get(ChatId(502)) == ChatLanguage("ru", chosen=False)
