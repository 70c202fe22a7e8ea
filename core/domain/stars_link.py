"""Telegram's own Stars subscription link (issue 21): an owner's alternative to
PayGate's checkout for a channel.

Telegram sells it: whoever joins the closed channel through the link pays the price
in Stars, again every 30 days, and Telegram itself removes a member whose period ends
unpaid. PayGate only records what Telegram reports: each member who joined through
the link holds a subscription that ends at Telegram's ``until_date``, moved on by each
renewal; PayGate's expiry never removes such a member (Telegram does) and never
reminds them to renew (Telegram renews).
"""

from __future__ import annotations

from datetime import datetime

import attrs

from core.domain.errors import InvalidChannel, Why
from core.domain.money import Money
from core.domain.tier import MAX_STARS, RENEWAL_DAYS, STARS

STARS_LINK_TIER = 8
"""The tier number of a subscription Telegram's Stars link sold (tiers are 1..3, a
trial's 9)."""
PERIOD_SECONDS = RENEWAL_DAYS * 86_400
"""The only period Telegram offers a subscription link: 2592000 seconds, 30 days."""


def _check_price(_: object, __: attrs.Attribute[Money], value: Money) -> None:
    if value.currency != STARS:
        raise InvalidChannel(Why.STARS_LINK_PRICE, most=MAX_STARS)
    if value.decimal_places() > 0 or not 1 <= value.amount <= MAX_STARS:
        raise InvalidChannel(Why.STARS_LINK_PRICE, most=MAX_STARS)


@attrs.frozen
class StarsLink:
    """A channel's Stars subscription link: its URL and the Stars it costs a period."""

    url: str
    price: Money = attrs.field(validator=_check_price)


def stars_link_price(stars: int) -> Money:
    """``stars`` as a link's price; InvalidChannel unless 1..MAX_STARS."""
    if isinstance(stars, bool) or not 1 <= stars <= MAX_STARS:
        raise InvalidChannel(Why.STARS_LINK_PRICE, most=MAX_STARS)
    return Money.of(str(stars), STARS)


@attrs.frozen
class StarsLinkMember:
    """What Telegram reported: ``user_id`` is a member of the channel through its Stars
    link ``url`` until ``until`` (Telegram's ``until_date``)."""

    chat_id: int
    user_id: int
    url: str
    until: datetime
