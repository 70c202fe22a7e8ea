"""The opaque payload of an offer button's deep link (``t.me/<bot>?start=<token>``).

It names a channel and a tier and is signed, so nobody can point a button at a
channel or tier of their choosing. The price is never read from it: checkout always
looks the tier up in the stored channel.
"""

from __future__ import annotations

import re

import attrs

from core.domain.errors import InvalidToken, Why
from core.domain.ids import ChannelId, is_valid_id
from core.domain.signing import MacKeyring
from core.domain.tier import MAX_TIERS

MAX_LENGTH = 64
_ALPHABET = re.compile(r"\A[A-Za-z0-9_-]+\Z")
_PURPOSE = "offer"
_TIERS = frozenset(str(n) for n in range(0, MAX_TIERS + 1))


DONATION = 0
"""The tier number a Donate button's token carries."""


@attrs.frozen
class OfferToken:
    """``tier`` is 1..3 for a subscription offer, ``DONATION`` (0) for a Donate button."""

    channel_id: ChannelId
    tier: int

    @property
    def is_donation(self) -> bool:
        return self.tier == DONATION

    def encode(self, keyring: MacKeyring) -> str:
        body = f"{self.channel_id}_{self.tier}"
        token = f"{body}_{keyring.sign(_PURPOSE, body)}"
        if len(token) > MAX_LENGTH:  # ids are at most 32 chars, so this cannot happen
            raise InvalidToken(Why.OFFER_INVALID)
        return token

    @classmethod
    def decode(cls, text: str, keyring: MacKeyring) -> OfferToken:
        """Parse and verify; any malformed or tampered token is an :class:`InvalidToken`."""
        if not text or len(text) > MAX_LENGTH or not _ALPHABET.match(text):
            raise InvalidToken(Why.OFFER_INVALID)
        parts = text.split("_", 2)
        if len(parts) != 3:
            raise InvalidToken(Why.OFFER_INVALID)
        channel, tier_text, tag = parts
        if not is_valid_id(channel) or tier_text not in _TIERS:
            raise InvalidToken(Why.OFFER_INVALID)
        if not keyring.verify(_PURPOSE, f"{channel}_{tier_text}", tag):
            raise InvalidToken(Why.OFFER_INVALID)
        return cls(ChannelId(channel), int(tier_text))
