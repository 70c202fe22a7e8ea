"""Reading what people type and what buttons carry: amounts, tier lists, donation
bounds, chat references, channel numbers and callback data.

Pure functions over text. Bad input raises :class:`BadInput`, whose message is fit to
show the person who typed it; the domain's own rules (tier numbers, decimals, bounds)
are left to the domain objects these functions build.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

import attrs

from adapters.catalog import texts
from adapters.catalog.buttons import (
    APPROVE_SELLER_PREFIX,
    DECLINE_SELLER_PREFIX,
    OTHER_AMOUNT_PREFIX,
    PRESET_PREFIX,
    RESEND_PREFIX,
    fits,
)
from adapters.catalog.refusals import Worded
from adapters.catalog.words import format_amount
from core.domain.channel import DonationBounds
from core.domain.ids import ChannelId, is_valid_id
from core.domain.money import Money
from core.domain.signing import MIN_TAG_BYTES, MacKeyring
from core.domain.tier import STARS, Tier, validate_tiers
from core.domain.trial import TrialOffer

OFF_WORDS = frozenset({"off", "none"})

DONATION_START = re.compile(r"\A/start(?:@\w+)?\s+[A-Za-z0-9]{1,32}_0_[A-Za-z0-9_-]{22}\s*\Z")
"""``/start <token>`` whose token names a Donate button (tier 0): the shape only; the
token's tag is verified before anything is shown."""


class BadInput(Worded):
    """What was typed or pressed cannot be read; the message says how to write it."""


# ----------------------------------------------------------------- amounts
_AMOUNT = re.compile(r"\A(\d{1,12})(?:[.,](\d{1,12}))?\Z")


def parse_amount(text: str, currency: str) -> Decimal:
    """``12.50``, ``12,50``, ``12`` or with the currency code (``12.50 USD``).

    At most two decimals; no thousands separators (``1,000`` is ambiguous)."""
    cleaned = text.strip()
    code = currency.upper()
    upper = cleaned.upper()
    if upper.endswith(code):
        cleaned = cleaned[: -len(code)].strip()
    elif upper.startswith(code):
        cleaned = cleaned[len(code) :].strip()
    match = _AMOUNT.match(cleaned)
    if match is None:
        raise BadInput(texts.amount_usage())
    whole, fraction = match.groups()
    if fraction is not None and len(fraction) > 2:
        raise BadInput(texts.amount_decimals())
    return Decimal(whole if fraction is None else f"{whole}.{fraction}")


# ------------------------------------------------------------------- tiers
_TIER = re.compile(
    r"\A(\d)=(\d{1,9}(?:[.,]\d{1,9})?)\s*([A-Za-z][A-Za-z0-9]{1,11})"
    r"(?:\+(\d{1,9})(?:XTR|stars?))?"
    r"/(?:(\d{1,5})(?:d|days?)?(\+auto)?"
    r"|(life|lifetime|forever)|until[ :]?(\d{4}-\d{2}-\d{2}))\Z",
    re.IGNORECASE,
)


def _tier_words(words: Sequence[str]) -> list[str]:
    """The words of ``/tiers``, a season's ``…/until 2027-03-31`` as one."""
    joined: list[str] = []
    for word in words:
        if joined and joined[-1].lower().endswith("/until"):
            joined[-1] = f"{joined[-1]} {word}"
        else:
            joined.append(word)
    return joined


def parse_tiers(words: Sequence[str]) -> tuple[Tier, ...]:
    """``1=10USD/30d 2=25USD/90d``: number=price+currency/days, up to three; a Stars
    price beside the crypto one as ``1=10USD+500XTR/30d``, sold as a Stars subscription
    that renews every 30 days with ``+auto`` (``1=10USD+500XTR/30d+auto``); ``/life``
    for a lifetime tier, ``/until 2027-03-31`` for a season; ``none`` (or ``off``) for
    no tiers at all."""
    if len(words) == 1 and words[0].lower() in OFF_WORDS:
        return ()
    if not words:
        raise BadInput(texts.tiers_usage())
    tiers: list[Tier] = []
    for word in _tier_words(words):
        match = _TIER.match(word)
        if match is None:
            raise BadInput(texts.tier_unreadable(word))
        number, amount, currency, stars, days, auto, life, until = match.groups()
        price = Money(Decimal(amount.replace(",", ".")), currency)
        stars_price = None if stars is None else Money(int(stars), STARS)
        if life is not None:
            tiers.append(Tier.lifetime(int(number), price, stars_price))
        elif until is not None:
            try:
                ends_on = date.fromisoformat(until)
            except ValueError as exc:
                raise BadInput(texts.tier_unreadable(word)) from exc
            tiers.append(Tier.season(int(number), price, ends_on, stars_price))
        else:
            tiers.append(
                Tier(int(number), price, int(days), stars_price, stars_renews=auto is not None)
            )
    return validate_tiers(tuple(tiers))


# ------------------------------------------------------------------- trial
_TRIAL_DAYS = re.compile(r"\A(\d{1,3})(?:d|days?)?\Z", re.IGNORECASE)
_PRICE = re.compile(r"\A(\d{1,9}(?:[.,]\d{1,9})?)\s*([A-Za-z][A-Za-z0-9]{1,11})\Z")


def parse_stars_link(words: Sequence[str]) -> int | None:
    """``500`` (Stars every 30 days) or ``off``: None."""
    if len(words) == 1 and words[0].lower() in OFF_WORDS:
        return None
    if len(words) != 1 or not words[0].isdigit() or len(words[0]) > 6:
        raise BadInput(texts.stars_link_usage())
    return int(words[0])


def parse_trial(words: Sequence[str]) -> TrialOffer | None:
    """``7d`` (free), ``3d 1USD`` (paid) or ``off``."""
    if len(words) == 1 and words[0].lower() in OFF_WORDS:
        return None
    days = None if not words else _TRIAL_DAYS.match(words[0])
    if days is None or len(words) > 3:
        raise BadInput(texts.trial_usage())
    price = None
    if len(words) > 1:
        found = _PRICE.match("".join(words[1:]))
        if found is None:
            raise BadInput(texts.trial_usage())
        price = Money(Decimal(found.group(1).replace(",", ".")), found.group(2))
    return TrialOffer(int(days.group(1)), price)


# ---------------------------------------------------------- donation bounds
_BOUNDS = re.compile(
    r"\A(\d{1,9}(?:[.,]\d{1,9})?)\s*([A-Za-z][A-Za-z0-9]{1,11})?\s*-\s*"
    r"(\d{1,9}(?:[.,]\d{1,9})?)\s*([A-Za-z][A-Za-z0-9]{1,11})\Z"
)


def parse_bounds(text: str) -> DonationBounds | None:
    """``1USD-500USD``, ``1-500 USD`` or ``2.50 EUR - 100 EUR``; ``off`` for none."""
    cleaned = text.strip()
    if cleaned.lower() in OFF_WORDS:
        return None
    match = _BOUNDS.match(cleaned)
    if match is None:
        raise BadInput(texts.bounds_usage())
    low, low_currency, high, high_currency = match.groups()
    if low_currency is not None and low_currency.upper() != high_currency.upper():
        raise BadInput(texts.bounds_currencies())
    return DonationBounds(
        Money(Decimal(low.replace(",", ".")), high_currency),
        Money(Decimal(high.replace(",", ".")), high_currency),
    )


# ------------------------------------------------------------------- chats
_USERNAME = re.compile(r"\A@([A-Za-z][A-Za-z0-9_]{3,31})\Z")
_LINK = re.compile(r"\A(?:https?://)?(?:t\.me|telegram\.me)/([A-Za-z][A-Za-z0-9_]{3,31})/?\Z")
_CHAT_ID = re.compile(r"\A-\d{1,19}\Z")


def parse_chat_ref(text: str) -> int | str:
    """A channel's id (``-100…``, as an int) or its public name (``@name``, as text),
    from an id, ``@name`` or a ``t.me/name`` link."""
    cleaned = text.strip()
    if _CHAT_ID.match(cleaned):
        return int(cleaned)
    for pattern in (_USERNAME, _LINK):
        match = pattern.match(cleaned)
        if match is not None:
            return "@" + match.group(1)
    raise BadInput(texts.chat_ref_usage())


def parse_channel_number(word: str, count: int) -> int:
    """The owner's channel ``#n`` (as /channels numbers them) as a 0-based index."""
    cleaned = word.strip().removeprefix("#")
    if not cleaned.isdecimal() or len(cleaned) > 4:
        raise BadInput(texts.channel_number_usage())
    number = int(cleaned)
    if not 1 <= number <= count:
        raise BadInput(texts.no_such_channel(number))
    return number - 1


# ---------------------------------------------------------- callback data
CALLBACK_TAG_BYTES = MIN_TAG_BYTES
"""The MAC on a keypad button: 96 bits (16 characters), as the channel id, the time
and the tag must share Telegram's 64 bytes of callback data."""
_PRESET_PURPOSE = "donation-preset"
_OTHER_AMOUNT_PURPOSE = "donation-other-amount"
_TAG = re.compile(r"\A[A-Za-z0-9_-]{16}\Z")


@attrs.frozen
class Preset:
    """A donation keypad's preset button: which of the channel's preset amounts, on a
    keypad shown at ``issued_at``.

    Its data is signed together with the amount its label shows, and carries only
    the amount's place (64 bytes hold no more): a press is honoured only for the
    amount shown, within the keypad's time, for a keypad the bot made."""

    channel_id: ChannelId
    index: int
    issued_at: datetime

    def signed_text(self, price: Money) -> str:
        stamp = base36(int(self.issued_at.timestamp()))
        return (
            f"{self.channel_id}:{self.index}:{stamp}:{format_amount(price.amount)}:{price.currency}"
        )


@attrs.frozen
class PressedPreset:
    """A preset's callback data as it came back: not believed until :meth:`shows`."""

    preset: Preset
    tag: str

    def shows(self, price: Money, keyring: MacKeyring) -> bool:
        """Whether the bot signed this button for ``price`` (the amount the channel's
        keypad has at this place now), with any key of the ring."""
        text = self.preset.signed_text(price)
        return keyring.verify(_PRESET_PURPOSE, text, self.tag, CALLBACK_TAG_BYTES)


@attrs.frozen
class OtherAmount:
    """The keypad's "other amount" button."""

    channel_id: ChannelId
    issued_at: datetime


def base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


def _moment(text: str) -> datetime:
    """The time a button carries, written only as :func:`base36` writes it: another
    spelling of the same number ("TPNEO0", "0tpneo0") is refused, so each signed
    button has exactly one form."""
    if not (text.isascii() and text.isalnum()) or len(text) > 8:
        raise ValueError(text)
    number = int(text, 36)
    if base36(number) != text:
        raise ValueError(text)
    return datetime.fromtimestamp(number, UTC)


def token_from(data: str, prefix: str) -> str:
    """The offer token a Confirm or Renew button carries (verified by the use case)."""
    if not data.startswith(prefix) or len(data) == len(prefix):
        raise BadInput(texts.button_stale())
    return data[len(prefix) :]


def channel_from_resend(data: str) -> ChannelId:
    channel = data.removeprefix(RESEND_PREFIX)
    if not data.startswith(RESEND_PREFIX) or not is_valid_id(channel):
        raise BadInput(texts.button_stale())
    return ChannelId(channel)


def seller_decision_from(data: str) -> tuple[int, bool]:
    """``sa:<user id>`` (approve) or ``sd:<user id>`` (decline): whom, and which."""
    for prefix, approve in ((APPROVE_SELLER_PREFIX, True), (DECLINE_SELLER_PREFIX, False)):
        user = data.removeprefix(prefix)
        # isascii: str.isdigit() is also true of "¹" and "٣", which int() refuses.
        if data.startswith(prefix) and user.isascii() and user.isdigit() and 0 < int(user) < 2**63:
            return int(user), approve
    raise BadInput(texts.button_stale())


def preset_data(preset: Preset, price: Money, keyring: MacKeyring) -> str:
    """``d:<channel>:<place>:<time>:<tag>``, the tag over all of it and ``price``."""
    stamp = base36(int(preset.issued_at.timestamp()))
    tag = keyring.sign(_PRESET_PURPOSE, preset.signed_text(price), CALLBACK_TAG_BYTES)
    return fits(f"{PRESET_PREFIX}{preset.channel_id}:{preset.index}:{stamp}:{tag}")


def parse_preset(data: str) -> PressedPreset:
    """The preset's fields (shape only; see :meth:`PressedPreset.shows`)."""
    parts = data.removeprefix(PRESET_PREFIX).split(":")
    try:
        if not data.startswith(PRESET_PREFIX) or len(parts) != 4 or not is_valid_id(parts[0]):
            raise ValueError(data)
        channel, index, stamp, tag = parts
        if not (index.isdecimal() and index.isascii() and len(index) <= 2):
            raise ValueError(data)
        if _TAG.match(tag) is None:
            raise ValueError(data)
        return PressedPreset(Preset(ChannelId(channel), int(index), _moment(stamp)), tag)
    except (ValueError, OverflowError, OSError) as exc:
        raise BadInput(texts.button_stale()) from exc


def _other_amount_text(channel_id: ChannelId, stamp: str) -> str:
    return f"{channel_id}:{stamp}"


def other_amount_data(other: OtherAmount, keyring: MacKeyring) -> str:
    """``dt:<channel>:<time>:<tag>``."""
    stamp = base36(int(other.issued_at.timestamp()))
    text = _other_amount_text(other.channel_id, stamp)
    tag = keyring.sign(_OTHER_AMOUNT_PURPOSE, text, CALLBACK_TAG_BYTES)
    return fits(f"{OTHER_AMOUNT_PREFIX}{text}:{tag}")


def parse_other_amount(data: str, keyring: MacKeyring) -> OtherAmount:
    """The button's channel and time, once its tag verified: a forged or altered one
    (another channel, a later time) is refused with :func:`texts.keypad_not_valid`."""
    parts = data.removeprefix(OTHER_AMOUNT_PREFIX).split(":")
    try:
        if not data.startswith(OTHER_AMOUNT_PREFIX) or len(parts) != 3:
            raise ValueError(data)
        channel, stamp, tag = parts
        if not is_valid_id(channel) or _TAG.match(tag) is None:
            raise ValueError(data)
        other = OtherAmount(ChannelId(channel), _moment(stamp))
    except (ValueError, OverflowError, OSError) as exc:
        raise BadInput(texts.button_stale()) from exc
    text = _other_amount_text(other.channel_id, stamp)
    if not keyring.verify(_OTHER_AMOUNT_PURPOSE, text, tag, CALLBACK_TAG_BYTES):
        raise BadInput(texts.keypad_not_valid())
    return other
