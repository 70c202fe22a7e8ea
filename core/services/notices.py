"""What the use cases tell people, as typed notices (:mod:`core.domain.messages`): the
data each message speaks of and what its buttons do. The words are the Telegram
adapter's catalog's; offers and renewals are signed here, where the keys are."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs

from core.domain import messages
from core.domain.channel import Channel
from core.domain.ids import ChannelId
from core.domain.money import Money
from core.domain.offer_token import DONATION, TRIAL, OfferToken
from core.domain.signing import MacKeyring


@attrs.frozen
class Days:
    """A subscription's length, as a notice names it."""

    count: int


def days(n: int) -> Days:
    return Days(n)


def offer_message(
    channel: Channel,
    bot_username: str,
    keyring: MacKeyring,
    now: datetime,
    includes: tuple[str, ...] = (),
) -> messages.Offer:
    """The tiers on sale at ``now`` (a season past its end is left out), the Trial
    button when the channel offers a trial, and Telegram's Stars link if it has one."""
    trial = None
    if channel.trial is not None:
        trial = messages.OfferedTrial(
            channel.trial.days,
            channel.trial.price,
            messages.CheckoutWithBot(bot_username, OfferToken(channel.id, TRIAL).encode(keyring)),
        )
    return messages.Offer(
        channel.title,
        tuple(
            messages.OfferedTier(
                tier,
                messages.CheckoutWithBot(
                    bot_username, OfferToken(channel.id, tier.number).encode(keyring)
                ),
            )
            for tier in channel.tiers_on_sale(now)
        ),
        channel.id,
        trial,
        includes,
        None if channel.stars_link is None else messages.OpenLink(channel.stars_link.url),
    )


def donate_message(
    channel: Channel, bot_username: str, keyring: MacKeyring
) -> messages.DonateInvitation:
    token = OfferToken(channel.id, DONATION).encode(keyring)
    return messages.DonateInvitation(channel.title, messages.CheckoutWithBot(bot_username, token))


def invite_message(
    channel_id: ChannelId, title: str, link: str, expires_at: datetime, trial: bool = False
) -> messages.Notice:
    return messages.Invite(title, expires_at, messages.OpenLink(link), channel_id, trial)


def renewed_message(title: str, expires_at: datetime) -> messages.Notice:
    return messages.Renewed(title, expires_at)


def reminder_message(
    title: str,
    expires_at: datetime,
    offer: OfferToken,
    keyring: MacKeyring,
    includes: tuple[str, ...] = (),
) -> messages.Notice:
    return messages.Reminder(
        title, expires_at, messages.Checkout(offer.encode(keyring)), offer.channel_id, includes
    )


def ended_message(title: str, offer: OfferToken, keyring: MacKeyring) -> messages.Notice:
    return messages.Ended(title, messages.Checkout(offer.encode(keyring)), offer.channel_id)


def join_declined_message(title: str) -> messages.Notice:
    return messages.JoinDeclined(title)


def donation_thanks_message(title: str, amount: Money) -> messages.Notice:
    return messages.DonationThanks(title, amount)


def owner_payment_message(
    title: str,
    what: Days,
    user_id: int,
    price: Money,
    paid: Money | None,
    renewal: bool,
    ends_at: datetime | None = None,
) -> messages.Notice:
    return messages.OwnerPayment(title, user_id, what.count, price, paid, renewal, ends_at)


def owner_donation_message(
    title: str, user_id: int, amount: Money, paid: Money | None
) -> messages.Notice:
    return messages.OwnerDonation(title, user_id, amount, paid)


def sales_paused_message(title: str, reason: str) -> messages.Notice:
    return messages.PausedSales(title, reason)


def sales_resumed_message(title: str) -> messages.Notice:
    return messages.ResumedSales(title)


def channel_reclaimed_message(title: str) -> messages.Notice:
    return messages.ChannelReclaimed(title)


def refunded_message(title: str, amount: Money, ends: datetime | None) -> messages.Notice:
    return messages.Refunded(title, amount, ends)


def donation_refunded_message(title: str, amount: Money) -> messages.Notice:
    return messages.DonationRefunded(title, amount)


def owner_refund_message(
    title: str, user_id: int, amount: Money, ends: datetime | None, donation: bool
) -> messages.Notice:
    return messages.OwnerRefund(title, user_id, amount, ends, donation)


def partial_payment_message(
    title: str, asked: Money | None, arrived: Money | None, invoice_url: str | None, closed: bool
) -> messages.Notice:
    """``closed``: the provider closed the payment with too little money (nothing more
    can be added); otherwise the same address still takes the rest."""
    complete = messages.OpenLink(invoice_url) if invoice_url and not closed else None
    return messages.PartialPayment(title, asked, arrived, complete, closed)


OWNER_FOLD = "owner"
"""What an owner is told of each payment, donation and refund: folded into a digest
when many wait at once (one chat takes about a message a second)."""

DIGEST_BUDGET = 3900
"""Characters a digest may hold: Telegram takes 4,096 in a message; the rest is
margin for the header."""

WORDS_ALLOWANCE = 100
"""Characters the words of a folded notice (one told to an owner) may take besides
its data: the catalog's test holds each of its entries for those notices to it."""


def digest_message(notices: Sequence[messages.Notice], since: datetime) -> messages.Digest:
    """Several notices to one owner as one message (see :func:`digest_room`)."""
    return messages.Digest(tuple(notices), since)


def digest_room(notices: Sequence[messages.Notice], more: messages.Notice) -> bool:
    """Whether ``more`` fits in a digest of ``notices`` (every notice is shown whole)."""
    return sum(weight(n) + 3 for n in notices) + weight(more) + 3 <= DIGEST_BUDGET


def weight(notice: messages.Notice) -> int:
    """At least the characters ``notice`` takes in a digest, without knowing its words:
    its data as text, and the allowance for the words around it."""
    if isinstance(notice, messages.Verbatim):
        return len(notice.text)
    data = (getattr(notice, f.name) for f in attrs.fields(type(notice)))
    return WORDS_ALLOWANCE + sum(len(str(value)) for value in data)
