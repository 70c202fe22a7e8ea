"""GrantRepository contract: one grant per (subscription, period)."""

from __future__ import annotations

import pytest

from core.domain.grant import AccessGrant, GrantStatus
from core.domain.subscription import Subscription
from core.ports.errors import Conflict, NotFound
from core.ports.payment_ledger import PaymentChanges
from core.ports.repositories import UnitOfWorkFactory
from tests.contract.builders import (
    at,
    commit_with,
    given_channel,
    make_grant,
    make_subscription,
    read,
    saved,
    saving,
)


@pytest.fixture
async def subscription(uow_factory: UnitOfWorkFactory) -> Subscription:
    channel = await given_channel(uow_factory)
    subscription = make_subscription(channel)
    await commit_with(uow_factory, saving(PaymentChanges(new_subscriptions=[subscription])))
    return subscription


async def _add(uow_factory: UnitOfWorkFactory, grant: AccessGrant) -> bool:
    return await saved(uow_factory, PaymentChanges(grants=[grant]))


async def test_a_committed_grant_reads_back_with_every_field(
    uow_factory: UnitOfWorkFactory, subscription: Subscription
) -> None:
    grant = make_grant(subscription)
    grant.issue_link("https://t.me/+AbCdEf123", at(days=1))

    assert await _add(uow_factory, grant) is True

    assert await read(uow_factory, lambda uow: uow.grants.get(grant.id)) == grant


async def test_a_period_is_granted_once(
    uow_factory: UnitOfWorkFactory, subscription: Subscription
) -> None:
    first = make_grant(subscription, period=1)
    again = make_grant(subscription, period=1)

    assert await _add(uow_factory, first) is True
    assert await _add(uow_factory, again) is False

    with pytest.raises(NotFound):
        await read(uow_factory, lambda uow: uow.grants.get(again.id))


async def test_each_new_period_gets_its_grant_and_the_latest_is_the_highest_period(
    uow_factory: UnitOfWorkFactory, subscription: Subscription
) -> None:
    grants = [make_grant(subscription, period=p) for p in (2, 3, 1)]

    assert [await _add(uow_factory, g) for g in grants] == [True, True, True]

    latest = await read(uow_factory, lambda uow: uow.grants.latest_for(subscription.id))
    assert latest is not None
    assert latest.period == 3


async def test_a_subscription_without_grants_has_no_latest(
    uow_factory: UnitOfWorkFactory, subscription: Subscription
) -> None:
    assert await read(uow_factory, lambda uow: uow.grants.latest_for(subscription.id)) is None


async def test_unknown_grants_raise_not_found(
    uow_factory: UnitOfWorkFactory, subscription: Subscription
) -> None:
    ghost = make_grant(subscription)
    with pytest.raises(NotFound):
        await read(uow_factory, lambda uow: uow.grants.get(ghost.id))
    with pytest.raises(NotFound):
        await read(uow_factory, lambda uow: uow.grants.update(ghost))


async def test_a_grant_id_cannot_be_reused_for_another_period(
    uow_factory: UnitOfWorkFactory, subscription: Subscription
) -> None:
    first = make_grant(subscription, period=1)
    await _add(uow_factory, first)

    reused = make_grant(subscription, period=2, grant_id=first.id)
    with pytest.raises(Conflict):
        await commit_with(uow_factory, saving(PaymentChanges(grants=[reused])))


async def test_an_issued_link_is_stored_once_committed(
    uow_factory: UnitOfWorkFactory, subscription: Subscription
) -> None:
    grant = make_grant(subscription)
    await _add(uow_factory, grant)
    grant.issue_link("https://t.me/+XyZ", None)

    await commit_with(uow_factory, lambda uow: uow.grants.update(grant))
    stored = await read(uow_factory, lambda uow: uow.grants.get(grant.id))

    assert stored.status is GrantStatus.LINK_ISSUED
    assert stored.invite_link == "https://t.me/+XyZ"
    assert stored == grant


async def test_changing_a_returned_grant_changes_nothing_until_updated(
    uow_factory: UnitOfWorkFactory, subscription: Subscription
) -> None:
    grant = make_grant(subscription)
    await _add(uow_factory, grant)

    async with uow_factory() as uow:
        (await uow.grants.get(grant.id)).cancel()
        await uow.commit()

    stored = await read(uow_factory, lambda uow: uow.grants.get(grant.id))
    assert stored.status is GrantStatus.QUEUED
