"""The catalog's entry for each notice the core sends (:mod:`core.domain.messages`):
its text and its buttons, in the recipient's language (:mod:`adapters.catalog.language`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from html import escape
from typing import assert_never

import attrs

from adapters.catalog.buttons import decide_seller_data, deep_link, renew_data
from adapters.catalog.language import DEFAULT, _, n_, speaking
from adapters.catalog.message import Button, OutgoingMessage
from adapters.catalog.refusals import pause_reason
from adapters.catalog.wording import Unusable, fill, kind_name, values_for
from adapters.catalog.words import (
    days,
    fixed_term,
    is_forever,
    money,
    tier_label,
    trial_label,
    when,
)
from core.domain.ids import ChannelId, ChatId
from core.domain.messages import (
    ChannelReclaimed,
    Checkout,
    CheckoutWithBot,
    DecideSeller,
    Digest,
    DonateInvitation,
    DonationRefunded,
    DonationThanks,
    Ended,
    Invite,
    JoinDeclined,
    Notice,
    Offer,
    OpenLink,
    OwnerDonation,
    OwnerPayment,
    OwnerRefund,
    PartialPayment,
    PausedSales,
    Refunded,
    Reminder,
    Renewed,
    ResumedSales,
    SellerApproved,
    SellerAsked,
    SellerDeclined,
    Verbatim,
)
from core.domain.money import Money
from core.ports.errors import Unavailable
from core.ports.languages import LanguageBook
from core.ports.wordings import Wording, WordingBook, WordingKind

logger = logging.getLogger("paygate.catalog")


def render(notice: Notice, language: str | None = None) -> OutgoingMessage:
    """``notice`` in ``language`` (None: the language the catalog speaks now)."""
    with speaking(language):
        return _render(notice)


async def render_for(
    chat_id: ChatId, notice: Notice, languages: LanguageBook | None
) -> OutgoingMessage:
    """``notice`` in the language ``chat_id`` reads now (English when the book has no
    entry, or there is no book): looked up when the message goes out, so a notice
    queued before a person chose a language, or by an older release, reads in it."""
    return render(notice, await language_of(chat_id, languages))


async def language_of(chat_id: ChatId, languages: LanguageBook | None) -> str:
    held = await languages.get(chat_id) if languages is not None else None
    return held.language if held is not None else DEFAULT


@attrs.frozen
class Failure:
    """An owner's text that could not be used for one message (the catalog's words
    went instead): what it was filled with, to tell its author why."""

    wording: Wording
    title: str
    values: Mapping[str, str] | None
    """None: Telegram itself refused the text."""


@attrs.frozen
class Composed:
    message: OutgoingMessage
    used: tuple[Wording, ...] = ()
    """The owners' texts in it (the message is HTML when one of them is its text)."""
    failures: tuple[Failure, ...] = ()


async def compose(
    chat_id: ChatId,
    notice: Notice,
    languages: LanguageBook | None,
    wordings: WordingBook | None,
) -> Composed:
    """``notice`` as :func:`render_for` renders it, in the channel owner's own words
    where they wrote some for the recipient's language (the offer and its buttons, the
    welcome, the reminder, the goodbye). A text that cannot be used, or a book that
    cannot be read, never stops the message: the catalog's words go instead, and the
    failures are returned so the messenger tells the text's author."""
    language = await language_of(chat_id, languages)
    channel, kinds = _worded(notice)
    found: dict[WordingKind, Wording] = {}
    if wordings is not None and channel is not None:
        try:
            for kind in kinds:
                wording = await wordings.get(channel, kind, language)
                if wording is not None:
                    found[kind] = wording
        except Unavailable:
            logger.warning("wording book unavailable; sending the catalog's words")
            found = {}
    with speaking(language):
        default = _render(notice)
        if not found:
            return Composed(default)
        return _own_words(notice, default, found)


def _worded(notice: Notice) -> tuple[ChannelId | None, tuple[WordingKind, ...]]:
    match notice:
        case Offer(channel=channel):
            return channel, (WordingKind.OFFER, WordingKind.OFFER_BUTTON)
        case Invite(channel=channel):
            return channel, (WordingKind.INVITE,)
        case Reminder(channel=channel):
            return channel, (WordingKind.REMINDER,)
        case Ended(channel=channel):
            return channel, (WordingKind.ENDED,)
        case _:
            return None, ()


def _own_words(
    notice: Notice, default: OutgoingMessage, found: dict[WordingKind, Wording]
) -> Composed:
    used: list[Wording] = []
    failures: list[Failure] = []
    title = getattr(notice, "title", "")

    def attempt(kind: WordingKind, values: dict[str, str]) -> str | None:
        wording = found.get(kind)
        if wording is None:
            return None
        try:
            text = fill(kind, wording.text, values)
        except Unusable:
            failures.append(Failure(wording, title, values))
            return None
        if wording not in used:
            used.append(wording)
        return text

    text, html, buttons = default.text, False, default.buttons
    match notice:
        case Offer(tiers=tiers, includes=includes):
            own = _with_includes(
                attempt(
                    WordingKind.OFFER,
                    values_for(WordingKind.OFFER, title, tiers=tuple(t.tier for t in tiers)),
                ),
                includes,
            )
            labels = [
                attempt(
                    WordingKind.OFFER_BUTTON,
                    values_for(WordingKind.OFFER_BUTTON, title, tiers=(t.tier,)),
                )
                for t in tiers
            ]
            if own is not None:
                text, html = own, True
            if all(label is not None for label in labels):
                buttons = tuple(
                    (_button(label or "", t.pay),) for label, t in zip(labels, tiers, strict=True)
                )
                # The Trial button is the catalog's: the owners' words are per tier.
                buttons += tuple(row for row in default.buttons[len(tiers) :])
            else:
                used[:] = [w for w in used if w.kind is not WordingKind.OFFER_BUTTON]
        case Invite(expires_at=ends, join=join):
            own = attempt(WordingKind.INVITE, values_for(WordingKind.INVITE, title, ends, join.url))
            if own is not None:
                text, html = own, True
        case Reminder(expires_at=ends, includes=includes):
            own = _with_includes(
                attempt(WordingKind.REMINDER, values_for(WordingKind.REMINDER, title, ends)),
                includes,
            )
            if own is not None:
                text, html = own, True
        case Ended():
            own = attempt(WordingKind.ENDED, values_for(WordingKind.ENDED, title))
            if own is not None:
                text, html = own, True
        case _:
            pass
    # One failing button label sends the catalog's labels for all: a mixed keyboard
    # would read oddly, and the failure reaches the owner once all the same.
    failures = list({id(f.wording): f for f in failures}.values())
    return Composed(OutgoingMessage(text, buttons, html=html), tuple(used), tuple(failures))


def _with_includes(own: str | None, includes: tuple[str, ...]) -> str | None:
    """An owner's own text (HTML) followed by what the subscription includes."""
    if own is None or not includes:
        return own
    return f"{own}\n\n{escape(_includes(includes))}"


def _includes(includes: tuple[str, ...]) -> str:
    return _("Includes: %(channels)s", channels=", ".join(includes))


async def failure_notes(
    failures: tuple[Failure, ...],
    languages: LanguageBook | None,
    wordings: WordingBook,
) -> list[tuple[ChatId, OutgoingMessage]]:
    """What to tell each failing text's author, the first time it failed since they
    published it (later failures are not news), in the author's language."""
    notes = []
    for failure in failures:
        wording = failure.wording
        author = ChatId(wording.author)
        try:
            first = await wordings.first_failure(wording.channel_id, wording.kind, wording.language)
            language = await language_of(author, languages) if first else DEFAULT
        except Unavailable:
            continue  # told next time the book answers
        if not first:
            continue
        with speaking(language):
            notes.append((author, _failure_note(failure)))
    return notes


def _failure_note(failure: Failure) -> OutgoingMessage:
    wording = failure.wording
    reason = _("Telegram refused it.")
    if failure.values is not None:
        try:
            fill(wording.kind, wording.text, failure.values)
        except Unusable as exc:
            reason = str(exc)
    return OutgoingMessage(
        _(
            "Your own text for the %(kind)s of %(title)s (%(language)s) could not be used, "
            "so PayGate's own words went out instead. %(reason)s\n"
            "Write it again with /wording, or go back to PayGate's words with "
            "/wording <channel> %(code)s %(language)s reset.",
            kind=kind_name(wording.kind),
            title=failure.title,
            language=wording.language,
            reason=reason,
            code=wording.kind.value,
        )
    )


def _render(notice: Notice) -> OutgoingMessage:
    match notice:
        case Offer():
            return _offer(notice)
        case DonateInvitation(title=title, donate=donate):
            return OutgoingMessage(
                _("Enjoying %(title)s? You can support it with a donation.", title=title),
                ((_button(_("Donate"), donate),),),
            )
        case Invite(title=title, expires_at=ends, join=join, trial=True):
            return OutgoingMessage(
                _(
                    "Welcome to %(title)s! Your trial runs until %(end)s.\n"
                    "This link is yours alone: tap it and ask to join, and I will let you in.",
                    title=title,
                    end=when(ends),
                ),
                ((_button(_("Join %(title)s", title=title), join),),),
            )
        case Invite(title=title, expires_at=ends, join=join) if is_forever(ends):
            return OutgoingMessage(
                _(
                    "Payment confirmed. Welcome to %(title)s, for life!\n"
                    "This link is yours alone: tap it and ask to join, and I will let you in.",
                    title=title,
                ),
                ((_button(_("Join %(title)s", title=title), join),),),
            )
        case Invite(title=title, expires_at=ends, join=join):
            return OutgoingMessage(
                _(
                    "Payment confirmed. Welcome to %(title)s!\n"
                    "Your subscription runs until %(end)s.\n"
                    "This link is yours alone: tap it and ask to join, and I will let you in.",
                    title=title,
                    end=when(ends),
                ),
                ((_button(_("Join %(title)s", title=title), join),),),
            )
        case Renewed(title=title, expires_at=ends) if is_forever(ends):
            return OutgoingMessage(
                _("Payment confirmed. Your access to %(title)s is now for life.", title=title)
            )
        case Renewed(title=title, expires_at=ends):
            return OutgoingMessage(
                _(
                    "Payment confirmed. Your subscription to %(title)s now runs until %(end)s.",
                    title=title,
                    end=when(ends),
                )
            )
        case Reminder(title=title, expires_at=ends, renew=renew, includes=includes):
            text = _(
                "Your subscription to %(title)s ends on %(end)s. Renew to keep your access.",
                title=title,
                end=when(ends),
            )
            if includes:
                text = f"{text}\n{_includes(includes)}"
            return OutgoingMessage(text, ((_button(_("Renew"), renew),),))
        case Ended(title=title, subscribe_again=again):
            return OutgoingMessage(
                _(
                    "Your subscription to %(title)s has ended. You can come back any time.",
                    title=title,
                ),
                ((_button(_("Subscribe again"), again),),),
            )
        case JoinDeclined(title=title):
            return OutgoingMessage(
                _(
                    "I could not let you into %(title)s: there is no active subscription in "
                    "your name. Invite links are personal; pick a tier from the channel's "
                    "offer to subscribe.",
                    title=title,
                )
            )
        case DonationThanks(title=title, amount=amount):
            return OutgoingMessage(
                _(
                    "Thank you! Your donation of %(amount)s to %(title)s has arrived.",
                    amount=money(amount),
                    title=title,
                )
            )
        case Refunded(title=title, amount=amount, ends=ends):
            if ends is not None:
                text = _(
                    "Your payment of %(amount)s for %(title)s was refunded. "
                    "Your subscription now ends on %(end)s.",
                    amount=money(amount),
                    title=title,
                    end=when(ends),
                )
            else:
                text = _(
                    "Your payment of %(amount)s for %(title)s was refunded. "
                    "The time it paid for is taken back, so your access has ended.",
                    amount=money(amount),
                    title=title,
                )
            return OutgoingMessage(text)
        case DonationRefunded(title=title, amount=amount):
            return OutgoingMessage(
                _(
                    "Your donation of %(amount)s to %(title)s was refunded.",
                    amount=money(amount),
                    title=title,
                )
            )
        case PartialPayment():
            return _partial_payment(notice)
        case OwnerPayment():
            values = {
                "title": notice.title,
                "user": notice.user_id,
                "period": days(notice.duration_days)
                if notice.ends_at is None
                else fixed_term(notice.ends_at),
                "price": money(notice.price),
                "paid": _paid(notice.paid),
            }
            if notice.renewal:
                return OutgoingMessage(
                    _(
                        "Renewal in %(title)s: user %(user)s, %(period)s, %(price)s%(paid)s.",
                        **values,
                    )
                )
            return OutgoingMessage(
                _(
                    "New subscription in %(title)s: user %(user)s, %(period)s, %(price)s%(paid)s.",
                    **values,
                )
            )
        case OwnerDonation():
            return OutgoingMessage(
                _(
                    "Donation to %(title)s: user %(user)s gave %(amount)s%(paid)s.",
                    title=notice.title,
                    user=notice.user_id,
                    amount=money(notice.amount),
                    paid=_paid(notice.paid),
                )
            )
        case OwnerRefund(title=title, user_id=user, amount=amount, ends=ends):
            if notice.donation:
                return OutgoingMessage(
                    _(
                        "Refund in %(title)s: user %(user)s's donation of %(amount)s.",
                        title=title,
                        user=user,
                        amount=money(amount),
                    )
                )
            if ends is not None:
                return OutgoingMessage(
                    _(
                        "Refund in %(title)s: user %(user)s, %(amount)s. "
                        "Their subscription now ends on %(end)s.",
                        title=title,
                        user=user,
                        amount=money(amount),
                        end=when(ends),
                    )
                )
            return OutgoingMessage(
                _(
                    "Refund in %(title)s: user %(user)s, %(amount)s. "
                    "Their subscription has ended; the member was removed.",
                    title=title,
                    user=user,
                    amount=money(amount),
                )
            )
        case PausedSales(title=title, reason=reason):
            return OutgoingMessage(
                _(
                    "Sales of %(title)s are paused: %(reason)s. "
                    "Give the bot its admin rights back and sales resume by themselves.",
                    title=title,
                    reason=pause_reason(reason),
                )
            )
        case ResumedSales(title=title):
            return OutgoingMessage(
                _(
                    "Sales of %(title)s are back on: the bot has the rights it needs in both "
                    "chats again.",
                    title=title,
                )
            )
        case ChannelReclaimed(title=title):
            return OutgoingMessage(
                _(
                    "The creator of the chats of %(title)s has taken the channel over: "
                    "it is no longer yours to manage in PayGate.",
                    title=title,
                )
            )
        case SellerAsked(user_id=user, name=name, approve=approve, decline=decline):
            return OutgoingMessage(
                _(
                    "%(name)s (Telegram user %(user)s) asks to sell channels here. "
                    "Approve, and they can register channels at once; decline, and they are "
                    "told so.",
                    name=name,
                    user=user,
                ),
                ((_button(_("Approve"), approve), _button(_("Decline"), decline)),),
            )
        case SellerApproved():
            return OutgoingMessage(
                _(
                    "Good news: the operators of this PayGate approved you as a seller. "
                    "Send /register to connect your channels."
                )
            )
        case SellerDeclined():
            return OutgoingMessage(
                _("The operators of this PayGate declined your request to sell channels here.")
            )
        case Digest(notices=folded, since=since):
            lines = [
                n_(
                    "%(n)s update since %(since)s:",
                    "%(n)s updates since %(since)s:",
                    len(folded),
                    since=when(since),
                ),
                "",
            ]
            lines += [f"• {_render(n).text}" for n in folded]
            return OutgoingMessage("\n".join(lines))
        case Verbatim(text=text, buttons=rows):
            return OutgoingMessage(
                text,
                tuple(
                    tuple(Button(b.text, url=b.url, callback_data=b.callback_data) for b in row)
                    for row in rows
                ),
            )
        case _:
            assert_never(notice)


def _offer(offer: Offer) -> OutgoingMessage:
    lines = [_("Subscribe to %(title)s", title=offer.title), ""]
    lines += [f"• {tier_label(t.tier)}" for t in offer.tiers]
    if offer.includes:
        lines += ["", _includes(offer.includes)]
    if any(t.tier.stars_price is not None for t in offer.tiers):
        how = _(
            "Tap a tier to pay with crypto or Telegram Stars. You get your invite link right after."
        )
    else:
        how = _("Tap a tier to pay with crypto. You get your invite link right after.")
    lines += ["", how]
    rows = tuple((_button(tier_label(t.tier), t.pay),) for t in offer.tiers)
    if offer.trial is not None:
        label = trial_label(offer.trial.days, offer.trial.price)
        lines += ["", label]
        rows += ((_button(label, offer.trial.take),),)
    if offer.stars_link is not None:
        rows += ((_button(_("Join with Telegram Stars"), offer.stars_link),),)
    return OutgoingMessage("\n".join(lines), rows)


def _partial_payment(notice: PartialPayment) -> OutgoingMessage:
    asked, arrived = notice.asked, notice.arrived
    if asked is not None and arrived is not None and asked.currency == arrived.currency:
        got = _(
            "%(arrived)s of %(asked)s arrived; %(missing)s is missing.",
            arrived=money(arrived),
            asked=money(asked),
            missing=money(asked - arrived),
        )
    elif arrived is not None:
        got = _("%(arrived)s arrived, less than the invoice asks.", arrived=money(arrived))
    else:
        got = _("less than the invoice asks arrived.")
    if notice.closed:
        return OutgoingMessage(
            _(
                "Your payment for %(title)s is incomplete: %(got)s "
                "The payment was closed as it is, so it cannot buy access; "
                "it has been flagged for review by the people who run this bot.",
                title=notice.title,
                got=got,
            )
        )
    complete = notice.complete
    buttons = ((_button(_("Complete the payment"), complete),),) if complete else ()
    return OutgoingMessage(
        _(
            "Your payment for %(title)s is incomplete: %(got)s Send the missing amount to the "
            "same address, shown on your payment page; you get access as soon as the whole "
            "amount has arrived.",
            title=notice.title,
            got=got,
        ),
        buttons,
    )


def _paid(paid: Money | None) -> str:
    """What the subscriber paid in crypto, when the provider said."""
    return _(" (paid %(paid)s)", paid=money(paid)) if paid is not None else ""


def _button(label: str, action: OpenLink | Checkout | CheckoutWithBot | DecideSeller) -> Button:
    match action:
        case OpenLink(url=url):
            return Button(label, url=url)
        case Checkout(offer=offer):
            return Button(label, callback_data=renew_data(offer))
        case CheckoutWithBot(bot_username=bot, offer=offer):
            return Button(label, url=deep_link(bot, offer))
        case DecideSeller(user_id=user, approve=approve):
            return Button(label, callback_data=decide_seller_data(user, approve))
        case _:
            assert_never(action)
