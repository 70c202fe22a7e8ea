"""CouponRepository contract (issue 21), on every store: a code once across the
deployment, a person's redemption once, the count of uses kept, and of many people
racing for the last use exactly one gets it."""

from __future__ import annotations

import asyncio

import attrs
import pytest

from core.domain.coupon import Coupon, CouponId, Discount, Redemption
from core.domain.ids import ChannelId, IntentId, UserId
from core.ports.errors import Conflict, NotFound
from core.ports.repositories import UnitOfWorkFactory
from tests.contract.builders import at, commit_with, fresh, fresh_user, read, usd


def _coupon(
    code: str | None = None,
    *,
    owner: UserId | None = None,
    max_uses: int | None = None,
    discount: Discount | None = None,
    channel: ChannelId | None = None,
) -> Coupon:
    return Coupon(
        id=CouponId(fresh("cp")),
        code=code or fresh("CODE").upper()[:32],
        owner_id=owner or fresh_user(),
        discount=discount or Discount.off_percent(20),
        created_at=at(),
        channel_id=channel,
        max_uses=max_uses,
        expires_at=at(days=30),
    )


async def _added(uow_factory: UnitOfWorkFactory, coupon: Coupon) -> Coupon:
    assert await commit_with(uow_factory, lambda uow: uow.coupons.add(coupon))
    return coupon


async def _redeem(uow_factory: UnitOfWorkFactory, coupon: Coupon, user: UserId) -> bool:
    return await commit_with(
        uow_factory, lambda uow: uow.coupons.redeem(Redemption(coupon.id, user, at(minutes=1)))
    )


async def test_a_coupon_reads_back_with_every_field(uow_factory: UnitOfWorkFactory) -> None:
    fixed = await _added(
        uow_factory,
        _coupon(discount=Discount.off_amount(usd("2.50")), max_uses=3, channel=ChannelId("ch1")),
    )
    days = await _added(
        uow_factory, _coupon(discount=Discount.free_days(7), channel=ChannelId("ch2"))
    )
    one_tier = await _added(uow_factory, attrs.evolve(_coupon(), tier=3))

    assert await read(uow_factory, lambda uow: uow.coupons.get(fixed.id)) == fixed
    assert await read(uow_factory, lambda uow: uow.coupons.by_code(days.code.lower())) == days
    assert await read(uow_factory, lambda uow: uow.coupons.by_code("NOPE-NOPE")) is None
    stored = await read(uow_factory, lambda uow: uow.coupons.get(one_tier.id))
    assert stored is not None and stored.tier == 3


async def test_a_code_is_taken_once_whoever_asks(uow_factory: UnitOfWorkFactory) -> None:
    first = await _added(uow_factory, _coupon())
    again = _coupon(first.code)

    assert await commit_with(uow_factory, lambda uow: uow.coupons.add(again)) is False
    assert await read(uow_factory, lambda uow: uow.coupons.get(again.id)) is None


async def test_an_owner_lists_their_own_coupons_only(uow_factory: UnitOfWorkFactory) -> None:
    owner = fresh_user()
    mine = [await _added(uow_factory, _coupon(owner=owner)) for _ in range(2)]
    await _added(uow_factory, _coupon())

    listed = await read(uow_factory, lambda uow: uow.coupons.of_owner(owner))

    assert [c.code for c in listed] == [c.code for c in mine]


async def test_a_redemption_counts_a_use_and_reads_back(uow_factory: UnitOfWorkFactory) -> None:
    coupon = await _added(uow_factory, _coupon(max_uses=2))
    user = fresh_user()

    assert await _redeem(uow_factory, coupon, user)

    stored = await read(uow_factory, lambda uow: uow.coupons.get(coupon.id))
    assert stored is not None and (stored.used, stored.uses_left) == (1, 1)
    assert await read(uow_factory, lambda uow: uow.coupons.redemptions_of(user)) == [
        Redemption(coupon.id, user, at(minutes=1))
    ]


async def test_a_person_redeems_a_coupon_once(uow_factory: UnitOfWorkFactory) -> None:
    coupon = await _added(uow_factory, _coupon())
    user = fresh_user()
    assert await _redeem(uow_factory, coupon, user)

    with pytest.raises(Conflict):
        await _redeem(uow_factory, coupon, user)

    stored = await read(uow_factory, lambda uow: uow.coupons.get(coupon.id))
    assert stored is not None and stored.used == 1


async def test_no_use_is_taken_when_none_is_left_or_it_is_off(
    uow_factory: UnitOfWorkFactory,
) -> None:
    used_up = await _added(uow_factory, _coupon(max_uses=1))
    switched = await _added(uow_factory, _coupon())
    assert await _redeem(uow_factory, used_up, fresh_user())
    assert await commit_with(uow_factory, lambda uow: uow.coupons.switch_off(switched.id))

    assert await _redeem(uow_factory, used_up, fresh_user()) is False
    assert await _redeem(uow_factory, switched, fresh_user()) is False
    assert await commit_with(uow_factory, lambda uow: uow.coupons.switch_off(switched.id)) is False

    stored = await read(uow_factory, lambda uow: uow.coupons.get(used_up.id))
    assert stored is not None and stored.used == 1


async def test_many_people_racing_for_the_last_use_have_one_winner(
    uow_factory: UnitOfWorkFactory,
) -> None:
    coupon = await _added(uow_factory, _coupon(max_uses=1))
    people = [fresh_user() for _ in range(5)]

    async def redeem(user: UserId) -> bool:
        async with uow_factory() as uow:
            won = await uow.coupons.redeem(Redemption(coupon.id, user, at(minutes=1)))
            await asyncio.sleep(0.02)  # held open while the others try
            await uow.commit()
        return won

    outcomes = await asyncio.gather(*(redeem(user) for user in people))

    assert outcomes.count(True) == 1
    stored = await read(uow_factory, lambda uow: uow.coupons.get(coupon.id))
    assert stored is not None and stored.used == 1
    held = [
        await read(uow_factory, lambda uow, user=user: uow.coupons.redemptions_of(user))  # type: ignore[misc]
        for user in people
    ]
    assert [bool(h) for h in held] == outcomes


async def test_a_redemption_notes_the_checkout_it_lowered(uow_factory: UnitOfWorkFactory) -> None:
    coupon = await _added(uow_factory, _coupon())
    user = fresh_user()
    assert await _redeem(uow_factory, coupon, user)

    await commit_with(uow_factory, lambda uow: uow.coupons.link(coupon.id, user, IntentId("i1")))

    stored = await read(uow_factory, lambda uow: uow.coupons.redemption(coupon.id, user))
    assert stored is not None and stored.intent_id == "i1"
    with pytest.raises(NotFound):
        await commit_with(
            uow_factory, lambda uow: uow.coupons.link(coupon.id, fresh_user(), IntentId("i2"))
        )
