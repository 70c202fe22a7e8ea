"""DonationRepository contract: a donation is recorded once per paid intent."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from core.domain.channel import Channel
from core.domain.money import Money
from core.domain.payment import PaymentIntent, Purpose
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from tests.contract.builders import (
    at,
    commit_with,
    given_channel,
    make_donation,
    make_intent,
    read,
)


async def _donation_intent(uow_factory: UnitOfWorkFactory, channel: Channel) -> PaymentIntent:
    intent = make_intent(channel, purpose=Purpose.DONATION)
    await commit_with(uow_factory, lambda uow: uow.intents.add(intent))
    return intent


@pytest.fixture
async def channel(uow_factory: UnitOfWorkFactory) -> Channel:
    return await given_channel(uow_factory)


async def test_a_donation_reads_back_with_its_exact_amount(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    intent = await _donation_intent(uow_factory, channel)
    donation = make_donation(intent, amount=Money(Decimal("10.50"), "EUR"))

    assert await commit_with(uow_factory, lambda uow: uow.donations.add(donation)) is True

    stored = list(await read(uow_factory, lambda uow: uow.donations.for_channel(channel.id)))
    assert stored == [donation]
    assert stored[0].amount.amount == Decimal("10.50")
    assert stored[0].amount.currency == "EUR"
    assert stored[0].received_at.utcoffset() == timedelta(0)


async def test_an_intent_is_thanked_for_once(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    intent = await _donation_intent(uow_factory, channel)
    first = make_donation(intent)
    again = make_donation(intent, received_at=at(minutes=1))

    assert await commit_with(uow_factory, lambda uow: uow.donations.add(first)) is True
    assert await commit_with(uow_factory, lambda uow: uow.donations.add(again)) is False

    stored = await read(uow_factory, lambda uow: uow.donations.for_channel(channel.id))
    assert [d.id for d in stored] == [first.id]


async def test_donations_are_listed_per_channel(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    elsewhere = await given_channel(uow_factory)
    here = [
        make_donation(await _donation_intent(uow_factory, channel), received_at=at(minutes=m))
        for m in (1, 2)
    ]
    there = make_donation(await _donation_intent(uow_factory, elsewhere))

    async def add_all(uow: UnitOfWork) -> None:
        for donation in [*here, there]:
            assert await uow.donations.add(donation) is True

    await commit_with(uow_factory, add_all)

    listed = await read(uow_factory, lambda uow: uow.donations.for_channel(channel.id))
    assert sorted(d.id for d in listed) == sorted(d.id for d in here)


async def test_a_donation_rolled_back_was_never_recorded(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    donation = make_donation(await _donation_intent(uow_factory, channel))
    async with uow_factory() as uow:
        assert await uow.donations.add(donation) is True

    assert list(await read(uow_factory, lambda uow: uow.donations.for_channel(channel.id))) == []
    assert await commit_with(uow_factory, lambda uow: uow.donations.add(donation)) is True
