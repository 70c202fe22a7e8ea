"""Owners' own wording (:mod:`core.ports.wordings`): what each kind of text may and
must hold, the check when it is saved, and how it is filled in when it goes out.

Placeholders are ``{name}`` (``{{`` and ``}}`` write a brace). Each kind has its
own: the welcome must give the ``{link}`` and the ``{end}``, the reminder the
``{end}``, the offer its prices (``{tiers}`` or ``{price}``), a tier's button its
``{price}``. Texts are Telegram HTML (:mod:`adapters.catalog.markup`), buttons plain
text. Limits are Telegram's: 4096 characters of a message as a person sees it
(after the markup); a button's label is held to 64, short enough for a phone's
keyboard row.
"""

from __future__ import annotations

import html
import string
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

import attrs

from adapters.catalog.language import _, speaking
from adapters.catalog.markup import MarkupError, check, visible
from adapters.catalog.words import money, tier_label, tier_term, when
from core.domain.money import Money
from core.domain.tier import Tier
from core.ports.wordings import WordingKind

__all__ = [
    "KINDS",
    "Spec",
    "Unusable",
    "fill",
    "kind_name",
    "problems",
    "sample",
    "spec",
    "values_for",
]

MAX_MESSAGE = 4096
"""Telegram's limit on a message's text, counted after the markup is parsed."""
MAX_CAPTION = 1024
"""Telegram's limit on a photo's caption: none of these texts is sent as one yet."""
MAX_BUTTON = 64


@attrs.frozen
class Spec:
    placeholders: tuple[str, ...]
    required: tuple[str, ...] = ()
    """Every one of these must appear."""
    one_of: tuple[str, ...] = ()
    """At least one of these must appear."""
    markup: bool = True
    limit: int = MAX_MESSAGE


KINDS: dict[WordingKind, Spec] = {
    WordingKind.OFFER: Spec(("title", "tiers", "price"), one_of=("tiers", "price")),
    WordingKind.OFFER_BUTTON: Spec(
        ("period", "price"), required=("price",), markup=False, limit=MAX_BUTTON
    ),
    WordingKind.INVITE: Spec(("title", "end", "link"), required=("link", "end")),
    WordingKind.REMINDER: Spec(("title", "end"), required=("end",)),
    WordingKind.ENDED: Spec(("title",)),
}


def spec(kind: WordingKind) -> Spec:
    return KINDS[kind]


def kind_name(kind: WordingKind) -> str:
    """What an owner calls the kind of message, in the current language."""
    match kind:
        case WordingKind.OFFER:
            return _("offer post")
        case WordingKind.OFFER_BUTTON:
            return _("offer's tier buttons")
        case WordingKind.INVITE:
            return _("welcome with the invite link")
        case WordingKind.REMINDER:
            return _("reminder before the end")
        case WordingKind.ENDED:
            return _("goodbye when it ends")


class Unusable(ValueError):
    """An owner's text cannot be sent as it stands; ``args[0]`` says why, in words."""


def _fields(template: str) -> list[str]:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise Unusable(
            _("A brace is not closed: write {{ and }} for a brace of your own.")
        ) from exc
    names = []
    for _text, name, spec_, conversion in parsed:
        if name is None:
            continue
        if spec_ or conversion or not name.isidentifier():
            raise Unusable(_("{%(name)s} is not a placeholder.", name=name))
        names.append(name)
    return names


def problems(kind: WordingKind, template: str) -> list[str]:
    """What is wrong with ``template`` as an owner's ``kind`` text (nothing: it can be
    saved): unknown or missing placeholders, markup, length with sample values."""
    rule = KINDS[kind]
    try:
        names = set(_fields(template))
    except Unusable as exc:
        return [str(exc)]
    found: list[str] = []
    unknown = sorted(names - set(rule.placeholders))
    if unknown:
        found.append(
            _(
                "Unknown placeholders: %(names)s. This text may use %(allowed)s.",
                names=_listed(unknown),
                allowed=_listed(rule.placeholders),
            )
        )
    missing = [name for name in rule.required if name not in names]
    if missing:
        found.append(_("It must contain %(names)s.", names=_listed(missing)))
    if rule.one_of and not names & set(rule.one_of):
        found.append(_("It must contain one of %(names)s.", names=_listed(rule.one_of)))
    if not found:
        try:
            fill(kind, template, sample(kind))
        except Unusable as exc:
            found.append(str(exc))
    return found


def fill(kind: WordingKind, template: str, values: Mapping[str, str]) -> str:
    """``template`` with ``values`` put in (escaped where it is markup), checked as
    Telegram will check it. Raises Unusable."""
    rule = KINDS[kind]
    names = _fields(template)
    unknown = set(names) - set(rule.placeholders)
    if unknown:
        raise Unusable(_("Unknown placeholders: %(names)s.", names=_listed(sorted(unknown))))
    put = {k: html.escape(v) if rule.markup else v for k, v in values.items()}
    text = template.format_map(put)
    if rule.markup:
        try:
            check(text)
        except MarkupError as exc:
            raise Unusable(
                _(
                    "Telegram would refuse the markup at “%(where)s”: use only "
                    "<b>, <i>, <u>, <s>, <a href>, <code>, <pre>, <tg-spoiler> and "
                    "<blockquote>, each closed, and write &lt; &gt; &amp; for < > &.",
                    where=str(exc)[:40],
                )
            ) from exc
    shown = visible(text) if rule.markup else text
    if not shown.strip():
        raise Unusable(_("The text is empty."))
    if len(shown) > rule.limit:
        raise Unusable(
            _(
                "It is %(length)s characters long; Telegram takes at most %(limit)s.",
                length=len(shown),
                limit=rule.limit,
            )
        )
    return text


def _listed(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join("{" + name + "}" for name in names)


SAMPLE_TITLE = "Alpha"
SAMPLE_END = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
SAMPLE_LINK = "https://t.me/+AbCdEf123456"
SAMPLE_TIERS = (
    Tier(1, Money(Decimal("10"), "USD"), 30),
    Tier(2, Money(Decimal("25"), "USD"), 90),
)


def sample(kind: WordingKind, language: str | None = None) -> dict[str, str]:
    """Values a preview fills ``kind`` with (in ``language``; None: the current one)."""
    with speaking(language):
        return values_for(kind, SAMPLE_TITLE, SAMPLE_END, SAMPLE_LINK, SAMPLE_TIERS)


def values_for(
    kind: WordingKind,
    title: str,
    end: datetime | None = None,
    link: str | None = None,
    tiers: tuple[Tier, ...] = (),
) -> dict[str, str]:
    """What each placeholder of ``kind`` reads, in the current language."""
    if kind is WordingKind.OFFER:
        cheapest = min(tiers, key=lambda t: t.price.amount) if tiers else None
        return {
            "title": title,
            "tiers": "\n".join(f"• {tier_label(t)}" for t in tiers),
            "price": money(cheapest.price) if cheapest is not None else "",
        }
    if kind is WordingKind.OFFER_BUTTON:
        tier = tiers[0]
        return {"price": money(tier.price), "period": tier_term(tier)}
    values = {"title": title}
    if end is not None:
        values["end"] = when(end)
    if link is not None:
        values["link"] = link
    return values
