"""StarsRenewalRepository on every store: a subscription is kept once per first
charge id, read back as kept, listed per person newest first, and canceled once
(of two units of work canceling at once exactly one wins); a channel's tiers keep
whether they renew in Stars."""

from __future__ import annotations

import asyncio

import attrs
import pytest

from core.domain.channel import Channel
from core.domain.ids import UserId
from core.domain.money import Money
from core.domain.stars_renewal import StarsRenewal
from core.domain.tier import Tier
from core.ports.repositories import UnitOfWorkFactory
from tests.contract.builders import at, commit_with, given_channel, read

PAYER = UserId(4242)


@pytest.fixture
async def channel(uow_factory: UnitOfWorkFactory) -> Channel:
    return await given_channel(uow_factory)


def renewal(channel: Channel, charge: str = "stxFirst", minutes: float = 0) -> StarsRenewal:
    return StarsRenewal(charge, PAYER, channel.id, 1, at(minutes=minutes))


async def test_a_subscription_is_kept_once_and_reads_back(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    kept = await commit_with(uow_factory, lambda uow: uow.stars_renewals.add(renewal(channel)))
    again = await commit_with(
        uow_factory, lambda uow: uow.stars_renewals.add(renewal(channel, minutes=5))
    )

    assert (kept, again) == (True, False)
    assert await read(uow_factory, lambda uow: uow.stars_renewals.get("stxFirst")) == renewal(
        channel
    )
    assert await read(uow_factory, lambda uow: uow.stars_renewals.get("stxOther")) is None


async def test_a_persons_subscriptions_are_listed_newest_first(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    await commit_with(uow_factory, lambda uow: uow.stars_renewals.add(renewal(channel, "stxOld")))
    await commit_with(
        uow_factory, lambda uow: uow.stars_renewals.add(renewal(channel, "stxNew", minutes=10))
    )

    listed = await read(uow_factory, lambda uow: uow.stars_renewals.of_user(PAYER))
    others = await read(uow_factory, lambda uow: uow.stars_renewals.of_user(UserId(1)))

    assert [r.charge_id for r in listed] == ["stxNew", "stxOld"]
    assert others == []


async def test_a_cancellation_is_kept_once(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    await commit_with(uow_factory, lambda uow: uow.stars_renewals.add(renewal(channel)))
    canceled = attrs.evolve(renewal(channel), canceled_at=at(days=3))
    later = attrs.evolve(renewal(channel), canceled_at=at(days=4))

    first = await commit_with(uow_factory, lambda uow: uow.stars_renewals.cancel(canceled))
    second = await commit_with(uow_factory, lambda uow: uow.stars_renewals.cancel(later))

    assert (first, second) == (True, False)
    stored = await read(uow_factory, lambda uow: uow.stars_renewals.get("stxFirst"))
    assert stored is not None and stored.canceled_at == at(days=3) and not stored.renews


async def test_of_two_racing_cancellations_exactly_one_wins(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    await commit_with(uow_factory, lambda uow: uow.stars_renewals.add(renewal(channel)))

    async def cancel(days: int) -> bool:
        return await commit_with(
            uow_factory,
            lambda uow: uow.stars_renewals.cancel(
                attrs.evolve(renewal(channel), canceled_at=at(days=days))
            ),
        )

    results = await asyncio.gather(cancel(1), cancel(2))

    assert sorted(results) == [False, True]


async def test_a_tier_keeps_whether_it_renews_in_stars(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    tiers = (
        Tier(1, Money.of(10, "USD"), 30, Money.of(500, "XTR"), stars_renews=True),
        Tier(2, Money.of(25, "USD"), 90, Money.of(1200, "XTR")),
    )
    changed = attrs.evolve(channel, tiers=tiers)

    await commit_with(uow_factory, lambda uow: uow.channels.update(changed))

    stored = await read(uow_factory, lambda uow: uow.channels.get(channel.id))
    assert [(t.number, t.stars_renews) for t in stored.tiers] == [(1, True), (2, False)]
