"""IntentRepository contract: storage, the one-open-checkout rule, compare-and-set."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from core.domain.channel import Channel
from core.domain.ids import IntentId
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.domain.payment import PaymentIntent, Purpose
from core.ports.errors import Conflict, NotFound
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from tests.contract.builders import (
    OTHER_USER,
    PRECISE_CRYPTO,
    at,
    commit_with,
    given_channel,
    make_intent,
    read,
)

HOLD = 0.05
"""Seconds a racing unit of work keeps its lock before committing."""


async def _add(uow_factory: UnitOfWorkFactory, *intents: PaymentIntent) -> None:
    async def add_all(uow: UnitOfWork) -> None:
        for intent in intents:
            await uow.intents.add(intent)

    await commit_with(uow_factory, add_all)


async def _get(uow_factory: UnitOfWorkFactory, intent_id: IntentId) -> PaymentIntent:
    return await read(uow_factory, lambda uow: uow.intents.get(intent_id))


@pytest.fixture
async def channel(uow_factory: UnitOfWorkFactory) -> Channel:
    return await given_channel(uow_factory)


async def test_a_committed_intent_reads_back_with_every_field(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    intent = make_intent(channel)
    intent.mark_fulfilled(at(minutes=3))
    await _add(uow_factory, intent)

    stored = await _get(uow_factory, intent.id)

    assert stored == intent
    assert stored.actually_paid == PRECISE_CRYPTO
    assert stored.price == Money("10.50", "USD")
    assert stored.created_at.utcoffset() == timedelta(0)


async def test_a_donation_intent_has_no_tier(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    intent = make_intent(channel, purpose=Purpose.DONATION)
    await _add(uow_factory, intent)

    stored = await _get(uow_factory, intent.id)

    assert stored.purpose is Purpose.DONATION
    assert stored.tier is None


async def test_an_intent_is_found_by_its_providers_payment_id(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    intent = make_intent(channel)
    await _add(uow_factory, intent)

    found = await read(uow_factory, lambda uow: uow.intents.by_payment("fakepay", "5077125051"))
    other_provider = await read(
        uow_factory, lambda uow: uow.intents.by_payment("telegram_stars", "5077125051")
    )
    unknown = await read(uow_factory, lambda uow: uow.intents.by_payment("fakepay", "404"))

    assert found == intent
    assert (other_provider, unknown) == (None, None)


async def test_getting_an_unknown_intent_raises_not_found(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    ghost = make_intent(channel)
    with pytest.raises(NotFound):
        await read(uow_factory, lambda uow: uow.intents.get(ghost.id))


async def test_updating_an_unknown_intent_raises_not_found(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    ghost = make_intent(channel)
    with pytest.raises(NotFound):
        await read(uow_factory, lambda uow: uow.intents.update(ghost))


async def test_advancing_an_unknown_intent_raises_not_found(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    # Not False: False means "someone else moved it", a missing row is a bug upstream.
    ghost = make_intent(channel)
    with pytest.raises(NotFound):
        await read(uow_factory, lambda uow: uow.intents.advance(ghost, IntentStatus.WAITING))


async def test_a_committed_update_is_what_everyone_reads(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    intent = make_intent(channel, status=IntentStatus.CREATED)
    await _add(uow_factory, intent)
    intent.attach_invoice("inv-9", "https://pay.example.test/invoice/inv-9", at(seconds=5))
    intent.actually_paid = Money("0.000000000000000001", "ETH")

    await commit_with(uow_factory, lambda uow: uow.intents.update(intent))

    assert await _get(uow_factory, intent.id) == intent


async def test_a_second_open_checkout_of_one_tier_is_refused(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    first = make_intent(channel, status=IntentStatus.CREATED)
    await _add(uow_factory, first)
    second = make_intent(channel, status=IntentStatus.WAITING)

    with pytest.raises(Conflict):
        await _add(uow_factory, second)

    with pytest.raises(NotFound):
        await _get(uow_factory, second.id)


async def test_two_open_checkouts_of_one_tier_in_one_unit_of_work_are_refused(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    first, second = make_intent(channel), make_intent(channel)

    with pytest.raises(Conflict):
        await _add(uow_factory, first, second)

    with pytest.raises(NotFound):
        await _get(uow_factory, first.id)


async def test_open_checkouts_may_coexist_for_other_tiers_users_and_donations(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    intents = [
        make_intent(channel, tier=1),
        make_intent(channel, tier=2),
        make_intent(channel, tier=1, user_id=OTHER_USER),
        make_intent(channel, purpose=Purpose.DONATION),
        make_intent(channel, purpose=Purpose.DONATION),
    ]
    await _add(uow_factory, *intents)

    for intent in intents:
        assert (await _get(uow_factory, intent.id)).id == intent.id


async def test_a_checkout_that_moved_on_no_longer_blocks_a_new_one(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    first = make_intent(channel)
    await _add(uow_factory, first)
    first.move_to(IntentStatus.EXPIRED, at(hours=1))
    await commit_with(uow_factory, lambda uow: uow.intents.update(first))

    second = make_intent(channel, created_at=at(hours=2))
    await _add(uow_factory, second)

    assert (await _get(uow_factory, second.id)).status is IntentStatus.WAITING


async def test_find_open_returns_the_open_intent_of_that_user_channel_purpose_and_tier(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    wanted = make_intent(channel, tier=2)
    paid = make_intent(channel, tier=1, status=IntentStatus.FINISHED)
    others = [
        make_intent(channel, tier=3, user_id=OTHER_USER),
        make_intent(channel, purpose=Purpose.DONATION),
    ]
    await _add(uow_factory, wanted, paid, *others)
    user, cid = wanted.user_id, channel.id

    found = await read(
        uow_factory, lambda u: u.intents.find_open(user, cid, Purpose.SUBSCRIPTION, 2)
    )
    none_open = await read(
        uow_factory, lambda u: u.intents.find_open(user, cid, Purpose.SUBSCRIPTION, 1)
    )
    not_theirs = await read(
        uow_factory, lambda u: u.intents.find_open(OTHER_USER, cid, Purpose.SUBSCRIPTION, 2)
    )

    assert found == wanted
    assert none_open is None
    assert not_theirs is None


async def test_find_open_returns_the_newest_of_several_open_donations(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    older = make_intent(channel, purpose=Purpose.DONATION, created_at=at(minutes=1))
    newest = make_intent(channel, purpose=Purpose.DONATION, created_at=at(minutes=9))
    middle = make_intent(channel, purpose=Purpose.DONATION, created_at=at(minutes=5))
    await _add(uow_factory, older, newest, middle)

    found = await read(
        uow_factory,
        lambda uow: uow.intents.find_open(newest.user_id, channel.id, Purpose.DONATION, None),
    )

    assert found is not None
    assert found.id == newest.id


async def test_advance_stores_the_intent_when_the_status_is_still_the_previous_one(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    intent = make_intent(channel, status=IntentStatus.WAITING)
    await _add(uow_factory, intent)
    intent.move_to(IntentStatus.FINISHED, at(minutes=20))
    intent.mark_fulfilled(at(minutes=20))

    advanced = await commit_with(
        uow_factory, lambda uow: uow.intents.advance(intent, IntentStatus.WAITING)
    )

    assert advanced is True
    assert await _get(uow_factory, intent.id) == intent


async def test_advance_refuses_and_writes_nothing_when_the_status_moved_on(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    intent = make_intent(channel, status=IntentStatus.CONFIRMING)
    await _add(uow_factory, intent)
    stale = make_intent(channel, intent_id=intent.id, status=IntentStatus.WAITING)
    stale.move_to(IntentStatus.FAILED, at(minutes=20))

    advanced = await commit_with(
        uow_factory, lambda uow: uow.intents.advance(stale, IntentStatus.WAITING)
    )

    assert advanced is False
    assert await _get(uow_factory, intent.id) == intent


async def test_of_racing_units_of_work_advancing_one_intent_exactly_one_wins(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    intent = make_intent(channel, status=IntentStatus.WAITING)
    await _add(uow_factory, intent)
    targets = [IntentStatus.CONFIRMING, IntentStatus.CONFIRMED, IntentStatus.FINISHED]

    async def attempt(target: IntentStatus) -> bool:
        mine = make_intent(channel, intent_id=intent.id, status=IntentStatus.WAITING)
        mine.move_to(target, at(minutes=1))
        async with uow_factory() as uow:
            won = await uow.intents.advance(mine, IntentStatus.WAITING)
            await asyncio.sleep(HOLD)
            await uow.commit()
        return won

    results = await asyncio.gather(*(attempt(t) for t in targets))

    assert sorted(results) == [False, False, True]
    winner = targets[results.index(True)]
    assert (await _get(uow_factory, intent.id)).status is winner


async def test_a_racer_waiting_on_a_winner_that_rolls_back_advances_instead(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    intent = make_intent(channel, status=IntentStatus.WAITING)
    await _add(uow_factory, intent)
    first_advanced = asyncio.Event()

    async def first() -> bool:
        mine = make_intent(channel, intent_id=intent.id)
        mine.move_to(IntentStatus.FAILED, at(minutes=1))
        async with uow_factory() as uow:
            won = await uow.intents.advance(mine, IntentStatus.WAITING)
            first_advanced.set()
            await asyncio.sleep(HOLD)
            await uow.rollback()
        return won

    async def second() -> bool:
        mine = make_intent(channel, intent_id=intent.id)
        mine.move_to(IntentStatus.FINISHED, at(minutes=2))
        await first_advanced.wait()
        async with uow_factory() as uow:
            won = await uow.intents.advance(mine, IntentStatus.WAITING)
            await uow.commit()
        return won

    assert list(await asyncio.gather(first(), second())) == [True, True]
    assert (await _get(uow_factory, intent.id)).status is IntentStatus.FINISHED


async def test_unfinished_before_lists_unsettled_intents_created_before_the_cutoff_oldest_first(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    unsettled = [
        make_intent(channel, purpose=Purpose.DONATION, status=status, created_at=at(minutes=m))
        for m, status in [
            (4, IntentStatus.CREATED),
            (1, IntentStatus.PARTIALLY_PAID),
            (3, IntentStatus.CONFIRMING),
            (2, IntentStatus.CONFIRMED),
            (5, IntentStatus.SENDING),
            (6, IntentStatus.WAITING),
        ]
    ]
    settled = [
        make_intent(channel, purpose=Purpose.DONATION, status=status, created_at=at(minutes=0))
        for status in [
            IntentStatus.FINISHED,
            IntentStatus.FAILED,
            IntentStatus.EXPIRED,
            IntentStatus.REFUNDED,
        ]
    ]
    at_cutoff = make_intent(channel, purpose=Purpose.DONATION, created_at=at(minutes=10))
    await _add(uow_factory, *unsettled, *settled, at_cutoff)

    everything = await read(uow_factory, lambda u: u.intents.unfinished_before(at(minutes=10), 50))
    first_three = await read(uow_factory, lambda u: u.intents.unfinished_before(at(minutes=10), 3))

    by_age = sorted(unsettled, key=lambda i: i.created_at)
    assert [i.id for i in everything] == [i.id for i in by_age]
    assert [i.id for i in first_three] == [i.id for i in by_age[:3]]


async def test_unfinished_intents_come_in_keyset_pages_even_when_created_at_the_same_time(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    same_moment = [
        make_intent(channel, purpose=Purpose.DONATION, created_at=at(minutes=1)) for _ in range(5)
    ]
    later = make_intent(channel, purpose=Purpose.DONATION, created_at=at(minutes=2))
    await _add(uow_factory, *same_moment, later)

    pages: list[list[IntentId]] = []
    after: tuple[datetime, IntentId] | None = None
    while True:
        async with uow_factory() as uow:
            page = await uow.intents.unfinished_before(at(minutes=10), 2, after)
        if not page:
            break
        pages.append([i.id for i in page])
        after = (page[-1].created_at, page[-1].id)

    expected = [*sorted(i.id for i in same_moment), later.id]
    assert [len(p) for p in pages] == [2, 2, 2]
    assert [i for page in pages for i in page] == expected


async def test_changing_a_returned_intent_changes_nothing_until_updated(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    intent = make_intent(channel)
    await _add(uow_factory, intent)

    async with uow_factory() as uow:
        loaded = await uow.intents.get(intent.id)
        loaded.move_to(IntentStatus.FINISHED, at(hours=1))
        again = await uow.intents.get(intent.id)
        await uow.commit()

    assert again.status is IntentStatus.WAITING
    assert (await _get(uow_factory, intent.id)).status is IntentStatus.WAITING
