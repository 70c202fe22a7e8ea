"""GrantRepository.add_many contract: the grants of a batch in one go, still one per
(subscription, period)."""

from __future__ import annotations

import pytest

from core.domain.grant import AccessGrant
from core.domain.subscription import Subscription
from core.ports.errors import NotFound
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from tests.contract.builders import (
    commit_with,
    given_channel,
    given_subscriptions,
    make_grant,
    read,
)


@pytest.fixture
async def subscriptions(uow_factory: UnitOfWorkFactory) -> list[Subscription]:
    channel = await given_channel(uow_factory)
    return await given_subscriptions(uow_factory, channel, 2)


async def _add(uow_factory: UnitOfWorkFactory, grants: list[AccessGrant]) -> list[bool]:
    return list(await commit_with(uow_factory, lambda uow: uow.grants.add_many(grants)))


async def _get(uow_factory: UnitOfWorkFactory, grant: AccessGrant) -> AccessGrant:
    return await read(uow_factory, lambda uow: uow.grants.get(grant.id))


async def _latest_periods(
    uow_factory: UnitOfWorkFactory, subscriptions: list[Subscription]
) -> list[int | None]:
    async def periods(uow: UnitOfWork) -> list[int | None]:
        latest = [await uow.grants.latest_for(s.id) for s in subscriptions]
        return [None if grant is None else grant.period for grant in latest]

    return await read(uow_factory, periods)


async def _assert_absent(uow_factory: UnitOfWorkFactory, grant: AccessGrant) -> None:
    with pytest.raises(NotFound):
        await _get(uow_factory, grant)


async def test_adding_no_grants_adds_nothing(
    uow_factory: UnitOfWorkFactory, subscriptions: list[Subscription]
) -> None:
    assert await _add(uow_factory, []) == []

    assert await _latest_periods(uow_factory, subscriptions) == [None, None]


async def test_add_many_stores_every_new_grant_and_answers_in_input_order(
    uow_factory: UnitOfWorkFactory, subscriptions: list[Subscription]
) -> None:
    first, second = subscriptions
    grants = [make_grant(second, period=1), make_grant(first, period=2), make_grant(first)]

    assert await _add(uow_factory, grants) == [True, True, True]

    assert [await _get(uow_factory, g) for g in grants] == grants
    assert await _latest_periods(uow_factory, subscriptions) == [2, 1]


async def test_of_grants_for_one_period_in_a_batch_only_the_first_is_stored(
    uow_factory: UnitOfWorkFactory, subscriptions: list[Subscription]
) -> None:
    first, second = subscriptions
    kept, again, other = make_grant(first), make_grant(first), make_grant(second)

    assert await _add(uow_factory, [kept, again, other]) == [True, False, True]

    assert await _get(uow_factory, kept) == kept
    assert await _get(uow_factory, other) == other
    await _assert_absent(uow_factory, again)


async def test_add_many_refuses_a_period_granted_before_and_keeps_the_earlier_grant(
    uow_factory: UnitOfWorkFactory, subscriptions: list[Subscription]
) -> None:
    first, second = subscriptions
    earlier = make_grant(first)
    await _add(uow_factory, [earlier])
    again, new = make_grant(first), make_grant(second)

    assert await _add(uow_factory, [again, new]) == [False, True]

    assert await _get(uow_factory, earlier) == earlier
    assert await _get(uow_factory, new) == new
    await _assert_absent(uow_factory, again)


async def test_grants_added_in_a_unit_of_work_rolled_back_were_never_stored(
    uow_factory: UnitOfWorkFactory, subscriptions: list[Subscription]
) -> None:
    grants = [make_grant(s) for s in subscriptions]
    async with uow_factory() as uow:
        assert list(await uow.grants.add_many(grants)) == [True, True]

    for grant in grants:
        await _assert_absent(uow_factory, grant)
    assert await _add(uow_factory, grants) == [True, True]
    assert await _latest_periods(uow_factory, subscriptions) == [1, 1]
