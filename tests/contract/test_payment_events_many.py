"""PaymentEventRepository.add_many contract: a batch of notifications is recorded in one
go, and a replay, in the batch or from before, is recognised by the store."""

from __future__ import annotations

import asyncio

import pytest

from core.domain.intent_state import IntentStatus
from core.domain.payment import EventOutcome, PaymentEvent, PaymentIntent
from core.ports.errors import Conflict
from core.ports.repositories import UnitOfWorkFactory
from tests.contract.builders import at, commit_with, given_channel, given_intents, make_event, read


@pytest.fixture
async def intent(uow_factory: UnitOfWorkFactory) -> PaymentIntent:
    channel = await given_channel(uow_factory)
    (intent,) = await given_intents(uow_factory, channel, 1)
    return intent


async def _record(uow_factory: UnitOfWorkFactory, events: list[PaymentEvent]) -> list[bool]:
    return list(await commit_with(uow_factory, lambda uow: uow.events.add_many(events)))


async def _record_expecting(
    uow_factory: UnitOfWorkFactory, intent: PaymentIntent, events: list[PaymentEvent]
) -> list[bool]:
    """Record ``events`` as a batch of notifications does: expected, then the intent
    read, then added, and committed."""
    async with uow_factory() as uow:
        uow.events.expect([e.key for e in events])
        await uow.intents.get_many([intent.id])
        answers = list(await uow.events.add_many(events))
        await uow.commit()
    return answers


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


@pytest.mark.parametrize("expecting", [False, True], ids=["plain", "expected"])
async def test_of_copies_of_one_notification_in_a_batch_only_the_first_is_recorded(
    uow_factory: UnitOfWorkFactory, intent: PaymentIntent, expecting: bool
) -> None:
    first = make_event(intent, outcome=EventOutcome.APPLIED)
    copy = make_event(intent, received_at=at(seconds=1), outcome=EventOutcome.DUPLICATE)
    other = make_event(intent, status=IntentStatus.FINISHED, received_at=at(seconds=2))

    batch = [first, copy, other]
    answers = await (
        _record_expecting(uow_factory, intent, batch) if expecting else _record(uow_factory, batch)
    )

    assert answers == [True, False, True]

    assert await _events_of(uow_factory, intent) == [first, other]


@pytest.mark.parametrize("expecting", [False, True], ids=["plain", "expected"])
async def test_add_many_refuses_events_recorded_before_and_keeps_the_first_records(
    uow_factory: UnitOfWorkFactory, intent: PaymentIntent, expecting: bool
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

    batch = [replay, new]
    answers = await (
        _record_expecting(uow_factory, intent, batch) if expecting else _record(uow_factory, batch)
    )

    assert answers == [False, True]

    assert await _events_of(uow_factory, intent) == [earlier, new]


@pytest.mark.parametrize("expecting", [False, True], ids=["plain", "expected"])
async def test_events_added_in_a_unit_of_work_rolled_back_were_never_recorded(
    uow_factory: UnitOfWorkFactory, intent: PaymentIntent, expecting: bool
) -> None:
    events = [
        make_event(intent, status=IntentStatus.CONFIRMING, received_at=at(minutes=1)),
        make_event(intent, status=IntentStatus.FINISHED, received_at=at(minutes=2)),
    ]
    async with uow_factory() as uow:
        if expecting:
            uow.events.expect([e.key for e in events])
            await uow.intents.get_many([intent.id])
        assert list(await uow.events.add_many(events)) == [True, True]

    assert await _events_of(uow_factory, intent) == []
    assert await _record(uow_factory, events) == [True, True]
    assert _statuses(await _events_of(uow_factory, intent)) == _statuses(events)


TURN = 0.5
"""Seconds a racer gets to record and commit while our unit of work is open: a store
whose units of work take turns (SQLite) makes it wait for ours to end instead."""


async def test_expected_events_added_are_seen_by_the_unit_of_work_before_it_commits(
    uow_factory: UnitOfWorkFactory, intent: PaymentIntent
) -> None:
    events = [
        make_event(intent, status=IntentStatus.CONFIRMING, received_at=at(minutes=1)),
        make_event(intent, status=IntentStatus.FINISHED, received_at=at(minutes=2)),
    ]

    async with uow_factory() as uow:
        uow.events.expect([e.key for e in events])
        await uow.intents.get_many([intent.id])
        await uow.events.add_many(events)
        seen = list(await uow.events.for_intent(intent.id))
        await uow.commit()

    assert seen == events
    assert await _events_of(uow_factory, intent) == events


async def test_an_expected_event_a_racer_records_after_our_read_is_stored_once_as_the_racers(
    uow_factory: UnitOfWorkFactory, intent: PaymentIntent
) -> None:
    ours = make_event(intent, status=IntentStatus.CONFIRMING, received_at=at(minutes=1))
    other = make_event(intent, status=IntentStatus.FINISHED, received_at=at(minutes=2))
    theirs = make_event(
        intent,
        status=IntentStatus.CONFIRMING,
        received_at=at(minutes=3),
        outcome=EventOutcome.STALE,
    )
    answers: list[bool] = []
    refused = False

    try:
        async with uow_factory() as uow:
            uow.events.expect([ours.key, other.key])
            await uow.intents.get_many([intent.id])
            racer = asyncio.create_task(_record(uow_factory, [theirs]))
            done, _ = await asyncio.wait({racer}, timeout=TURN)
            racer_first = racer in done
            answers = list(await uow.events.add_many([ours, other]))
            await uow.commit()
    except Conflict:
        refused = True
    racer_answers = await racer

    stored = await _events_of(uow_factory, intent)
    if not racer_first:
        # Units of work take turns: the racer came after ours and found our record.
        assert (refused, answers, racer_answers) == (False, [True, True], [False])
        assert stored == [ours, other]
    elif refused:
        # Ours found the event new when it read: its commit was refused, whole.
        assert racer_answers == [True]
        assert stored == [theirs]
    else:
        assert racer_answers == [True]
        assert answers == [False, True]
        assert stored == [other, theirs]
