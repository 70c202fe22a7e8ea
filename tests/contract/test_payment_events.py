"""Payment events, recorded through the payment ledger and read back by the
PaymentEventRepository: a replayed notification is recognised by the store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.domain.channel import Channel
from core.domain.intent_state import IntentStatus
from core.domain.payment import EventOutcome, PaymentEvent, PaymentIntent
from core.ports.errors import Conflict
from core.ports.payment_ledger import PaymentChanges
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from tests.contract.builders import (
    PRECISE_CRYPTO,
    at,
    commit_with,
    given_channel,
    make_event,
    make_intent,
    read,
    saved,
    saves_racing,
)


@pytest.fixture
async def intent(uow_factory: UnitOfWorkFactory) -> PaymentIntent:
    channel: Channel = await given_channel(uow_factory)
    intent = make_intent(channel)
    await commit_with(uow_factory, lambda uow: uow.intents.add(intent))
    return intent


async def _record(uow_factory: UnitOfWorkFactory, event: PaymentEvent) -> bool:
    return await saved(uow_factory, PaymentChanges(events=[event]))


async def _events_of(uow_factory: UnitOfWorkFactory, intent: PaymentIntent) -> list[PaymentEvent]:
    return list(await read(uow_factory, lambda uow: uow.events.for_intent(intent.id)))


async def test_a_recorded_event_reads_back_with_every_field(
    uow_factory: UnitOfWorkFactory, intent: PaymentIntent
) -> None:
    event = make_event(intent)

    assert await _record(uow_factory, event) is True

    stored = await _events_of(uow_factory, intent)
    assert stored == [event]
    assert stored[0].actually_paid == PRECISE_CRYPTO
    assert stored[0].received_at.utcoffset() == timedelta(0)


async def test_a_replayed_notification_is_refused_and_the_first_record_kept(
    uow_factory: UnitOfWorkFactory, intent: PaymentIntent
) -> None:
    first = make_event(intent, outcome=EventOutcome.APPLIED)
    replay = make_event(intent, received_at=at(minutes=5), outcome=EventOutcome.DUPLICATE)
    await _record(uow_factory, first)

    assert await _record(uow_factory, replay) is False

    assert await _events_of(uow_factory, intent) == [first]


async def test_a_replay_within_one_unit_of_work_is_refused(
    uow_factory: UnitOfWorkFactory, intent: PaymentIntent
) -> None:
    async def twice(uow: UnitOfWork) -> None:
        await uow.payments.save(PaymentChanges(events=[make_event(intent)]), at())
        replay = make_event(intent, received_at=at(seconds=1))
        await uow.payments.save(PaymentChanges(events=[replay]), at())

    # Refused at once or by the commit: the unit of work then keeps nothing.
    with pytest.raises(Conflict):
        await commit_with(uow_factory, twice)
    assert await _events_of(uow_factory, intent) == []


async def test_each_status_of_a_payment_is_recorded_once(
    uow_factory: UnitOfWorkFactory, intent: PaymentIntent
) -> None:
    statuses = [IntentStatus.WAITING, IntentStatus.CONFIRMING, IntentStatus.FINISHED]
    events = [
        make_event(intent, status=s, received_at=at(minutes=n)) for n, s in enumerate(statuses)
    ]

    recorded = [await _record(uow_factory, e) for e in events]

    assert recorded == [True, True, True]
    stored = await _events_of(uow_factory, intent)
    assert sorted((e.status, e.received_at) for e in stored) == sorted(
        (e.status, e.received_at) for e in events
    )


async def test_another_payment_of_the_same_order_is_recorded(
    uow_factory: UnitOfWorkFactory, intent: PaymentIntent
) -> None:
    parent = make_event(intent, payment_id="1000", status=IntentStatus.FINISHED)
    child = make_event(
        intent,
        payment_id="1001",
        status=IntentStatus.FINISHED,
        outcome=EventOutcome.CHILD_PAYMENT,
    )

    assert [await _record(uow_factory, e) for e in (parent, child)] == [True, True]
    assert sorted(e.payment_id for e in await _events_of(uow_factory, intent)) == ["1000", "1001"]


async def test_an_event_for_no_order_of_ours_is_kept_and_still_deduplicated(
    uow_factory: UnitOfWorkFactory, intent: PaymentIntent
) -> None:
    orphan = make_event(None, payment_id="666", outcome=EventOutcome.UNKNOWN_ORDER)

    assert await _record(uow_factory, orphan) is True
    assert await _record(uow_factory, orphan) is False
    assert await _events_of(uow_factory, intent) == []


async def test_an_event_rolled_back_was_never_recorded(
    uow_factory: UnitOfWorkFactory, intent: PaymentIntent
) -> None:
    event = make_event(intent)
    async with uow_factory() as uow:
        await uow.payments.save(PaymentChanges(events=[event]), at())

    assert await _events_of(uow_factory, intent) == []
    assert await _record(uow_factory, event) is True


async def test_of_two_racing_deliveries_of_one_notification_exactly_one_is_recorded(
    uow_factory: UnitOfWorkFactory, intent: PaymentIntent
) -> None:
    async def first(_: UnitOfWork) -> PaymentChanges:
        return PaymentChanges(events=[make_event(intent, outcome=EventOutcome.APPLIED)])

    def replay() -> PaymentChanges:
        return PaymentChanges(events=[make_event(intent, outcome=EventOutcome.STALE)])

    won = await saves_racing(uow_factory, first, replay)

    assert sorted(won) == [False, True]
    winner = EventOutcome.APPLIED if won[0] else EventOutcome.STALE
    assert [e.outcome for e in await _events_of(uow_factory, intent)] == [winner]
