"""Coupons end to end over the in-memory store (issue 21): owners make and switch
off codes, subscribers redeem them; the discounted price is what the intent keeps
and what the payment is checked against; free days are granted once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.domain.coupon import Coupon, CouponRefused, Discount
from core.domain.errors import UnknownChannel, Why
from core.domain.ids import UserId
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.domain.outbox import IssueInvite
from core.domain.payment import EventOutcome
from core.domain.tier import Rail, Tier
from core.services.coupons import CouponTerms, OwnerCoupons
from core.services.redeem_coupon import RedeemCoupon
from tests.unit.services.world import OWNER, World, build, usd

USER = UserId(42)
OTHER = UserId(43)


def _services(world: World) -> tuple[OwnerCoupons, RedeemCoupon]:
    assert world.coupons is not None and world.redeem is not None
    return world.coupons, world.redeem


def _refused(why: Why) -> pytest.RaisesExc[CouponRefused]:
    return pytest.raises(CouponRefused, check=lambda e: e.why is why)


async def _coupon(world: World, terms: CouponTerms) -> Coupon:
    coupons, _ = _services(world)
    return await coupons.create(OWNER, terms)


async def test_an_owner_makes_a_code_and_lists_it_with_its_uses(world: World) -> None:
    channel = await world.channel()
    coupons, _ = _services(world)

    made = await coupons.create(
        OWNER, CouponTerms(Discount.off_percent(20), "spring", channel.id, max_uses=5)
    )

    assert (made.code, made.uses_left) == ("SPRING", 5)
    assert [c.code for c in await coupons.list(OWNER)] == ["SPRING"]
    assert await coupons.list(OTHER) == []
    assert "coupon.created" in await world.audit_actions()


async def test_a_code_left_out_is_made_up(world: World) -> None:
    await world.channel()
    made = await _coupon(world, CouponTerms(Discount.off_percent(10)))
    assert len(made.code) == 10 and made.channel_id is None


async def test_a_taken_code_is_refused(world: World) -> None:
    await world.channel()
    await _coupon(world, CouponTerms(Discount.off_percent(10), "TAKEN"))
    with _refused(Why.COUPON_CODE_TAKEN):
        await _coupon(world, CouponTerms(Discount.off_percent(30), "taken"))


async def test_nobody_makes_a_code_for_someone_elses_channel(world: World) -> None:
    channel = await world.channel()
    coupons, _ = _services(world)
    with pytest.raises(UnknownChannel):
        await coupons.create(OTHER, CouponTerms(Discount.off_percent(10), "MINE", channel.id))


async def test_an_amount_off_must_be_in_the_tiers_currency(world: World) -> None:
    channel = await world.channel()
    with _refused(Why.COUPON_WRONG_CURRENCY):
        await _coupon(
            world, CouponTerms(Discount.off_amount(Money.of(5, "EUR")), "EURO", channel.id)
        )


async def test_switched_off_codes_are_not_redeemed(world: World) -> None:
    await world.channel()
    coupons, redeem = _services(world)
    await _coupon(world, CouponTerms(Discount.off_percent(10), "GONE"))

    off = await coupons.switch_off(OWNER, "gone")

    assert off.active is False
    with _refused(Why.COUPON_UNKNOWN):
        await redeem.execute(USER, "GONE")
    with _refused(Why.COUPON_UNKNOWN):
        await coupons.switch_off(OTHER, "GONE")


async def test_a_redeemed_discount_is_the_price_the_intent_keeps_and_the_payment_is_checked_against(
    world: World,
) -> None:
    channel = await world.channel()
    _, redeem = _services(world)
    await _coupon(world, CouponTerms(Discount.off_percent(20), "SAVE20", channel.id))

    redeemed = await redeem.execute(USER, "save20")
    assert [(t.tier.number, str(t.price)) for t in redeemed.tiers] == [
        (1, "8 USD"),
        (2, "20 USD"),
    ]

    invoice = await world.checkout.execute(USER, channel.id, 1)
    assert invoice.price.same_value(usd(8))
    assert (await world.intent(invoice.intent_id)).price.same_value(usd(8))

    full = world.notification(invoice, IntentStatus.FINISHED, price=usd(10), payment_id="forged")
    assert (await world.verify.execute(full)).outcome is EventOutcome.MISMATCH
    assert (await world.pay(invoice)).outcome is EventOutcome.GRANTED

    # Paid: the discount is spent, the next checkout is at the tier's price.
    again = await world.checkout.execute(USER, channel.id, 2)
    assert again.price.same_value(usd(25))
    actions = await world.audit_actions()
    assert actions.count("coupon.redeemed") == 1


async def test_without_a_redemption_nobody_gets_the_discount(world: World) -> None:
    channel = await world.channel()
    await _coupon(world, CouponTerms(Discount.off_percent(50), "HALF", channel.id))
    invoice = await world.checkout.execute(OTHER, channel.id, 1)
    assert invoice.price.same_value(usd(10))


async def test_redeeming_twice_takes_one_use_and_shows_the_offer_again(world: World) -> None:
    channel = await world.channel()
    coupons, redeem = _services(world)
    await _coupon(world, CouponTerms(Discount.off_amount(usd(3)), "THREE", channel.id, 2))

    first = await redeem.execute(USER, "THREE")
    second = await redeem.execute(USER, "THREE")

    assert (first.again, second.again) == (False, True)
    assert [str(t.price) for t in second.tiers] == ["7 USD", "22 USD"]
    assert (await coupons.list(OWNER))[0].used == 1


async def test_the_last_use_goes_to_one_person(world: World) -> None:
    await world.channel()
    _, redeem = _services(world)
    await _coupon(world, CouponTerms(Discount.off_percent(10), "ONCE", max_uses=1))

    await redeem.execute(USER, "ONCE")
    with _refused(Why.COUPON_USED_UP):
        await redeem.execute(OTHER, "ONCE")


async def test_an_expired_or_unknown_code_is_refused(world: World) -> None:
    await world.channel()
    _, redeem = _services(world)
    until = world.clock.now() + timedelta(days=1)
    await _coupon(world, CouponTerms(Discount.off_percent(10), "SOON", expires_at=until))

    world.clock.advance(timedelta(days=2))

    with _refused(Why.COUPON_EXPIRED):
        await redeem.execute(USER, "SOON")
    with _refused(Why.COUPON_UNKNOWN):
        await redeem.execute(USER, "NEVER-MADE")
    with _refused(Why.COUPON_BAD_CODE):
        await redeem.execute(USER, "no")


async def test_an_expired_coupon_no_longer_lowers_a_checkout(world: World) -> None:
    channel = await world.channel()
    _, redeem = _services(world)
    until = world.clock.now() + timedelta(days=1)
    await _coupon(world, CouponTerms(Discount.off_percent(10), "BRIEF", expires_at=until))
    await redeem.execute(USER, "BRIEF")

    world.clock.advance(timedelta(days=2))

    assert (await world.checkout.execute(USER, channel.id, 1)).price.same_value(usd(10))


async def test_a_paused_channel_offers_nothing_to_redeem(world: World) -> None:
    channel = await world.channel()
    _, redeem = _services(world)
    await _coupon(world, CouponTerms(Discount.off_percent(10), "PAUSED", channel.id))
    await world.sales.pause_channel(channel.id, "test")

    with _refused(Why.COUPON_NOTHING_ON_SALE):
        await redeem.execute(USER, "PAUSED")


async def test_free_days_grant_access_once_through_the_outbox(world: World) -> None:
    channel = await world.channel()
    _, redeem = _services(world)
    await _coupon(world, CouponTerms(Discount.free_days(7), "WEEK", channel.id))

    redeemed = await redeem.execute(USER, "week")

    assert redeemed.granted_until == world.clock.now() + timedelta(days=7)
    assert [e for e in await world.effects() if isinstance(e, IssueInvite)]
    async with world.uow() as tx:
        sub = await tx.subscriptions.find(USER, channel.id)
    assert sub is not None and sub.expires_at == redeemed.granted_until
    with _refused(Why.COUPON_ALREADY_REDEEMED):
        await redeem.execute(USER, "WEEK")
    actions = await world.audit_actions()
    assert actions.count("coupon.redeemed") == 1 and "subscription.started" in actions


async def test_free_days_extend_a_running_subscription(world: World) -> None:
    channel = await world.channel()
    _, redeem = _services(world)
    await world.pay(await world.checkout.execute(USER, channel.id, 1))
    await _coupon(world, CouponTerms(Discount.free_days(7), "MORE", channel.id))

    redeemed = await redeem.execute(USER, "MORE")

    assert redeemed.granted_until == world.clock.now() + timedelta(days=37)
    assert any(k.startswith("relink:coupon:") for k in await world.keys())


async def test_a_percentage_lowers_a_stars_checkout_and_an_amount_off_does_not() -> None:
    world = build(stars=True)
    channel = await world.channel((Tier(1, usd(10), 30, Money.of(500, "XTR")),))
    _, redeem = _services(world)
    await _coupon(world, CouponTerms(Discount.off_percent(15), "STARS-15", channel.id))
    await _coupon(world, CouponTerms(Discount.off_amount(usd(2)), "TWO-OFF", channel.id))
    await redeem.execute(USER, "STARS-15")
    await redeem.execute(OTHER, "TWO-OFF")

    lowered = await world.checkout.execute(USER, channel.id, 1, Rail.STARS)
    full = await world.checkout.execute(OTHER, channel.id, 1, Rail.STARS)

    assert lowered.price == Money.of(425, "XTR")
    assert full.price == Money.of(500, "XTR")
    assert (await world.intent(lowered.intent_id)).provider == "telegram_stars"


async def test_someone_without_channels_makes_no_code(world: World) -> None:
    coupons, _ = _services(world)
    with pytest.raises(UnknownChannel):
        await coupons.create(OTHER, CouponTerms(Discount.off_percent(10), "SQUAT"))


async def test_a_discount_lowers_one_open_checkout_at_a_time(world: World) -> None:
    channel = await world.channel()
    _, redeem = _services(world)
    await _coupon(world, CouponTerms(Discount.off_percent(20), "ONE-AT-A-TIME", channel.id))
    await redeem.execute(USER, "ONE-AT-A-TIME")

    first = await world.checkout.execute(USER, channel.id, 1)
    second = await world.checkout.execute(USER, channel.id, 2)

    assert (await world.intent(first.intent_id)).status is IntentStatus.EXPIRED
    assert (await world.intent(second.intent_id)).price.same_value(usd(20))
    late = await world.pay(first)
    assert late.outcome is EventOutcome.STALE and late.late_money
    assert (await world.pay(second)).outcome is EventOutcome.GRANTED


async def test_a_code_that_lowers_no_price_offers_nothing(world: World) -> None:
    channel = await world.channel((Tier(1, usd(1), 30),))
    _, redeem = _services(world)
    await _coupon(world, CouponTerms(Discount.off_percent(50), "AT-THE-FLOOR", channel.id))

    with _refused(Why.COUPON_NOTHING_ON_SALE):
        await redeem.execute(USER, "AT-THE-FLOOR")
    assert (await _services(world)[0].list(OWNER))[0].used == 0


async def test_a_code_for_one_tier_lowers_that_tier_only(world: World) -> None:
    channel = await world.channel()
    _, redeem = _services(world)
    await _coupon(world, CouponTerms(Discount.off_percent(40), "LONG-ONLY", tier=2))

    redeemed = await redeem.execute(USER, "LONG-ONLY")

    assert [(t.tier.number, str(t.price)) for t in redeemed.tiers] == [(2, "15 USD")]
    assert (await world.checkout.execute(USER, channel.id, 1)).price.same_value(usd(10))
    assert (await world.checkout.execute(USER, channel.id, 2)).price.same_value(usd(15))
