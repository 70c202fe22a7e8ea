"""DonationRepository.add_many contract: the donations of a batch in one go, still one
per paid intent."""

from __future__ import annotations

import pytest

from core.domain.channel import Channel
from core.domain.donation import Donation
from core.domain.ids import DonationId
from core.ports.repositories import UnitOfWorkFactory
from tests.contract.builders import (
    at,
    commit_with,
    given_channel,
    given_intents,
    make_donation,
    read,
)


@pytest.fixture
async def channel(uow_factory: UnitOfWorkFactory) -> Channel:
    return await given_channel(uow_factory)


async def _add(uow_factory: UnitOfWorkFactory, donations: list[Donation]) -> list[bool]:
    return list(await commit_with(uow_factory, lambda uow: uow.donations.add_many(donations)))


async def _stored_ids(uow_factory: UnitOfWorkFactory, channel: Channel) -> list[DonationId]:
    stored = await read(uow_factory, lambda uow: uow.donations.for_channel(channel.id))
    return [d.id for d in stored]


async def test_adding_no_donations_adds_nothing(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    assert await _add(uow_factory, []) == []

    assert await _stored_ids(uow_factory, channel) == []


async def test_add_many_stores_every_new_donation_and_answers_in_input_order(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    intents = await given_intents(uow_factory, channel, 3)
    donations = [
        make_donation(intents[2], received_at=at(minutes=3)),
        make_donation(intents[0], received_at=at(minutes=1)),
        make_donation(intents[1], received_at=at(minutes=2)),
    ]

    assert await _add(uow_factory, donations) == [True, True, True]

    stored = await read(uow_factory, lambda uow: uow.donations.for_channel(channel.id))
    assert list(stored) == sorted(donations, key=lambda d: d.received_at)


async def test_of_donations_for_one_intent_in_a_batch_only_the_first_is_stored(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    intent, other = await given_intents(uow_factory, channel, 2)
    kept = make_donation(intent, received_at=at(minutes=1))
    again = make_donation(intent, received_at=at(minutes=2))
    other_donation = make_donation(other, received_at=at(minutes=3))

    assert await _add(uow_factory, [kept, again, other_donation]) == [True, False, True]

    assert await _stored_ids(uow_factory, channel) == [kept.id, other_donation.id]


async def test_add_many_refuses_an_intent_thanked_for_before_and_keeps_the_earlier_donation(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    intent, other = await given_intents(uow_factory, channel, 2)
    earlier = make_donation(intent, received_at=at(minutes=1))
    await _add(uow_factory, [earlier])
    again = make_donation(intent, received_at=at(minutes=2))
    new = make_donation(other, received_at=at(minutes=3))

    assert await _add(uow_factory, [again, new]) == [False, True]

    assert await _stored_ids(uow_factory, channel) == [earlier.id, new.id]


async def test_donations_added_in_a_unit_of_work_rolled_back_were_never_stored(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    intents = await given_intents(uow_factory, channel, 2)
    donations = [make_donation(i, received_at=at(minutes=n)) for n, i in enumerate(intents)]
    async with uow_factory() as uow:
        assert list(await uow.donations.add_many(donations)) == [True, True]

    assert await _stored_ids(uow_factory, channel) == []
    assert await _add(uow_factory, donations) == [True, True]
    assert await _stored_ids(uow_factory, channel) == [d.id for d in donations]
