"""GrantRepository.add_many contract: the grants of a batch in one go, still one per
(subscription, period)."""

from __future__ import annotations

import pytest

from core.domain.grant import AccessGrant
from core.domain.subscription import Subscription
from core.ports.errors import Conflict, NotFound
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


async def _add(uow_factory: UnitOfWorkFactory, grants: list[AccessGrant]) -> None:
    await commit_with(uow_factory, lambda uow: uow.grants.add_many(grants))


async def _refused(uow_factory: UnitOfWorkFactory, grants: list[AccessGrant]) -> None:
    """Conflict, at the call or at the commit (held back): the caller rolls back."""

    async def add_and_commit() -> None:
        async with uow_factory() as uow:
            await uow.grants.add_many(grants)
            await uow.commit()

    with pytest.raises(Conflict):
        await add_and_commit()


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
    await _add(uow_factory, [])

    assert await _latest_periods(uow_factory, subscriptions) == [None, None]


async def test_add_many_stores_every_new_grant(
    uow_factory: UnitOfWorkFactory, subscriptions: list[Subscription]
) -> None:
    first, second = subscriptions
    grants = [make_grant(second, period=1), make_grant(first, period=2), make_grant(first)]

    await _add(uow_factory, grants)

    assert [await _get(uow_factory, g) for g in grants] == grants
    assert await _latest_periods(uow_factory, subscriptions) == [2, 1]


async def test_two_grants_for_one_period_in_a_batch_are_refused_and_none_is_stored(
    uow_factory: UnitOfWorkFactory, subscriptions: list[Subscription]
) -> None:
    first, second = subscriptions
    kept, again, other = make_grant(first), make_grant(first), make_grant(second)

    await _refused(uow_factory, [kept, again, other])

    for grant in (kept, again, other):
        await _assert_absent(uow_factory, grant)


async def test_a_period_granted_before_is_refused_and_the_earlier_grant_kept(
    uow_factory: UnitOfWorkFactory, subscriptions: list[Subscription]
) -> None:
    first, second = subscriptions
    earlier = make_grant(first)
    await _add(uow_factory, [earlier])
    again, new = make_grant(first), make_grant(second)

    await _refused(uow_factory, [again, new])

    assert await _get(uow_factory, earlier) == earlier
    await _assert_absent(uow_factory, again)
    await _assert_absent(uow_factory, new)


async def test_grants_added_in_a_unit_of_work_rolled_back_were_never_stored(
    uow_factory: UnitOfWorkFactory, subscriptions: list[Subscription]
) -> None:
    grants = [make_grant(s) for s in subscriptions]
    async with uow_factory() as uow:
        await uow.grants.add_many(grants)

    for grant in grants:
        await _assert_absent(uow_factory, grant)
    await _add(uow_factory, grants)
    assert await _latest_periods(uow_factory, subscriptions) == [1, 1]


async def test_grants_held_in_a_unit_of_work_are_read_back_in_it(
    uow_factory: UnitOfWorkFactory, subscriptions: list[Subscription]
) -> None:
    grant = make_grant(subscriptions[0])
    async with uow_factory() as uow:
        await uow.grants.add_many([grant])
        assert await uow.grants.get(grant.id) == grant
        assert await uow.grants.latest_for(grant.subscription_id) == grant
