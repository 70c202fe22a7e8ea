"""TrialRepository contract, and the plans' storage: every backend keeps trial records
for good, tells who paid before, and keeps lifetime and season tiers, a channel's
trial and an intent's fixed end. Concurrent presses of one Trial button give one
trial on every backend (two processes on Postgres)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest

from core.domain.channel import Channel
from core.domain.ids import UserId
from core.domain.outbox import IssueInvite
from core.domain.tier import LIFETIME_END, Tier, TierKind, season_end
from core.domain.trial import TrialOffer, TrialRefusal, TrialUnavailable
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from tests.contract.builders import (
    commit_with,
    fresh_user,
    given_channel,
    make_channel,
    make_intent,
    read,
    usd,
)
from tests.unit.services.world import OWNER, build

T1 = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
async def channel(uow_factory: UnitOfWorkFactory) -> Channel:
    return await given_channel(uow_factory)


async def test_a_trial_is_recorded_once_per_person_and_channel(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    person, other = fresh_user(), fresh_user()

    first = await commit_with(uow_factory, lambda uow: uow.trials.add(channel.id, person, T1))
    again = await commit_with(uow_factory, lambda uow: uow.trials.add(channel.id, person, T1))
    await commit_with(uow_factory, lambda uow: uow.trials.add(channel.id, other, T1))

    assert (first, again) == (True, False)
    assert await read(uow_factory, lambda uow: uow.trials.taken(channel.id, person))
    assert not await read(uow_factory, lambda uow: uow.trials.taken(channel.id, fresh_user()))
    assert await read(uow_factory, lambda uow: uow.trials.count(channel.id)) == 2


async def test_a_trial_rolled_back_is_not_recorded(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    person = fresh_user()
    async with uow_factory() as uow:
        assert await uow.trials.add(channel.id, person, T1)
        # left without commit

    assert not await read(uow_factory, lambda uow: uow.trials.taken(channel.id, person))


async def test_two_racing_records_of_one_trial_keep_one(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    person = fresh_user()

    async def take() -> bool:
        return await commit_with(uow_factory, lambda uow: uow.trials.add(channel.id, person, T1))

    results = await asyncio.gather(take(), take())

    assert sorted(results) == [False, True]
    assert await read(uow_factory, lambda uow: uow.trials.count(channel.id)) == 1


async def test_paid_before_is_any_fulfilled_payment_for_that_channel(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    payer, waiting = UserId(fresh_user()), UserId(fresh_user())
    elsewhere = make_channel()
    paid = make_intent(channel, user_id=payer)
    paid.fulfilled_at = T1
    unpaid = make_intent(channel, user_id=waiting)
    other = make_intent(elsewhere, user_id=waiting)
    other.fulfilled_at = T1

    async def add(uow: UnitOfWork) -> None:
        await uow.channels.add(elsewhere)
        for intent in (paid, unpaid, other):
            await uow.intents.add(intent)

    await commit_with(uow_factory, add)

    assert await read(uow_factory, lambda uow: uow.trials.paid_before(channel.id, payer))
    assert not await read(uow_factory, lambda uow: uow.trials.paid_before(channel.id, waiting))
    assert await read(uow_factory, lambda uow: uow.trials.paid_before(elsewhere.id, waiting))


async def test_lifetime_and_season_tiers_and_the_trial_read_back(
    uow_factory: UnitOfWorkFactory,
) -> None:
    channel = make_channel()
    channel.set_tiers(
        (
            Tier(1, usd("10.00"), 30),
            Tier.season(2, usd("20.00"), date(2027, 3, 31)),
            Tier.lifetime(3, usd("99.00")),
        )
    )
    channel.set_trial(TrialOffer(3, usd("1.50")))
    await commit_with(uow_factory, lambda uow: uow.channels.add(channel))

    stored = await read(uow_factory, lambda uow: uow.channels.get(channel.id))

    assert stored == channel
    assert [t.span for t in stored.tiers] == [TierKind.DAYS, TierKind.UNTIL, TierKind.LIFETIME]
    assert stored.tiers[1].ends_at == datetime(2027, 4, 1, tzinfo=UTC)
    assert stored.trial == TrialOffer(3, usd("1.50"))

    stored.set_trial(TrialOffer(7))
    await commit_with(uow_factory, lambda uow: uow.channels.update(stored))
    free = await read(uow_factory, lambda uow: uow.channels.get(channel.id))
    assert free.trial == TrialOffer(7)


async def test_an_intent_keeps_its_fixed_end(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    lifetime = make_intent(channel, tier=3)
    lifetime.duration_days, lifetime.ends_at = None, LIFETIME_END
    season = make_intent(channel, tier=2, user_id=UserId(fresh_user()))
    season.ends_at = season_end(date(2027, 3, 31))

    async def add(uow: UnitOfWork) -> None:
        await uow.intents.add(lifetime)
        await uow.intents.add(season)

    await commit_with(uow_factory, add)

    assert (await read(uow_factory, lambda uow: uow.intents.get(lifetime.id))) == lifetime
    assert (await read(uow_factory, lambda uow: uow.intents.get(season.id))).ends_at == (
        datetime(2027, 4, 1, tzinfo=UTC)
    )


async def test_concurrent_presses_of_a_free_trial_give_one_trial(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = build(uow=uow_factory)
    channel = await world.channel()
    await world.set_trial.execute(OWNER, channel.id, TrialOffer(7))
    person = UserId(fresh_user())

    async def press() -> str:
        try:
            await world.take_trial.execute(person, channel.id)
        except TrialUnavailable as refused:
            return str(refused.reason)
        return "started"

    results = await asyncio.gather(*(press() for _ in range(4)))

    assert sorted(results) == [*[str(TrialRefusal.ALREADY_TAKEN)] * 3, "started"]
    async with uow_factory() as uow:
        subscription = await uow.subscriptions.find(person, channel.id)
        assert subscription is not None
        grant = await uow.grants.latest_for(subscription.id)
    invites = [e for e in await world.effects() if isinstance(e, IssueInvite)]
    assert grant is not None and [e.grant_id for e in invites] == [grant.id]


async def test_an_erased_persons_trial_record_stays_under_their_pseudonym(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    person, pseudonym = fresh_user(), UserId(-42)
    await commit_with(uow_factory, lambda uow: uow.trials.add(channel.id, person, T1))

    changed = await commit_with(uow_factory, lambda uow: uow.people.pseudonymize(person, pseudonym))

    assert changed == 1
    assert not await read(uow_factory, lambda uow: uow.trials.taken(channel.id, person))
    assert await read(uow_factory, lambda uow: uow.trials.taken(channel.id, pseudonym))
    assert await read(uow_factory, lambda uow: uow.trials.count(channel.id)) == 1
