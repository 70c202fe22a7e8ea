"""WordingBook contract: an owner's text is staged as a draft, published, listed, reset,
and a failure is reported to its author once per published text (memory, SQLite,
Postgres)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

from adapters.outbound.memory.wordings import InMemoryWordingBook
from adapters.outbound.sqla.wordings import SqlWordingBook
from core.domain.ids import ChannelId, UserId
from core.ports.wordings import Wording, WordingBook, WordingKind
from tests.contract.backends_sql import postgres_engine, sqlite_engine

CHANNEL = ChannelId("ch1")
OTHER = ChannelId("ch2")
OWNER = UserId(1001)
WELCOME = WordingKind.INVITE


def welcome(text: str = "Welcome! Until {end}: {link}", language: str = "es") -> Wording:
    return Wording(CHANNEL, WELCOME, language, text, OWNER)


@asynccontextmanager
async def memory_book() -> AsyncIterator[WordingBook]:
    yield InMemoryWordingBook()


@asynccontextmanager
async def sqlite_book() -> AsyncIterator[WordingBook]:
    async with sqlite_engine() as engine:
        yield SqlWordingBook(engine)


@asynccontextmanager
async def postgres_book() -> AsyncIterator[WordingBook]:
    async with postgres_engine() as engine:
        yield SqlWordingBook(engine)


BOOKS: dict[str, Callable[[], AbstractAsyncContextManager[WordingBook]]] = {
    "memory": memory_book,
    "sqlite": sqlite_book,
    "postgres": postgres_book,
}


@pytest.fixture(params=list(BOOKS), ids=list(BOOKS))
async def book(request: pytest.FixtureRequest) -> AsyncIterator[WordingBook]:
    async with BOOKS[request.param]() as opened:
        yield opened


async def test_a_channel_nobody_wrote_for_uses_the_catalogs_words(book: WordingBook) -> None:
    assert await book.get(CHANNEL, WELCOME, "es") is None
    assert await book.published(CHANNEL) == []
    assert await book.draft(CHANNEL, WELCOME, "es") is None


async def test_a_staged_draft_is_not_read_by_subscribers_until_published(
    book: WordingBook,
) -> None:
    await book.stage(welcome())

    assert await book.get(CHANNEL, WELCOME, "es") is None
    assert await book.draft(CHANNEL, WELCOME, "es") == welcome()

    assert await book.publish(CHANNEL, WELCOME, "es") == welcome()
    assert await book.get(CHANNEL, WELCOME, "es") == welcome()
    assert await book.draft(CHANNEL, WELCOME, "es") is None


async def test_publishing_without_a_draft_changes_nothing(book: WordingBook) -> None:
    await book.stage(welcome())
    await book.publish(CHANNEL, WELCOME, "es")

    assert await book.publish(CHANNEL, WELCOME, "es") is None
    assert await book.get(CHANNEL, WELCOME, "es") == welcome()


async def test_a_new_draft_keeps_the_published_text_until_it_is_published(
    book: WordingBook,
) -> None:
    await book.stage(welcome("Old {end} {link}"))
    await book.publish(CHANNEL, WELCOME, "es")
    await book.stage(welcome("New {end} {link}"))

    assert await book.get(CHANNEL, WELCOME, "es") == welcome("Old {end} {link}")
    await book.publish(CHANNEL, WELCOME, "es")
    assert await book.get(CHANNEL, WELCOME, "es") == welcome("New {end} {link}")


async def test_texts_are_kept_apart_by_channel_kind_and_language(book: WordingBook) -> None:
    texts = [
        welcome("es {end} {link}", "es"),
        welcome("ru {end} {link}", "ru"),
        Wording(CHANNEL, WordingKind.OFFER, "es", "Oferta {tiers}", OWNER),
        Wording(OTHER, WELCOME, "es", "other {end} {link}", UserId(7)),
    ]
    for text in texts:
        await book.stage(text)
        await book.publish(text.channel_id, text.kind, text.language)

    assert await book.published(CHANNEL) == [texts[2], texts[0], texts[1]]
    assert await book.get(OTHER, WELCOME, "es") == texts[3]


async def test_a_reset_brings_back_the_catalogs_words(book: WordingBook) -> None:
    await book.stage(welcome())
    await book.publish(CHANNEL, WELCOME, "es")

    assert await book.reset(CHANNEL, WELCOME, "es") is True
    assert await book.get(CHANNEL, WELCOME, "es") is None
    assert await book.reset(CHANNEL, WELCOME, "es") is False


async def test_the_author_is_told_of_a_failure_once_per_published_text(
    book: WordingBook,
) -> None:
    assert await book.first_failure(CHANNEL, WELCOME, "es") is False  # nothing published
    await book.stage(welcome())
    await book.publish(CHANNEL, WELCOME, "es")

    assert await book.first_failure(CHANNEL, WELCOME, "es") is True
    assert await book.first_failure(CHANNEL, WELCOME, "es") is False

    await book.stage(welcome("Fixed {end} {link}"))
    await book.publish(CHANNEL, WELCOME, "es")
    assert await book.first_failure(CHANNEL, WELCOME, "es") is True


async def test_of_failures_racing_only_one_is_the_first(book: WordingBook) -> None:
    await book.stage(welcome())
    await book.publish(CHANNEL, WELCOME, "es")

    told = await asyncio.gather(*(book.first_failure(CHANNEL, WELCOME, "es") for _ in range(5)))

    assert sorted(told) == [False, False, False, False, True]


async def test_a_wording_is_checked_before_it_is_stored(book: WordingBook) -> None:
    with pytest.raises(ValueError, match="two- or three-letter"):
        await book.stage(welcome(language="es'); DROP TABLE channel_wordings; --"))
    with pytest.raises(ValueError, match="has words"):
        await book.stage(welcome("   "))
    assert await book.draft(CHANNEL, WELCOME, "es") is None
