"""Refusals and pause reasons read in the reader's language: every code a domain
error carries is worded in every catalog, a stored system pause reason is a code the
catalog words, and an owner's (or an older release's) text shows as it was stored."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from adapters.catalog.language import LANGUAGES, speaking
from adapters.catalog.refusals import Worded, pause_reason, refusal
from adapters.inbound.telegram.errors import describe
from core.domain.errors import DomainError, InvalidAmount, MissingRights, SalesPaused, Why
from core.domain.money import Money
from core.domain.pause import PauseCause, PauseReason, decode, encode
from core.domain.rights import Right

CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)  # noqa: RUF001 (Russian letters, on purpose)
VALUES: dict[str, object] = {
    "given": "xyz",
    "first": "USD",
    "second": "EUR",
    "most": 3,
    "least": Money("1", "USD"),
    "currency": "BTC",
    "number": 2,
    "title": "Alpha Signals",
    "which": "closed",
    "chat": -1002,
    "open": -1001,
    "closed": -1002,
    "user": 77,
    "reason": "",
    "minutes": 5,
    "charge": "ch_1",
    "n": 2,
    "text": "as the adapter said",
    "what": "payment",
    "source": "finished",
    "target": "waiting",
    "tag": "mismatch",
    "detail": "the state does not match",
    "days": 30,
}
CORE = Path(__file__).resolve().parents[3] / "core"
GENERIC = {Why.ORDER_ID, Why.MOVE_REFUSED, Why.ADAPTER}
"""Codes people read as a generic refusal (or, for an adapter's own, its words)."""


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("why", list(Why))
def test_every_refusal_is_worded_in_every_language(why: Why, language: str) -> None:
    error = DomainError(why, **VALUES)
    with speaking(language):
        text = refusal(error)
    assert text.strip() and "%(" not in text and "Why." not in text
    assert text[0] == text[0].upper()
    if language == "ru" and why not in GENERIC:
        assert CYRILLIC.search(text), text


def test_a_refusal_fills_in_its_values_in_the_readers_language() -> None:
    error = SalesPaused(Why.SALES_PAUSED, title="Alpha Signals")
    assert refusal(error) == "Alpha Signals is not taking new subscriptions right now."
    with speaking("es"):
        assert refusal(error) == "Alpha Signals no acepta nuevas suscripciones ahora mismo."
    below = InvalidAmount(Why.DONATION_BELOW, least=Money("2.50", "USD"))
    with speaking("ru"):
        assert refusal(below) == "Самый маленький донат — 2,5 USD."
    assert str(below) == "donation_below(least=2.50 USD)"  # the log's technical line


def test_missing_rights_are_named_in_the_readers_language() -> None:
    error = MissingRights(
        Why.BOT_RIGHTS, (Right.INVITE_USERS.value, Right.DELETE_MESSAGES.value), which="closed"
    )
    assert refusal(error) == (
        "Make the bot an admin of the closed channel with: invite users, delete messages."
    )
    with speaking("es"):
        assert "invitar usuarios" in refusal(error)


def test_the_bot_answers_a_refusal_in_the_persons_language() -> None:
    with speaking("ru"):
        said = describe(SalesPaused(Why.SALES_PAUSED, title="Alpha"))
    assert said == "Alpha сейчас не принимает новые подписки."
    assert describe(Worded("Already in your words.")) == "Already in your words."


def test_a_system_pause_reason_is_stored_as_a_code_and_read_in_each_language() -> None:
    stored = encode(
        [
            PauseReason(PauseCause.RIGHTS_LOST, "open", (Right.DELETE_MESSAGES,)),
            PauseReason(PauseCause.BOT_ABSENT, "closed"),
        ]
    )
    assert decode(stored) == (
        PauseReason(PauseCause.RIGHTS_LOST, "open", (Right.DELETE_MESSAGES,)),
        PauseReason(PauseCause.BOT_ABSENT, "closed"),
    )
    assert pause_reason(stored) == (
        "the bot lost its right to delete messages in the open channel; "
        "the bot is not in the closed channel any more"
    )
    with speaking("ru"):
        assert CYRILLIC.search(pause_reason(stored))
    with speaking("es"):
        assert "canal cerrado" in pause_reason(stored)


@pytest.mark.parametrize(
    "stored",
    [
        "the bot lost its right to post",  # written by an older release
        "holiday break, back on Monday",  # typed by the owner
        "paygate-pause:not json",
        'paygate-pause:[{"cause":"no_such_cause"}]',
        "paygate-pause:[]",
    ],
)
def test_a_text_that_is_not_a_code_shows_as_it_was_stored(stored: str) -> None:
    assert decode(stored) is None
    with speaking("ru"):
        assert pause_reason(stored) == stored


def test_telegrams_own_words_ride_along_a_refused_post() -> None:
    stored = encode([PauseReason(PauseCause.POST_REFUSED, detail="chat not found")])
    assert pause_reason(stored) == "Telegram refused the bot's post (chat not found)"


def raised_in_core() -> list[tuple[str, Why, frozenset[str]]]:
    """Every ``Why.X`` core builds an error with, and the values it names there."""
    found = []
    for path in sorted(CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            first = node.args[0]
            if (
                isinstance(first, ast.Attribute)
                and isinstance(first.value, ast.Name)
                and first.value.id == "Why"
            ):
                names = {k.arg for k in node.keywords}
                if None in names:  # **values: checked by the tests of that use case
                    continue
                where = f"{path.relative_to(CORE.parent)}:{node.lineno}"
                found.append((where, Why[first.attr], frozenset(n for n in names if n)))
    return found


def test_core_raises_refusals_to_check() -> None:
    assert len(raised_in_core()) > 50


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("where", "why", "names"), raised_in_core(), ids=[w for w, _, _ in raised_in_core()]
)
def test_every_refusal_core_raises_gives_the_values_its_words_need(
    where: str, why: Why, names: frozenset[str], language: str, caplog: pytest.LogCaptureFixture
) -> None:
    error = DomainError(why, **{name: VALUES[name] for name in names})
    with speaking(language):
        text = refusal(error)
    assert "cannot be worded" not in caplog.text, where
    assert "%(" not in text


def test_a_refusal_missing_a_value_still_reads_as_a_sentence() -> None:
    assert refusal(SalesPaused(Why.SALES_PAUSED)) == "That cannot be done."
