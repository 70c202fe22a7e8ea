"""PaymentEventRepository.add_many contract: a batch of notifications is recorded in one
go, and a replay, in the batch or from before, is recognised by the store."""

from __future__ import annotations

import pytest

from core.domain.intent_state import IntentStatus
from core.domain.payment import EventOutcome, PaymentEvent, PaymentIntent
from core.ports.repositories import UnitOfWorkFactory
from tests.contract.builders import at, commit_with, given_channel, given_intents, make_event, read


@pytest.fixture
async def intent(uow_factory: UnitOfWorkFactory) -> PaymentIntent:
    channel = await given_channel(uow_factory)
    (intent,) = await given_intents(uow_factory, channel, 1)
    return intent


async def _record(uow_factory: UnitOfWorkFactory, events: list[PaymentEvent]) -> list[bool]:
    return list(await commit_with(uow_factory, lambda uow: uow.events.add_many(events)))


async def _events_of(uow_factory: UnitOfWorkFactory, intent: PaymentIntent) -> list[PaymentEvent]:
    return list(await read(uow_factory, lambda uow: uow.events.for_intent(intent.id)))


def _statuses(events: list[PaymentEvent]) -> list[IntentStatus]:
    return [e.status for e in events]


async def test_recording_no_events_records_nothing(
    uow_factory: UnitOfWorkFactory, intent: PaymentIntent
) -> None:
    assert await _record(uow_factory, []) == []

    assert await _events_of(uow_factory, intent) == []


async def test_add_many_records_every_new_event_and_answers_in_input_order(
    uow_factory: UnitOfWorkFactory, intent: PaymentIntent
) -> None:
    events = [
        make_event(intent, status=IntentStatus.FINISHED, received_at=at(minutes=3)),
        make_event(intent, status=IntentStatus.WAITING, received_at=at(minutes=1)),
        make_event(intent, status=IntentStatus.CONFIRMING, received_at=at(minutes=2)),
    ]

    assert await _record(uow_factory, events) == [True, True, True]

    stored = await _events_of(uow_factory, intent)
    assert stored == sorted(events, key=lambda e: e.received_at)


async def test_of_copies_of_one_notification_in_a_batch_only_the_first_is_recorded(
    uow_factory: UnitOfWorkFactory, intent: PaymentIntent
) -> None:
    first = make_event(intent, outcome=EventOutcome.APPLIED)
    copy = make_event(intent, received_at=at(seconds=1), outcome=EventOutcome.DUPLICATE)
    other = make_event(intent, status=IntentStatus.FINISHED, received_at=at(seconds=2))

    assert await _record(uow_factory, [first, copy, other]) == [True, False, True]

    assert await _events_of(uow_factory, intent) == [first, other]


async def test_add_many_refuses_events_recorded_before_and_keeps_the_first_records(
    uow_factory: UnitOfWorkFactory, intent: PaymentIntent
) -> None:
    earlier = make_event(intent, status=IntentStatus.CONFIRMING, outcome=EventOutcome.APPLIED)
    await _record(uow_factory, [earlier])
    replay = make_event(
        intent,
        status=IntentStatus.CONFIRMING,
        received_at=at(minutes=5),
        outcome=EventOutcome.STALE,
    )
    new = make_event(intent, status=IntentStatus.FINISHED, received_at=at(minutes=6))

    assert await _record(uow_factory, [replay, new]) == [False, True]

    assert await _events_of(uow_factory, intent) == [earlier, new]


async def test_events_added_in_a_unit_of_work_rolled_back_were_never_recorded(
    uow_factory: UnitOfWorkFactory, intent: PaymentIntent
) -> None:
    events = [
        make_event(intent, status=IntentStatus.CONFIRMING, received_at=at(minutes=1)),
        make_event(intent, status=IntentStatus.FINISHED, received_at=at(minutes=2)),
    ]
    async with uow_factory() as uow:
        assert list(await uow.events.add_many(events)) == [True, True]

    assert await _events_of(uow_factory, intent) == []
    assert await _record(uow_factory, events) == [True, True]
    assert _statuses(await _events_of(uow_factory, intent)) == _statuses(events)
