"""Owners' own wording: what a text may hold (checked on save), and what goes out when
a saved one cannot be used (the catalog's words, its author told once)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.catalog.markup import MarkupError, check, visible
from adapters.catalog.notices import compose, failure_notes
from adapters.catalog.wording import fill, problems, sample
from adapters.outbound.memory.wordings import InMemoryWordingBook
from core.domain.ids import ChannelId, ChatId, UserId
from core.domain.messages import (
    CheckoutWithBot,
    Invite,
    Offer,
    OfferedTier,
    OfferedTrial,
    OpenLink,
)
from core.domain.money import Money
from core.domain.tier import Tier
from core.ports.wordings import Wording, WordingKind

CHANNEL = ChannelId("ch1")
OWNER = UserId(1001)
SUBSCRIBER = ChatId(2002)
ENDS = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
WELCOME = WordingKind.INVITE


@pytest.mark.parametrize(
    "text",
    [
        "<b>bold</b> <i>it</i> <u>u</u> <s>s</s> <code>x</code> <pre><code>y</code></pre>",
        '<a href="https://example.com/?a=1&amp;b=2">link</a> &lt;3 &#169;',
        "<tg-spoiler>secret</tg-spoiler> <blockquote expandable>quote</blockquote>",
    ],
)
def test_telegrams_html_subset_is_accepted(text: str) -> None:
    check(text)


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<b>open",
        "<b><i>crossed</b></i>",
        "1 < 2",
        "fish & chips",
        '<a href="javascript:alert(1)">x</a>',
        '<b class="x">attr</b>',
        "<code><b>inside code</b></code>",
        "<span>not in the list</span>",
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(MarkupError):
        check(text)


def test_the_text_a_person_sees_has_no_tags_and_reads_entities() -> None:
    assert visible("<b>5 &lt; 6</b> &amp; more") == "5 < 6 & more"


def test_a_welcome_with_its_link_and_end_can_be_saved() -> None:
    assert problems(WELCOME, "<b>Welcome</b> to {title}! Until {end}: {link}") == []


def test_a_welcome_without_its_link_or_end_is_refused_naming_them() -> None:
    assert problems(WELCOME, "Welcome to {title}!") == ["It must contain {link}, {end}."]


def test_an_unknown_placeholder_is_refused_with_the_ones_allowed() -> None:
    assert problems(WordingKind.REMINDER, "Ends {end}, {price}") == [
        "Unknown placeholders: {price}. This text may use {title}, {end}."
    ]


@pytest.mark.parametrize("text", ["Ends {end", "Ends {end.__class__}", "Ends {end!r}"])
def test_a_malformed_placeholder_is_refused(text: str) -> None:
    assert problems(WordingKind.REMINDER, text) != []


def test_an_offer_must_show_its_prices() -> None:
    assert problems(WordingKind.OFFER, "Join {title}") == [
        "It must contain one of {tiers}, {price}."
    ]
    assert problems(WordingKind.OFFER, "From {price} a month") == []


def test_a_text_over_telegrams_limit_is_refused_counting_what_people_see() -> None:
    long = "<b>" + "x" * 4000 + "</b> {end}"
    assert problems(WordingKind.REMINDER, long) == []  # the tags are not counted
    assert problems(WordingKind.REMINDER, "x" * 4096 + "{end}") == [
        "It is 4116 characters long; Telegram takes at most 4096."
    ]


def test_a_button_label_is_plain_and_short() -> None:
    assert problems(WordingKind.OFFER_BUTTON, "{period} for {price}") == []
    assert problems(WordingKind.OFFER_BUTTON, "x" * 60 + " {price}") == [
        "It is 67 characters long; Telegram takes at most 64."
    ]


def test_values_put_into_a_text_are_escaped() -> None:
    filled = fill(WordingKind.ENDED, "<b>{title}</b> is over", {"title": "<i>Tom & Jerry</i>"})
    assert filled == "<b>&lt;i&gt;Tom &amp; Jerry&lt;/i&gt;</b> is over"


def test_the_preview_fills_sample_values_in_the_owners_language() -> None:
    assert sample(WordingKind.REMINDER, "es")["end"] == "1 de marzo de 2027, 12:00 UTC"


async def _published(book: InMemoryWordingBook, text: str, language: str = "en") -> None:
    await book.stage(Wording(CHANNEL, WELCOME, language, text, OWNER))
    await book.publish(CHANNEL, WELCOME, language)


def invite(title: str = "Alpha") -> Invite:
    return Invite(title, ENDS, OpenLink("https://t.me/+abc"), CHANNEL)


async def test_an_invite_goes_in_the_owners_words_as_html() -> None:
    book = InMemoryWordingBook()
    await _published(book, "<b>Hi!</b> {title} until {end}: {link}")

    composed = await compose(SUBSCRIBER, invite("A&B"), None, book)

    assert composed.message.html
    assert composed.message.text == (
        "<b>Hi!</b> A&amp;B until 2027-03-01 12:00 UTC: https://t.me/+abc"
    )
    assert composed.failures == ()


async def test_a_text_in_another_language_leaves_the_catalogs_words() -> None:
    book = InMemoryWordingBook()
    await _published(book, "Hola {end} {link}", "es")

    composed = await compose(SUBSCRIBER, invite(), None, book)

    assert not composed.message.html
    assert composed.message.text.startswith("Payment confirmed. Welcome to Alpha!")


async def test_a_broken_text_sends_the_catalogs_words_and_tells_its_author_once() -> None:
    book = InMemoryWordingBook()
    await _published(book, "Hi {nickname}, until {end}: {link}")  # saved by hand

    composed = await compose(SUBSCRIBER, invite(), None, book)
    notes = await failure_notes(composed.failures, None, book)
    again = await compose(SUBSCRIBER, invite(), None, book)

    assert composed.message.text.startswith("Payment confirmed. Welcome to Alpha!")
    assert [(chat, note.text.split(". ")[0]) for chat, note in notes] == [
        (
            ChatId(OWNER),
            "Your own text for the welcome with the invite link of Alpha (en) could not be "
            "used, so PayGate's own words went out instead",
        )
    ]
    assert "Unknown placeholders: {nickname}." in notes[0][1].text
    assert await failure_notes(again.failures, None, book) == []


async def test_a_title_too_long_for_the_limit_falls_back_too() -> None:
    book = InMemoryWordingBook()
    await _published(book, "x" * 3000 + " {title} {end} {link}")

    composed = await compose(SUBSCRIBER, invite("T" * 1500), None, book)

    assert not composed.message.html
    assert len(composed.failures) == 1


async def test_an_offer_in_the_owners_words_keeps_the_catalogs_trial_button() -> None:
    book = InMemoryWordingBook()
    for kind, text in (
        (WordingKind.OFFER, "Join {title}: {tiers}"),
        (WordingKind.OFFER_BUTTON, "{period}, {price}"),
    ):
        await book.stage(Wording(CHANNEL, kind, "en", text, OWNER))
        await book.publish(CHANNEL, kind, "en")
    pay = CheckoutWithBot("paygate_bot", "ch1_1_tag")
    take = CheckoutWithBot("paygate_bot", "ch1_9_tag")
    offer = Offer(
        "Alpha",
        (OfferedTier(Tier.lifetime(1, Money.of(99, "USD")), pay),),
        CHANNEL,
        OfferedTrial(7, None, take),
    )

    composed = await compose(ChatId(-100), offer, None, book)

    assert composed.message.text == "Join Alpha: • lifetime — 99 USD"
    assert [[b.text for b in row] for row in composed.message.buttons] == [
        ["lifetime, 99 USD"],
        ["Free trial: 7 days"],
    ]
    assert composed.message.buttons[1][0].url == "https://t.me/paygate_bot?start=ch1_9_tag"
