"""A channel pair: the public ("open") channel that shows the offer and the private
("closed") channel that subscribers are let into."""

from __future__ import annotations

import re
from datetime import datetime

import attrs

from core.domain.errors import InvalidChannel, InvalidTier, NotAuthorized, Why
from core.domain.ids import ChannelId, ChatId, MessageId, UserId
from core.domain.money import Money
from core.domain.stars_link import StarsLink
from core.domain.tier import MAX_PRICE_DECIMALS, Tier, validate_tiers
from core.domain.trial import TrialOffer

MAX_TITLE = 128


@attrs.frozen
class DonationBounds:
    """The smallest and largest donation a closed channel accepts, in one currency."""

    minimum: Money
    maximum: Money

    def __attrs_post_init__(self) -> None:
        if self.minimum.currency != self.maximum.currency:
            raise InvalidChannel(Why.BOUNDS_CURRENCIES)
        if not self.minimum.is_positive:
            raise InvalidChannel(Why.BOUNDS_MINIMUM_ZERO)
        if self.maximum < self.minimum:
            raise InvalidChannel(Why.BOUNDS_INVERTED)
        for bound in (self.minimum, self.maximum):
            if bound.decimal_places() > MAX_PRICE_DECIMALS:
                raise InvalidChannel(Why.BOUNDS_DECIMALS)


MIN_ADDRESS = 20
MAX_ADDRESS = 128
"""No coin we know of has addresses shorter than 25 characters (XRP) or longer than
about 110 (Cardano); a little margin either way."""

_BASE58 = "[1-9A-HJ-NP-Za-km-z]"
ADDRESS_SHAPES: dict[str, re.Pattern[str]] = {
    "btc": re.compile(rf"(?:[13]{_BASE58}{{25,34}}|bc1[02-9ac-hj-np-z]{{11,71}})"),
    "ltc": re.compile(rf"(?:[LM3]{_BASE58}{{26,33}}|ltc1[02-9ac-hj-np-z]{{11,71}})"),
    "eth": re.compile(r"0x[0-9a-fA-F]{40}"),
    "usdterc20": re.compile(r"0x[0-9a-fA-F]{40}"),
    "usdttrc20": re.compile(rf"T{_BASE58}{{33}}"),
    "trx": re.compile(rf"T{_BASE58}{{33}}"),
}
"""Address shapes of the currencies owners use most; others are checked for length
and spaces only."""


@attrs.frozen(repr=False)
class PayoutWallet:
    """Where the owner is paid. Stored encrypted (Cipher port); masked in reprs and logs."""

    address: str
    currency: str

    def __attrs_post_init__(self) -> None:
        if not self.address or len(self.address) > 256 or not self.address.isprintable():
            raise InvalidChannel(Why.WALLET_MALFORMED)
        if not self.currency.isalnum() or len(self.currency) > 16:
            raise InvalidChannel(Why.WALLET_MALFORMED)

    def __repr__(self) -> str:
        return f"PayoutWallet(address='{self.address[:4]}…', currency={self.currency!r})"

    @classmethod
    def parse(cls, currency: str, address: str) -> PayoutWallet:
        """A wallet as an owner types it: trimmed, the currency in lower case, the
        address in the shape its currency's addresses have (where we know it: a typo
        here sends the owner's money nowhere). Raises InvalidChannel."""
        currency, address = currency.strip().lower(), address.strip()
        if not address or any(char.isspace() for char in address):
            raise InvalidChannel(Why.WALLET_SPACES)
        if not MIN_ADDRESS <= len(address) <= MAX_ADDRESS:
            raise InvalidChannel(Why.WALLET_LENGTH, least=MIN_ADDRESS, most=MAX_ADDRESS)
        shape = ADDRESS_SHAPES.get(currency)
        if shape is not None and shape.fullmatch(address) is None:
            raise InvalidChannel(Why.WALLET_NOT_FOR, currency=currency.upper())
        return cls(address=address, currency=currency)

    def masked(self) -> str:
        """What an owner is shown back: enough to recognise it, not to copy it."""
        return f"{self.currency.upper()} {self.address[:6]}…{self.address[-4:]}"


@attrs.frozen
class OfferPost:
    """The offer (or donate) message the bot keeps posted in a chat."""

    message_id: MessageId
    posted_at: datetime
    """When it was posted; a message refreshed in place (the Donate message) counts
    from its last refresh, which found it still standing."""
    tiers_version: int


@attrs.define
class Channel:
    """A registered channel pair, its owner, tiers and donation settings."""

    id: ChannelId
    owner_id: UserId
    open_chat_id: ChatId
    closed_chat_id: ChatId
    title: str
    created_at: datetime
    tiers: tuple[Tier, ...] = ()
    donation_bounds: DonationBounds | None = None
    payout_wallet: PayoutWallet | None = None
    sales_paused: bool = False
    pause_reason: str | None = None
    tiers_version: int = 0
    offer_post: OfferPost | None = None
    donate_post: OfferPost | None = None
    trial: TrialOffer | None = None
    """The trial the offer shows, if the owner set one (``/trial``)."""
    stars_link: StarsLink | None = None
    """Telegram's own Stars subscription link the offer shows, if the owner chose one
    (``/stars_link``)."""

    def __attrs_post_init__(self) -> None:
        if self.open_chat_id == self.closed_chat_id:
            raise InvalidChannel(Why.SAME_CHATS)
        if not self.title.strip() or len(self.title) > MAX_TITLE:
            raise InvalidChannel(Why.TITLE_LENGTH, most=MAX_TITLE)
        self.tiers = validate_tiers(self.tiers)

    def ensure_owner(self, user_id: UserId) -> None:
        if user_id != self.owner_id:
            raise NotAuthorized(Why.NOT_OWNER)

    def transfer_to(self, owner_id: UserId, payout_wallet: PayoutWallet | None) -> None:
        """A new owner (the creator of both chats reclaiming them) takes the channel
        with its subscribers, tiers and posts; the previous owner's payout wallet is
        never theirs, so it is replaced by the new owner's (or none)."""
        self.owner_id = owner_id
        self.payout_wallet = payout_wallet

    def tier(self, number: int) -> Tier:
        for tier in self.tiers:
            if tier.number == number:
                return tier
        raise InvalidTier(Why.NO_SUCH_TIER, number=number)

    def set_tiers(self, tiers: tuple[Tier, ...]) -> None:
        """Replace the tiers; the version bump makes the posted offer stale."""
        self.tiers = validate_tiers(tiers)
        self.tiers_version += 1

    def tiers_on_sale(self, now: datetime) -> tuple[Tier, ...]:
        """The tiers sold now (a season whose end has passed is not)."""
        return tuple(t for t in self.tiers if t.on_sale_at(now))

    def renewal_tier(self, held: int, now: datetime | None = None) -> int:
        """The tier a Renew button of a subscription of tier ``held`` offers: the same
        tier while the channel sells it, else (a trial's, a tier since removed, a season
        ended by ``now``) the first one on sale."""
        on_sale = self.tiers if now is None else self.tiers_on_sale(now)
        numbers = [t.number for t in on_sale]
        return held if held in numbers or not numbers else numbers[0]

    def set_trial(self, trial: TrialOffer | None) -> None:
        """Offer ``trial`` (None: none); the version bump makes the posted offer stale."""
        self.trial = trial
        self.tiers_version += 1

    def set_stars_link(self, link: StarsLink | None) -> None:
        """Offer Telegram's Stars link (None: none); the posted offer becomes stale."""
        self.stars_link = link
        self.tiers_version += 1

    def bundle_changed(self) -> None:
        """The offer names the channels a subscription opens: the posted one is stale."""
        self.tiers_version += 1

    def set_donation_bounds(self, bounds: DonationBounds | None) -> None:
        self.donation_bounds = bounds

    def set_payout_wallet(self, wallet: PayoutWallet | None) -> None:
        self.payout_wallet = wallet

    def pause_sales(self, reason: str) -> None:
        self.sales_paused = True
        self.pause_reason = reason

    def resume_sales(self) -> None:
        self.sales_paused = False
        self.pause_reason = None

    @property
    def is_selling(self) -> bool:
        return not self.sales_paused and bool(self.tiers)

    @property
    def takes_donations(self) -> bool:
        return not self.sales_paused and self.donation_bounds is not None

    def record_offer_post(self, message_id: MessageId, at: datetime) -> None:
        self.offer_post = OfferPost(message_id, at, self.tiers_version)

    def record_donate_post(self, message_id: MessageId, at: datetime) -> None:
        self.donate_post = OfferPost(message_id, at, self.tiers_version)
