"""The catalogs in every language: each has every message the code marks, with the
same placeholders; a person reads their chosen language, else their app's, else
English; a notice reads in its recipient's language when it is sent."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from adapters.catalog import texts
from adapters.catalog.language import LANGUAGES, LOCALES, negotiate, speaking, supported
from adapters.catalog.notices import render, render_for
from adapters.inbound.telegram.language import spoken
from adapters.outbound.memory.languages import InMemoryLanguageBook
from adapters.outbound.memory.messenger import InMemoryMessenger
from core.domain.ids import ChatId
from core.domain.messages import Checkout, Reminder, Verbatim
from core.ports.languages import ChatLanguage
from tests.unit.catalog.test_catalog import ENDS, EXAMPLES, TITLE

ROOT = Path(__file__).resolve().parents[3]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
TRANSLATED = [language for language in LANGUAGES if language != "en"]
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)  # noqa: RUF001 (Russian letters, on purpose)


def catalog(language: str) -> Catalog:
    with (LOCALES / language / "LC_MESSAGES" / "paygate.po").open("rb") as po:
        return read_po(po, locale=language)


def template() -> Catalog:
    with (LOCALES / "messages.pot").open("rb") as pot:
        return read_po(pot)


def marked_in_code() -> set[str]:
    """Every msgid the code marks, extracted as `make messages` does (babel.cfg)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        # Babel ships no annotations for its cfg reader.
        method_map, options_map = parse_mapping_cfg(cfg)  # type: ignore[no-untyped-call]
    found = extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords={"_": None, "n_": (1, 2)},
    )
    return {message if isinstance(message, str) else message[0] for _, _, message, *_ in found}


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def test_the_template_holds_exactly_what_the_code_marks() -> None:
    marked = marked_in_code()
    assert marked  # the extraction found the catalog
    assert {m.id if isinstance(m.id, str) else m.id[0] for m in template() if m.id} == marked


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalog_has_every_message(language: str) -> None:
    held = catalog(language)
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in held if m.id}
    assert ids == {m.id if isinstance(m.id, str) else m.id[0] for m in template() if m.id}


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_in_every_plural_form(language: str) -> None:
    held = catalog(language)
    untranslated = []
    for message in held:
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = held.num_plurals if message.pluralizable else 1
        if message.fuzzy or len(forms) != wanted or not all(forms):
            untranslated.append(message.id)
    assert untranslated == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_translation_keeps_every_placeholder(language: str) -> None:
    wrong = {}
    for message in catalog(language):
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else message.id[-1]
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        for form in map(str, forms):
            names = placeholders(source)
            if placeholders(form) != names:
                wrong[source] = form
            form % dict.fromkeys(names, "x")  # no stray % sign
    assert wrong == {}


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_notice_reads_in_each_language(language: str) -> None:
    for notice in EXAMPLES:
        if isinstance(notice, Verbatim):
            continue
        english, translated = render(notice, "en"), render(notice, language)
        assert translated.text != english.text
        assert "%(" not in translated.text
        assert len(translated.buttons) == len(english.buttons)
        for row, english_row in zip(translated.buttons, english.buttons, strict=True):
            # Labels are words, but what a button does is the same in every language.
            assert [(b.url, b.callback_data) for b in row] == [
                (b.url, b.callback_data) for b in english_row
            ]


def test_dates_amounts_and_plurals_follow_the_language() -> None:
    reminder = Reminder(TITLE, ENDS, Checkout("tok1"))

    assert render(reminder, "ru").text == (
        "Подписка на Alpha Signals заканчивается 1 апреля 2026 г., 09:30 UTC. "  # noqa: RUF001
        "Продлите её, чтобы сохранить доступ."
    )
    assert render(reminder, "es").buttons[0][0].text == "Renovar"
    with speaking("ru"):
        assert [texts.slow_down(n) for n in (1, 3, 5)] == [
            "Вы немного торопитесь. Подождите 1 секунду и попробуйте снова.",
            "Вы немного торопитесь. Подождите 3 секунды и попробуйте снова.",
            "Вы немного торопитесь. Подождите 5 секунд и попробуйте снова.",
        ]
    with speaking("es"):
        assert "12,50 USD" in texts.no_donations("12,50 USD")  # the title passes through
        assert texts.slow_down(1).endswith("Espera 1 segundo e inténtalo de nuevo.")


# ------------------------------------------------------------ the choice


def test_telegram_language_tags_map_onto_the_catalogs() -> None:
    assert [supported(c) for c in ("ru", "es-419", "ES", "pt-br", "", None)] == [
        "ru",
        "es",
        "es",
        None,
        None,
        None,
    ]


def test_a_language_the_catalog_lacks_falls_back_to_english() -> None:
    assert negotiate("de", None) == "en"
    assert negotiate(None, "ru") == "ru"
    assert render(Reminder(TITLE, ENDS, Checkout("t")), negotiate("fr")).text.startswith(
        "Your subscription"
    )


def test_a_persons_choice_wins_over_their_app() -> None:
    assert spoken(ChatLanguage("es", chosen=True), "ru") == "es"


def test_the_app_language_wins_over_what_it_said_before() -> None:
    assert spoken(ChatLanguage("es", chosen=False), "ru") == "ru"


def test_an_app_language_the_catalog_lacks_keeps_what_was_noted() -> None:
    assert spoken(ChatLanguage("es", chosen=False), "de") == "es"
    assert spoken(None, "de") is None


# ------------------------------------------------------ at send time


async def test_a_queued_notice_reads_in_the_language_its_recipient_reads_when_sent() -> None:
    book = InMemoryLanguageBook()
    messenger = InMemoryMessenger(book)
    reminder = Reminder(TITLE, ENDS, Checkout("tok1"))
    person = ChatId(2003)

    await messenger.send(person, reminder)
    await book.note(person, "ru")
    await messenger.send(person, reminder)
    await book.choose(person, "es")
    await messenger.send(person, reminder)

    first, second, third = (posted.message.text for posted in messenger.sent)
    assert first.startswith("Your subscription to Alpha Signals ends")
    assert CYRILLIC.search(second)
    assert third.startswith("Tu suscripción a Alpha Signals termina el 1 de abril de 2026")


async def test_words_an_older_release_queued_go_out_as_they_were_written() -> None:
    book = InMemoryLanguageBook()
    await book.choose(ChatId(5), "ru")
    old = Verbatim("Payment confirmed. Welcome to Alpha Signals!")

    assert (await render_for(ChatId(5), old, book)).text == old.text


async def test_a_channel_post_reads_in_the_language_its_owner_chose() -> None:
    book = InMemoryLanguageBook()
    offer = EXAMPLES[0]
    await book.choose(ChatId(-1001), "es")

    message = await render_for(ChatId(-1001), offer, book)
    assert message.text.startswith("Suscríbete a Alpha Signals")
    assert message.buttons[0][0].text == "30 días — 10 USD"
