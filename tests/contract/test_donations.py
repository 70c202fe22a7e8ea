"""Donations, recorded through the payment ledger and listed by the
DonationRepository: a donation is recorded once per paid intent."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from core.domain.channel import Channel
from core.domain.money import Money
from core.domain.payment import PaymentIntent, Purpose
from core.ports.payment_ledger import PaymentChanges
from core.ports.repositories import UnitOfWorkFactory
from tests.contract.builders import (
    at,
    commit_with,
    given_channel,
    make_donation,
    make_intent,
    read,
    saved,
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

    assert await saved(uow_factory, PaymentChanges(donations=[donation])) is True

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

    assert await saved(uow_factory, PaymentChanges(donations=[first])) is True
    assert await saved(uow_factory, PaymentChanges(donations=[again])) is False

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

    assert await saved(uow_factory, PaymentChanges(donations=[*here, there])) is True

    listed = await read(uow_factory, lambda uow: uow.donations.for_channel(channel.id))
    assert sorted(d.id for d in listed) == sorted(d.id for d in here)


async def test_a_donation_rolled_back_was_never_recorded(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    donation = make_donation(await _donation_intent(uow_factory, channel))
    async with uow_factory() as uow:
        await uow.payments.save(PaymentChanges(donations=[donation]), at())

    assert list(await read(uow_factory, lambda uow: uow.donations.for_channel(channel.id))) == []
    assert await saved(uow_factory, PaymentChanges(donations=[donation])) is True
