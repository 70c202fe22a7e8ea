"""Which language the catalog speaks, and its gettext catalogs.

The words are English msgids marked with :func:`_` (one text) and :func:`n_` (a text
with plural forms), extracted by ``pybabel extract`` (``babel.cfg``) into
``locales/messages.pot`` and translated in ``locales/<language>/LC_MESSAGES/
paygate.po``. Placeholders are named (``%(title)s``), so a translation may put them
in any order, and a checker (tests/unit/catalog) holds every catalog to the same
placeholders.

The .po files are compiled when a language is first used, in memory (Babel's reader
and writer, the same code ``pybabel compile`` runs): no binary .mo sits in git to go
stale beside its .po, and no build step has to remember to compile before the tests,
the demo or the image. It costs a few milliseconds once per process and language.

The language is a context variable: the bot sets it for the update it handles (the
person's stored choice, else Telegram's ``language_code``) and the messengers around
each render (the recipient's language looked up at send time), so every function of
the catalog reads it without threading a parameter through every handler.
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

__all__ = [
    "DEFAULT",
    "LANGUAGES",
    "LOCALES",
    "_",
    "activate",
    "current",
    "locale",
    "menu",
    "n_",
    "name_of",
    "negotiate",
    "speaking",
    "supported",
    "translations",
]

DOMAIN = "paygate"
LOCALES = Path(__file__).parent / "locales"
DEFAULT = "en"
LANGUAGES: tuple[str, ...] = ("en", "ru", "es")
"""Every language the catalog is complete in (a test holds each .po to every msgid)."""

_current: ContextVar[str] = ContextVar("paygate_language", default=DEFAULT)


def supported(code: str | None) -> str | None:
    """The catalog's language for an IETF tag as Telegram sends it (``ru``, ``es-419``,
    ``pt-br``), or None when the catalog does not speak it."""
    if not code:
        return None
    primary = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else None


def negotiate(*codes: str | None) -> str:
    """The first of ``codes`` the catalog speaks (a stored choice before Telegram's
    ``language_code``), else English."""
    for code in codes:
        found = supported(code)
        if found is not None:
            return found
    return DEFAULT


@functools.cache
def translations(language: str) -> gettext.GNUTranslations:
    """The compiled catalog of ``language`` (one of :data:`LANGUAGES`)."""
    if language not in LANGUAGES:
        raise ValueError(f"no catalog for {language!r}")
    path = LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def current() -> str:
    return _current.get()


def locale() -> Locale:
    """The current language as Babel's CLDR locale: dates, numbers, plural rules."""
    return _locales(current())


@functools.cache
def _locales(language: str) -> Locale:
    return Locale.parse(language)


def name_of(language: str, *, own: bool = False) -> str:
    """A language's name in the current language ("español" mid-sentence), or in its
    own, capitalised (``own``: how a menu lists it, "Español", so a person finds theirs
    whatever they read now)."""
    shown = _locales(language) if own else locale()
    name = _locales(language).get_display_name(shown) or language
    return name[:1].upper() + name[1:] if own else name


def menu() -> list[tuple[str, str]]:
    """Every language as (code, its own name)."""
    return [(code, name_of(code, own=True)) for code in LANGUAGES]


def activate(language: str) -> None:
    """Speak ``language`` for the rest of this task (one bot update is one task)."""
    _current.set(negotiate(language))


@contextmanager
def speaking(language: str | None) -> Iterator[str]:
    """Speak ``language`` (None: the current one) inside the block."""
    token = _current.set(negotiate(language) if language is not None else current())
    try:
        yield current()
    finally:
        _current.reset(token)


def _(message: str, **values: object) -> str:
    """``message`` in the current language, its ``%(name)s`` placeholders filled."""
    text = translations(current()).gettext(message)
    return text % values if values else text


def n_(singular: str, plural: str, n: int, **values: object) -> str:
    """The form of a counted text the current language uses for ``n`` (``%(n)s`` is
    ``n`` unless given)."""
    text = translations(current()).ngettext(singular, plural, n)
    return text % {"n": n, **values}
