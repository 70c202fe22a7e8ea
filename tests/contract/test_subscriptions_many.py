"""SubscriptionRepository.find_many / add_many / update_many contract: the
subscriptions of a batch read and written in one go, all or nothing."""

from __future__ import annotations

import asyncio
import copy
from datetime import timedelta

import pytest

from core.domain.channel import Channel
from core.domain.ids import ChannelId, UserId
from core.domain.subscription import Subscription, SubscriptionStatus
from core.ports.errors import Conflict, NotFound
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from tests.contract.builders import (
    at,
    commit_with,
    fresh_user,
    given_channel,
    given_subscriptions,
    make_subscription,
    read,
)

HOLD = 0.05
"""Seconds a racing unit of work keeps its locks before committing."""

Pair = tuple[UserId, ChannelId]


@pytest.fixture
async def channel(uow_factory: UnitOfWorkFactory) -> Channel:
    return await given_channel(uow_factory)


def _pair(subscription: Subscription) -> Pair:
    return subscription.user_id, subscription.channel_id


async def _find(uow_factory: UnitOfWorkFactory, pairs: list[Pair]) -> dict[Pair, Subscription]:
    return dict(await read(uow_factory, lambda uow: uow.subscriptions.find_many(pairs)))


async def _stored(
    uow_factory: UnitOfWorkFactory, subscriptions: list[Subscription]
) -> list[Subscription | None]:
    found = await _find(uow_factory, [_pair(s) for s in subscriptions])
    return [found.get(_pair(s)) for s in subscriptions]


async def _add(uow_factory: UnitOfWorkFactory, subscriptions: list[Subscription]) -> None:
    await commit_with(uow_factory, lambda uow: uow.subscriptions.add_many(subscriptions))


async def _update(uow_factory: UnitOfWorkFactory, subscriptions: list[Subscription]) -> None:
    await commit_with(uow_factory, lambda uow: uow.subscriptions.update_many(subscriptions))


# -- find_many ------------------------------------------------------------------------


async def test_finding_no_pairs_finds_nothing(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    await given_subscriptions(uow_factory, channel, 1)

    assert await _find(uow_factory, []) == {}


async def test_find_many_finds_the_subscriptions_of_the_pairs_and_leaves_out_the_missing(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    other_channel = await given_channel(uow_factory)
    first, second, not_asked = await given_subscriptions(uow_factory, channel, 3)
    nobody = (fresh_user(), channel.id)
    elsewhere = (first.user_id, other_channel.id)

    found = await _find(uow_factory, [_pair(second), nobody, _pair(first), elsewhere])

    assert found == {_pair(first): first, _pair(second): second}
    assert _pair(not_asked) not in found


# -- add_many -------------------------------------------------------------------------


async def test_adding_no_subscriptions_adds_nothing(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    await _add(uow_factory, [])

    assert await read(uow_factory, lambda uow: uow.subscriptions.for_channel(channel.id)) == []


async def test_add_many_stores_every_subscription_once_committed(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    subscriptions = [make_subscription(channel, user_id=fresh_user()) for _ in range(3)]

    await _add(uow_factory, subscriptions)

    assert await _stored(uow_factory, subscriptions) == subscriptions

    async def by_id(uow: UnitOfWork) -> list[Subscription]:
        return [await uow.subscriptions.get(s.id) for s in subscriptions]

    assert await read(uow_factory, by_id) == subscriptions


async def test_add_many_with_one_pair_twice_is_refused_and_stores_nothing(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    user = fresh_user()
    other = make_subscription(channel, user_id=fresh_user())
    first = make_subscription(channel, user_id=user)
    second = make_subscription(channel, user_id=user, expires_at=at(days=90))

    with pytest.raises(Conflict):
        await _add(uow_factory, [other, first, second])

    assert await _stored(uow_factory, [other, first]) == [None, None]


async def test_add_many_with_a_pair_subscribed_before_is_refused_and_stores_nothing(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    (earlier,) = await given_subscriptions(uow_factory, channel, 1)
    new = make_subscription(channel, user_id=fresh_user())
    clash = make_subscription(channel, user_id=earlier.user_id, expires_at=at(days=90))

    with pytest.raises(Conflict):
        await _add(uow_factory, [new, clash])

    assert await _stored(uow_factory, [new, earlier]) == [None, earlier]


async def test_subscriptions_added_in_a_unit_of_work_rolled_back_were_never_stored(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    subscriptions = [make_subscription(channel, user_id=fresh_user()) for _ in range(2)]
    async with uow_factory() as uow:
        await uow.subscriptions.add_many(subscriptions)

    assert await _stored(uow_factory, subscriptions) == [None, None]
    await _add(uow_factory, subscriptions)
    assert await _stored(uow_factory, subscriptions) == subscriptions


# -- update_many ----------------------------------------------------------------------


async def test_updating_no_subscriptions_changes_nothing(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    subscriptions = await given_subscriptions(uow_factory, channel, 1)

    await _update(uow_factory, [])

    assert await _stored(uow_factory, subscriptions) == subscriptions


async def test_update_many_stores_every_change_and_bumps_every_version(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    first, second, third = await given_subscriptions(uow_factory, channel, 3)
    first.extend(timedelta(days=30), tier=3, now=at(days=1))
    second.revoke()
    third.mark_reminded(48)
    batch = [third, first, second]

    await _update(uow_factory, batch)

    assert [s.version for s in batch] == [1, 1, 1]
    stored = await _stored(uow_factory, batch)
    assert stored == batch
    assert [s.version for s in stored if s is not None] == [1, 1, 1]


async def test_update_many_with_one_stale_read_is_refused_and_stores_nothing(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    fresh, stale, untouched = await given_subscriptions(uow_factory, channel, 3)
    renewal = copy.deepcopy(stale)
    renewal.extend(timedelta(days=30), tier=1, now=at(days=1))
    await _update(uow_factory, [renewal])
    committed = await _stored(uow_factory, [fresh, renewal, untouched])
    fresh.mark_reminded(12)
    stale.revoke()
    untouched.mark_reminded(6)

    with pytest.raises(Conflict):
        await _update(uow_factory, [fresh, stale, untouched])

    assert [s.version for s in (fresh, stale, untouched)] == [0, 0, 0]
    stored = await _stored(uow_factory, [fresh, stale, untouched])
    assert stored == committed
    assert [s.status for s in stored if s is not None] == [SubscriptionStatus.ACTIVE] * 3
    assert [s.version for s in stored if s is not None] == [0, 1, 0]


async def test_update_many_with_one_subscription_twice_is_refused_and_stores_nothing(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    subscription, other = await given_subscriptions(uow_factory, channel, 2)
    committed = await _stored(uow_factory, [subscription, other])
    other.mark_reminded(12)
    revoked = copy.deepcopy(subscription)
    revoked.revoke()
    subscription.mark_reminded(6)

    with pytest.raises(Conflict):
        await _update(uow_factory, [other, subscription, revoked])

    assert [s.version for s in (other, subscription, revoked)] == [0, 0, 0]
    assert await _stored(uow_factory, [subscription, other]) == committed


async def test_update_many_with_one_subscription_gone_raises_not_found_and_stores_nothing(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    (known,) = await given_subscriptions(uow_factory, channel, 1)
    committed = await _stored(uow_factory, [known])
    ghost = make_subscription(channel, user_id=fresh_user())
    known.revoke()

    with pytest.raises(NotFound):
        await _update(uow_factory, [known, ghost])

    assert known.version == 0
    assert await _stored(uow_factory, [known, ghost]) == [*committed, None]


async def test_subscriptions_updated_in_a_unit_of_work_rolled_back_keep_their_stored_state(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    subscriptions = await given_subscriptions(uow_factory, channel, 2)
    committed = await _stored(uow_factory, subscriptions)
    for subscription in subscriptions:
        subscription.revoke()

    async with uow_factory() as uow:
        await uow.subscriptions.update_many(subscriptions)

    assert await _stored(uow_factory, subscriptions) == committed


async def test_two_batches_updating_the_same_subscriptions_in_opposite_orders_one_wins_all(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    # Opposite orders are how two batches deadlock if each locks in its input order.
    first, second = await given_subscriptions(uow_factory, channel, 2)

    async def batch(order: list[Subscription], tier: int) -> bool:
        mine = [copy.deepcopy(s) for s in order]
        for subscription in mine:
            subscription.extend(timedelta(days=30), tier=tier, now=at(days=1))
        try:
            async with uow_factory() as uow:
                await uow.subscriptions.update_many(mine)
                await asyncio.sleep(HOLD)
                await uow.commit()
        except Conflict:
            return False
        return True

    tiers = [1, 3]
    results = await asyncio.gather(
        batch([first, second], tiers[0]), batch([second, first], tiers[1])
    )

    assert sorted(results) == [False, True]
    winner = tiers[results.index(True)]
    stored = await _stored(uow_factory, [first, second])
    assert [(s.tier, s.version) for s in stored if s is not None] == [(winner, 1), (winner, 1)]
