"""What the bot says to an owner writing their channel's own wording (/wording), in
the owner's language; the rules themselves are :mod:`adapters.catalog.wording`'s."""

from __future__ import annotations

from adapters.catalog.language import _, name_of
from adapters.catalog.message import Button, OutgoingMessage
from adapters.catalog.wording import KINDS, fill, kind_name, sample
from core.ports.wordings import Wording, WordingKind

SAVE = "ws"
DISCARD = "wx"


def _placeholders(kind: WordingKind) -> str:
    rule = KINDS[kind]
    return ", ".join("{" + name + "}" for name in rule.placeholders)


def usage() -> str:
    kinds = "\n".join(f"• {kind.value} — {kind_name(kind)}" for kind in WordingKind)
    return _(
        "Write your channel's messages in your own words, per language:\n"
        "/wording <channel> — what you wrote so far\n"
        "/wording <channel> <kind> <language> — write one (the text comes next)\n"
        "/wording <channel> <kind> <language> reset — back to PayGate's words\n\n"
        "Kinds:\n%(kinds)s",
        kinds=kinds,
    )


def listing(title: str, number: int, wordings: list[Wording]) -> str:
    if not wordings:
        return _(
            "%(number)s. %(title)s uses PayGate's own words everywhere.",
            number=number,
            title=title,
        )
    lines = [_("%(number)s. %(title)s, in your own words:", number=number, title=title)]
    lines += [
        f"• {w.kind.value} ({name_of(w.language)}): {w.text[:60]}"
        + ("…" if len(w.text) > 60 else "")
        for w in wordings
    ]
    return "\n".join(lines)


def ask(kind: WordingKind, language: str, title: str) -> str:
    rule = KINDS[kind]
    needed = [*rule.required]
    text = _(
        "Send the %(kind)s of %(title)s in %(language)s as your next message.\n"
        "Placeholders: %(placeholders)s.",
        kind=kind_name(kind),
        title=title,
        language=name_of(language),
        placeholders=_placeholders(kind),
    )
    if needed:
        text += "\n" + _(
            "It must contain %(names)s.", names=", ".join("{" + n + "}" for n in needed)
        )
    if rule.one_of:
        text += "\n" + _(
            "It must contain one of %(names)s.",
            names=", ".join("{" + n + "}" for n in rule.one_of),
        )
    if rule.markup:
        text += "\n" + _(
            "You may format it in Telegram or write HTML: <b>, <i>, <u>, <s>, "
            '<a href="…">, <code>, <pre>, <tg-spoiler>, <blockquote>.'
        )
    else:
        text += "\n" + _("Plain text, at most %(limit)s characters.", limit=rule.limit)
    return text


def refused(problems: list[str]) -> str:
    lines = [_("I cannot use this text:")] + [f"• {p}" for p in problems]
    lines.append(_("Send it again corrected, or /cancel."))
    return "\n".join(lines)


def preview(kind: WordingKind, language: str, text: str) -> OutgoingMessage:
    """The text filled with sample values, as subscribers would read it, with the
    buttons that save it or drop it."""
    filled = fill(kind, text, sample(kind, language))
    buttons = (
        (Button(_("Save"), callback_data=SAVE), Button(_("Discard"), callback_data=DISCARD)),
    )
    if not KINDS[kind].markup:
        return OutgoingMessage(
            _("Preview: the offer's buttons will read “%(label)s”.", label=filled), buttons
        )
    return OutgoingMessage(filled, buttons, html=True)


def saved(kind: WordingKind, language: str, title: str) -> str:
    return _(
        "Saved: the %(kind)s of %(title)s in %(language)s is in your words from now on.",
        kind=kind_name(kind),
        title=title,
        language=name_of(language),
    )


def discarded() -> str:
    return _("Discarded: nothing changed.")


def reset(kind: WordingKind, language: str, title: str, done: bool) -> str:
    if not done:
        return _(
            "The %(kind)s of %(title)s in %(language)s already uses PayGate's words.",
            kind=kind_name(kind),
            title=title,
            language=name_of(language),
        )
    return _(
        "The %(kind)s of %(title)s in %(language)s is back to PayGate's words.",
        kind=kind_name(kind),
        title=title,
        language=name_of(language),
    )


def unknown_kind(given: str) -> str:
    return _(
        "“%(given)s” is not a kind of message. Kinds: %(kinds)s.",
        given=given,
        kinds=", ".join(kind.value for kind in WordingKind),
    )


def timed_out() -> str:
    return _("Your /wording waited too long and was dropped: nothing changed.")


def cancelled() -> str:
    return _("Cancelled: nothing changed.")
