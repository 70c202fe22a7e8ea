"""What the bot says about coupons and access codes (issue 21): the owners'
/coupon and /coupons, and the offer or grant a subscriber gets from a code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from adapters.catalog.buttons import confirm_data, coupon_link, stars_data
from adapters.catalog.language import _, n_
from adapters.catalog.message import Button, OutgoingMessage
from adapters.catalog.words import days, money, when
from core.domain.coupon import Coupon, Discount, DiscountKind
from core.domain.ids import ChannelId
from core.domain.tier import Tier
from core.services.coupon_prices import OfferDiscount
from core.services.redeem_coupon import Redeemed

COUPON_EXAMPLE = "/coupon new SPRING 20% channel 1 uses 100 until 2027-06-30"

TierTokens = Mapping[tuple[ChannelId, int], str]
"""The offer token of each (channel, tier) a code lowers, for its buttons."""


def usage() -> str:
    return _(
        "Make a code: /coupon new CODE %(percent)s (or 5USD off, or 7d free), then optionally "
        "channel 1 (else all your channels), tier 2 (else every tier), uses 100, "
        "until 2027-06-30.\n"
        "Example: %(example)s\n"
        "Leave out CODE and I make one up. /coupons lists yours; /coupon off CODE "
        "switches one off.",
        example=COUPON_EXAMPLE,
        percent="20%",
    )


def redeem_usage() -> str:
    return _("Send /redeem and your code, such as /redeem SPRING.")


def bad_date() -> str:
    return _("write the date as YYYY-MM-DD, such as 2027-06-30")


def discount(d: Discount) -> str:
    if d.kind is DiscountKind.PERCENT:
        return _("%(percent)s%% off", percent=d.percent)
    if d.kind is DiscountKind.FIXED:
        assert d.amount is not None
        return _("%(amount)s off", amount=money(d.amount))
    assert d.days is not None
    return _("%(days)s free", days=days(d.days))


def _scope(coupon: Coupon, titles: Mapping[ChannelId, str]) -> str:
    if coupon.channel_id is None:
        scope = _("all your channels")
    else:
        scope = titles.get(coupon.channel_id, coupon.channel_id)
    if coupon.tier is None:
        return scope
    return _("tier %(number)s of %(scope)s", number=coupon.tier, scope=scope)


def _limits(coupon: Coupon) -> str:
    parts = [
        _("used %(used)s of %(max)s", used=coupon.used, max=coupon.max_uses)
        if coupon.max_uses is not None
        else n_("used %(n)s time", "used %(n)s times", coupon.used)
    ]
    if coupon.expires_at is not None:
        parts.append(_("until %(when)s", when=when(coupon.expires_at)))
    if not coupon.active:
        parts.append(_("switched off"))
    return ", ".join(parts)


def created(coupon: Coupon, titles: Mapping[ChannelId, str], bot_username: str) -> str:
    return _(
        "Code %(code)s: %(discount)s on %(scope)s (%(limits)s).\n"
        "Share this link, or have people send /redeem %(code)s to me:\n%(link)s",
        code=coupon.code,
        discount=discount(coupon.discount),
        scope=_scope(coupon, titles),
        limits=_limits(coupon),
        link=coupon_link(bot_username, coupon.code),
    )


def listing(coupons: Sequence[Coupon], titles: Mapping[ChannelId, str]) -> str:
    if not coupons:
        return _("You have no codes yet.") + "\n\n" + usage()
    lines = [
        _(
            "• %(code)s: %(discount)s on %(scope)s — %(limits)s",
            code=c.code,
            discount=discount(c.discount),
            scope=_scope(c, titles),
            limits=_limits(c),
        )
        + (
            ""
            if c.uses_left is None
            else " " + n_("(%(n)s use left)", "(%(n)s uses left)", c.uses_left)
        )
        for c in coupons
    ]
    return "\n".join(lines)


def switched_off(coupon: Coupon) -> str:
    return _("Code %(code)s is switched off: nobody can redeem it any more.", code=coupon.code)


def offer(redeemed: Redeemed, tokens: TierTokens) -> OutgoingMessage:
    """The tiers a discount code lowers, a button each (and one for Stars)."""
    intro = (
        _("Your code %(code)s still applies:", code=redeemed.coupon.code)
        if redeemed.again
        else _(
            "Code %(code)s applied: %(discount)s.",
            code=redeemed.coupon.code,
            discount=discount(redeemed.coupon.discount),
        )
    )
    lines = [intro]
    rows: list[tuple[Button, ...]] = []
    for t in redeemed.tiers:
        lines.append(
            _(
                "• %(title)s, %(period)s: %(price)s instead of %(full)s",
                title=t.title,
                period=days(t.tier.duration_days),
                price=money(t.price),
                full=money(t.tier.price),
            )
        )
        token = tokens[(t.channel_id, t.tier.number)]
        label = _(
            "%(title)s: %(period)s for %(price)s",
            title=t.title,
            period=days(t.tier.duration_days),
            price=money(t.price),
        )
        row = [Button(label, callback_data=confirm_data(token))]
        if t.stars_price is not None:
            stars = _("Pay %(stars)s", stars=money(t.stars_price))
            row.append(Button(stars, callback_data=stars_data(token)))
        rows.append(tuple(row))
    lines.append(_("Tap one to get its payment link; the price is held for you."))
    return OutgoingMessage("\n".join(lines), tuple(rows))


def granted(redeemed: Redeemed) -> str:
    assert redeemed.granted_until is not None
    return _(
        "Code %(code)s applied: you have access to %(title)s until %(when)s. "
        "Your invite link is on its way.",
        code=redeemed.coupon.code,
        title=redeemed.channel_title or "",
        when=when(redeemed.granted_until),
    )


def with_discount(
    message: OutgoingMessage, lowered: OfferDiscount, tier: Tier, token: str
) -> OutgoingMessage:
    """An offer (:func:`adapters.catalog.texts.offer`) as someone holding a code reads
    it: what they pay with it, and the Stars button at the lowered Stars price."""
    if lowered.stars_price is not None and tier.stars_price is not None:
        note = _(
            "With your code %(code)s you pay %(price)s instead of %(full)s, or %(stars)s "
            "instead of %(full_stars)s.",
            code=lowered.code,
            price=money(lowered.price),
            full=money(tier.price),
            stars=money(lowered.stars_price),
            full_stars=money(tier.stars_price),
        )
    else:
        note = _(
            "With your code %(code)s you pay %(price)s instead of %(full)s.",
            code=lowered.code,
            price=money(lowered.price),
            full=money(tier.price),
        )
    stars = stars_data(token)
    rows = tuple(
        tuple(
            attrs.evolve(b, text=_("Pay %(stars)s", stars=money(lowered.stars_price)))
            if b.callback_data == stars and lowered.stars_price is not None
            else b
            for b in row
        )
        for row in message.buttons
    )
    return attrs.evolve(message, text=message.text + "\n\n" + note, buttons=rows)
