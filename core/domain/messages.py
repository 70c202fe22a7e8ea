"""What the messages the bot sends mean: one typed notice per kind of message, with
the data it speaks of (a channel's title, dates, amounts, user ids) and buttons that
say what they do. No words here: the Telegram adapter's catalog renders each notice
into text and a keyboard, so a translation or an owner's own wording is one file away.

Notices are values: they ride in outbox rows (:func:`notice_to_payload`) and are
rendered when they go out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from types import NoneType, UnionType
from typing import Any, Union, get_args, get_origin

import attrs

from core.domain.ids import ChannelId
from core.domain.money import Money
from core.domain.tier import Tier, TierKind

# ---------------------------------------------------------------- buttons


@attrs.frozen
class OpenLink:
    """A button that opens ``url`` (an invoice's page, an invite link)."""

    url: str


@attrs.frozen
class Checkout:
    """A button in the bot's own chat that starts the checkout of ``offer`` (an
    encoded, signed :class:`~core.domain.offer_token.OfferToken`)."""

    offer: str


@attrs.frozen
class CheckoutWithBot:
    """A button under a post in a channel that opens a private chat with the bot
    ``bot_username`` at the checkout of ``offer`` (the checkout happens there)."""

    bot_username: str
    offer: str


@attrs.frozen
class DecideSeller:
    """An operator's button: approve (or decline) the request of ``user_id`` to sell."""

    user_id: int
    approve: bool


# --------------------------------------------------------- channel posts


@attrs.frozen
class OfferedTier:
    tier: Tier
    pay: CheckoutWithBot


@attrs.frozen
class OfferedTrial:
    """A Trial button: ``days`` of access, free (``price`` None) or at ``price``."""

    days: int
    price: Money | None
    take: CheckoutWithBot


@attrs.frozen
class Offer:
    """The offer standing in a channel's open chat: a button per tier (and a Trial
    button when the channel offers one)."""

    title: str
    tiers: tuple[OfferedTier, ...]
    channel: ChannelId | None = None
    """Whose offer: the channel's owner may have worded it (None: queued before owners
    could, read in the catalog's words)."""
    trial: OfferedTrial | None = None
    includes: tuple[str, ...] = ()
    """The titles of the other channels a subscription also opens (its bundle)."""
    stars_link: OpenLink | None = None
    """Telegram's own Stars subscription link to the closed channel, if the owner
    offers one (``/stars_link``)."""


@attrs.frozen
class DonateInvitation:
    """The post in a closed channel that invites members to donate."""

    title: str
    donate: CheckoutWithBot


# ----------------------------------------------------------- subscribers


@attrs.frozen
class Invite:
    """Paid: the subscriber's own link into the closed channel."""

    title: str
    expires_at: datetime
    join: OpenLink
    channel: ChannelId | None = None
    """As in :class:`Offer`."""
    trial: bool = False
    """Access from a free trial, not a payment."""


@attrs.frozen
class Renewed:
    title: str
    expires_at: datetime


@attrs.frozen
class Reminder:
    """The subscription ends soon."""

    title: str
    expires_at: datetime
    renew: Checkout
    channel: ChannelId | None = None
    """As in :class:`Offer`."""
    includes: tuple[str, ...] = ()
    """As in :class:`Offer`: one reminder speaks for the whole bundle."""


@attrs.frozen
class Ended:
    title: str
    subscribe_again: Checkout
    channel: ChannelId | None = None
    """As in :class:`Offer`."""


@attrs.frozen
class JoinDeclined:
    """Someone asked to join with a link that is not theirs (or no longer pays)."""

    title: str


@attrs.frozen
class DonationThanks:
    title: str
    amount: Money


@attrs.frozen
class Refunded:
    """A subscription's payment came back; ``ends`` is its new end, None if it ended."""

    title: str
    amount: Money
    ends: datetime | None


@attrs.frozen
class DonationRefunded:
    title: str
    amount: Money


@attrs.frozen
class PartialPayment:
    """Less than the invoice asked arrived. ``closed``: the provider closed the payment
    as it is (nothing more can be added); otherwise ``complete`` (when known) opens
    the page where the rest can be sent."""

    title: str
    asked: Money | None
    arrived: Money | None
    complete: OpenLink | None
    closed: bool


# ---------------------------------------------------------------- owners


@attrs.frozen
class OwnerPayment:
    title: str
    user_id: int
    duration_days: int
    price: Money
    paid: Money | None
    """What the subscriber paid in the provider's currency, when known."""
    renewal: bool
    ends_at: datetime | None = None
    """A lifetime's or a season's fixed end (``duration_days`` is 0 then)."""


@attrs.frozen
class OwnerDonation:
    title: str
    user_id: int
    amount: Money
    paid: Money | None


@attrs.frozen
class OwnerRefund:
    """A refund in the owner's channel; ``ends`` as in :class:`Refunded`."""

    title: str
    user_id: int
    amount: Money
    ends: datetime | None
    donation: bool


@attrs.frozen
class PausedSales:
    title: str
    reason: str
    """Why, as recorded on the channel when sales paused."""


@attrs.frozen
class ResumedSales:
    title: str


@attrs.frozen
class ChannelReclaimed:
    """The creator of the channel's chats registered it as theirs."""

    title: str


# ------------------------------------------------------------- operators


@attrs.frozen
class SellerAsked:
    """To each operator: someone who may not sell here yet asked to; the buttons decide."""

    user_id: int
    name: str
    """How they show in Telegram (their name and @username), for the operator to know whom."""
    approve: DecideSeller
    decline: DecideSeller


@attrs.frozen
class SellerApproved:
    """To the person who asked: they may register channels now."""


@attrs.frozen
class SellerDeclined:
    """To the person who asked: the operators said no."""


# ----------------------------------------------------------- the others


@attrs.frozen
class Digest:
    """Several notices to one chat as one message, the first queued at ``since``."""

    notices: tuple[Notice, ...]
    since: datetime


@attrs.frozen
class VerbatimButton:
    text: str
    url: str | None = None
    callback_data: str | None = None


@attrs.frozen
class Verbatim:
    """Words written elsewhere, sent as they are: an operator's alert, or a message
    queued in words before notices were typed (outbox rows of an older release)."""

    text: str
    buttons: tuple[tuple[VerbatimButton, ...], ...] = ()


Notice = (
    Offer
    | DonateInvitation
    | Invite
    | Renewed
    | Reminder
    | Ended
    | JoinDeclined
    | DonationThanks
    | Refunded
    | DonationRefunded
    | PartialPayment
    | OwnerPayment
    | OwnerDonation
    | OwnerRefund
    | PausedSales
    | ResumedSales
    | ChannelReclaimed
    | SellerAsked
    | SellerApproved
    | SellerDeclined
    | Digest
    | Verbatim
)

NOTICE_KINDS: tuple[type[Notice], ...] = get_args(Notice)
"""Every kind of notice: the catalog has an entry for each."""

# ------------------------------------------------------------------ codec

_VALUES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        *NOTICE_KINDS,
        OpenLink,
        Checkout,
        CheckoutWithBot,
        DecideSeller,
        OfferedTier,
        OfferedTrial,
        VerbatimButton,
        Tier,
    )
}
for _cls in _VALUES.values():
    attrs.resolve_types(_cls)


def notice_to_payload(notice: Notice) -> dict[str, Any]:
    """A JSON-able dict (strings, numbers, booleans, lists) that
    :func:`notice_from_payload` reverses: the notice's kind and its fields."""
    encoded = _encode(notice)
    assert isinstance(encoded, dict)
    return encoded


def notice_from_payload(payload: dict[str, Any]) -> Notice:
    notice = _decode_value(payload)
    if not isinstance(notice, NOTICE_KINDS):
        raise ValueError(f"not a notice: {payload.get('kind')!r}")
    return notice


def _encode(value: object) -> object:
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, tuple):
        return [_encode(item) for item in value]
    cls = type(value)
    if _VALUES.get(cls.__name__) is cls:
        fields = {
            f.name: _encode(getattr(value, f.name)) for f in attrs.fields(_VALUES[cls.__name__])
        }
        return {"kind": cls.__name__, **fields}
    raise TypeError(f"cannot encode {type(value).__name__} in a notice")


def _decode_value(raw: dict[str, Any]) -> object:
    cls = _VALUES.get(str(raw.get("kind")))
    if cls is None or not attrs.has(cls):
        raise ValueError(f"unknown kind of value in a notice: {raw.get('kind')!r}")
    # A field added since the row was queued is missing from it: its default holds.
    return cls(
        **{
            f.name: _decode(f.type, raw[f.name])
            for f in attrs.fields(cls)
            if f.name in raw or f.default is attrs.NOTHING
        }
    )


def _decode(kind: Any, raw: Any) -> object:
    origin = get_origin(kind)
    if origin in (Union, UnionType):
        options = [k for k in get_args(kind) if k is not NoneType]
        if raw is None:
            return None
        if len(options) == 1:
            return _decode(options[0], raw)
        return _decode_value(raw)  # a union of values: the payload names its kind
    if origin is tuple:
        item = get_args(kind)[0]
        return tuple(_decode(item, r) for r in raw)
    decoder = _PLAIN.get(kind)
    if decoder is not None:
        return decoder(raw)
    return _decode_value(raw)


_PLAIN: dict[Any, Callable[[Any], object]] = {
    str: str,
    ChannelId: ChannelId,
    int: int,
    bool: bool,
    datetime: datetime.fromisoformat,
    date: date.fromisoformat,
    TierKind: TierKind,
    Money: lambda raw: Money(Decimal(raw["amount"]), raw["currency"]),
}
