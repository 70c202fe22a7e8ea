"""Redeeming coupons through the use cases on every store (issue 21): a free-days
code grants through the payment ledger exactly once, a discount is what the intent
keeps, and of people racing for the last use exactly one wins."""

from __future__ import annotations

import asyncio

from core.domain.coupon import CouponRefused, Discount
from core.domain.errors import Why
from core.domain.ids import UserId
from core.domain.intent_state import IntentStatus
from core.domain.outbox import IssueInvite
from core.domain.payment import EventOutcome
from core.ports.repositories import UnitOfWorkFactory
from core.services.coupons import CouponTerms
from tests.unit.services.world import OWNER, World, build, usd


async def _world(uow_factory: UnitOfWorkFactory) -> World:
    world = build(uow=uow_factory)
    await world.channel()
    return world


async def test_free_days_are_granted_once(uow_factory: UnitOfWorkFactory) -> None:
    world = await _world(uow_factory)
    assert world.coupons is not None and world.redeem is not None
    async with world.uow() as tx:
        (mine,) = await tx.channels.by_owner(OWNER)
    await world.coupons.create(OWNER, CouponTerms(Discount.free_days(7), "WEEK-FREE", mine.id))
    user = UserId(501)

    outcomes = await asyncio.gather(
        world.redeem.execute(user, "WEEK-FREE"),
        world.redeem.execute(user, "week-free"),
        return_exceptions=True,
    )

    granted = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(granted) == 1 and not granted[0].again
    refused = [o for o in outcomes if isinstance(o, CouponRefused)]
    assert all(r.why is Why.COUPON_ALREADY_REDEEMED for r in refused)
    invites = [e for e in await world.effects() if isinstance(e, IssueInvite)]
    assert len(invites) == 1
    async with world.uow() as tx:
        sub = await tx.subscriptions.find(user, mine.id)
    assert sub is not None and sub.expires_at == granted[0].granted_until


async def test_a_discounted_checkout_is_paid_at_its_price(uow_factory: UnitOfWorkFactory) -> None:
    world = await _world(uow_factory)
    assert world.coupons is not None and world.redeem is not None
    await world.coupons.create(OWNER, CouponTerms(Discount.off_amount(usd(4)), "FOUR-OFF"))
    async with world.uow() as tx:
        (mine,) = await tx.channels.by_owner(OWNER)
    user = UserId(502)
    await world.redeem.execute(user, "FOUR-OFF")

    invoice = await world.checkout.execute(user, mine.id, 1)

    assert invoice.price.same_value(usd(6))
    assert (await world.pay(invoice)).outcome is EventOutcome.GRANTED
    async with world.uow() as tx:
        coupon = await tx.coupons.by_code("FOUR-OFF")
        assert coupon is not None
        held = await tx.coupons.redemption(coupon.id, user)
    assert held is not None and held.intent_id == invoice.intent_id


async def test_people_racing_for_the_last_use_have_one_winner(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await _world(uow_factory)
    assert world.coupons is not None and world.redeem is not None
    await world.coupons.create(OWNER, CouponTerms(Discount.off_percent(30), "LAST-ONE", max_uses=1))
    redeem = world.redeem

    outcomes = await asyncio.gather(
        *(redeem.execute(UserId(600 + n), "LAST-ONE") for n in range(4)),
        return_exceptions=True,
    )

    won = [o for o in outcomes if not isinstance(o, BaseException)]
    lost = [o for o in outcomes if isinstance(o, CouponRefused)]
    assert len(won) == 1 and len(lost) == 3
    assert all(r.why is Why.COUPON_USED_UP for r in lost)
    assert (await world.coupons.list(OWNER))[0].used == 1


async def test_a_discount_lowers_one_open_checkout_at_a_time(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await _world(uow_factory)
    assert world.coupons is not None and world.redeem is not None
    await world.coupons.create(OWNER, CouponTerms(Discount.off_percent(20), "ONE-HELD"))
    async with world.uow() as tx:
        (mine,) = await tx.channels.by_owner(OWNER)
    user = UserId(503)
    await world.redeem.execute(user, "ONE-HELD")

    first = await world.checkout.execute(user, mine.id, 1)
    second = await world.checkout.execute(user, mine.id, 2)

    assert (await world.intent(first.intent_id)).status is IntentStatus.EXPIRED
    assert second.price.same_value(usd(20))
    assert "intent.superseded" in await world.audit_actions()
