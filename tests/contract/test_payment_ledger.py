"""PaymentLedger contract: a batch of payments loads what it needs in one call and
saves what it changes in one call, each change with what it expects of the store;
a failed expectation is Conflict (at once or from the commit) and nothing of the
unit of work stays. Run on every backend (memory, SQLite, Postgres)."""

from __future__ import annotations

import copy
from datetime import timedelta, timezone

import attrs
import pytest

from core.domain.audit import AuditRecord, verify_chain
from core.domain.channel import Channel
from core.domain.ids import IntentId
from core.domain.intent_state import IntentStatus
from core.domain.payment import EventKey, EventOutcome, PaymentIntent, Purpose
from core.ports.errors import Conflict
from core.ports.payment_ledger import PaymentBook, PaymentChanges
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from tests.contract.builders import (
    at,
    commit_with,
    fresh,
    fresh_user,
    given_channel,
    given_intents,
    given_subscriptions,
    make_channel,
    make_donation,
    make_event,
    make_grant,
    make_intent,
    make_message,
    make_subscription,
    read,
    saved,
    saves_racing,
    saving,
)

KOLKATA = timezone(timedelta(hours=5, minutes=30))


@pytest.fixture
async def channel(uow_factory: UnitOfWorkFactory) -> Channel:
    return await given_channel(uow_factory)


def _moved(intent: PaymentIntent, status: IntentStatus = IntentStatus.CONFIRMING) -> PaymentIntent:
    moved = copy.deepcopy(intent)
    moved.move_to(status, at(minutes=1))
    return moved


async def _load(
    uow_factory: UnitOfWorkFactory, keys: list[EventKey], ids: list[IntentId]
) -> PaymentBook:
    return await read(uow_factory, lambda uow: uow.payments.load(keys, ids))


async def test_loading_nothing_finds_nothing(uow_factory: UnitOfWorkFactory) -> None:
    book = await _load(uow_factory, [], [])

    assert book == PaymentBook(frozenset(), {}, {}, {})


async def test_load_finds_the_intents_their_channels_and_their_payers_subscriptions(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    elsewhere = await given_channel(uow_factory)
    (subscribed,) = await given_subscriptions(uow_factory, channel, 1)
    # The payer's subscription to another channel is not this intent's.
    (other,) = await given_subscriptions(uow_factory, elsewhere, 1)
    intents = [
        make_intent(channel, user_id=subscribed.user_id),
        make_intent(channel, user_id=other.user_id),
    ]

    async def add(uow: UnitOfWork) -> None:
        for intent in intents:
            await uow.intents.add(intent)

    await commit_with(uow_factory, add)

    book = await _load(uow_factory, [], [*(i.id for i in intents), IntentId("in000ghost")])

    assert book.intents == {i.id: i for i in intents}
    assert book.channels == {channel.id: channel}
    assert book.subscriptions == {(subscribed.user_id, channel.id): subscribed}
    assert book.recorded == frozenset()


@pytest.mark.parametrize("with_intents", [True, False], ids=["with-intents", "unknown-orders"])
async def test_load_says_which_event_keys_are_recorded(
    uow_factory: UnitOfWorkFactory, channel: Channel, with_intents: bool
) -> None:
    (intent,) = await given_intents(uow_factory, channel, 1)
    old = make_event(intent, payment_id=fresh("pay"))
    await commit_with(uow_factory, saving(PaymentChanges(events=[old])))
    new = make_event(intent, payment_id=fresh("pay"))
    later = make_event(intent, payment_id=old.payment_id, status=IntentStatus.FINISHED)

    book = await _load(
        uow_factory, [new.key, old.key, later.key, old.key], [intent.id] if with_intents else []
    )

    assert book.recorded == {old.key}
    assert book.intents == ({intent.id: intent} if with_intents else {})


async def test_what_a_caller_changes_in_a_book_is_not_what_the_next_load_reads(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    (subscribed,) = await given_subscriptions(uow_factory, channel, 1)
    intent = make_intent(channel, user_id=subscribed.user_id)
    await commit_with(uow_factory, lambda uow: uow.intents.add(intent))
    async with uow_factory() as uow:
        book = await uow.payments.load([], [intent.id])
        book.intents[intent.id].status = IntentStatus.FAILED
        book.subscriptions[(subscribed.user_id, channel.id)].tier = 3
        again = await uow.payments.load([], [intent.id])

    assert again.intents[intent.id] == intent
    assert again.subscriptions[(subscribed.user_id, channel.id)] == subscribed


async def test_a_saved_batch_is_stored_whole_once_committed(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    subscription_intent, donation_intent = await given_intents(uow_factory, channel, 2)
    (renewed,) = await given_subscriptions(uow_factory, channel, 1)
    new = make_subscription(channel, user_id=subscription_intent.user_id)
    renewed.extend(timedelta(days=30), 1, at())
    grant = make_grant(new)
    donation = make_donation(donation_intent)
    event = make_event(subscription_intent, payment_id=fresh("pay"))
    moved = _moved(subscription_intent)
    key = fresh("key")
    changes = PaymentChanges(
        events=[event],
        moves=[(moved, IntentStatus.WAITING)],
        new_subscriptions=[new],
        changed_subscriptions=[renewed],
        grants=[grant],
        donations=[donation],
        audit=[AuditRecord("test", "paid", f"intent:{moved.id}")],
        messages=[(key, make_message())],
    )

    await commit_with(uow_factory, saving(changes))

    async with uow_factory() as uow:
        assert list(await uow.events.for_intent(subscription_intent.id)) == [event]
        assert await uow.intents.get(moved.id) == moved
        assert await uow.subscriptions.get(new.id) == new
        stored = await uow.subscriptions.get(renewed.id)
        assert stored == attrs.evolve(renewed, version=renewed.version + 1)
        assert await uow.grants.latest_for(new.id) == grant
        assert list(await uow.donations.for_channel(channel.id)) == [donation]
        queued = await uow.outbox.get(key)
        assert queued is not None and queued.effect == make_message()
        assert queued.created_at == at()
        events = await uow.audit.all()
    assert (events[-1].subject, events[-1].at) == (f"intent:{moved.id}", at())
    assert verify_chain(events)


async def test_a_save_rolled_back_leaves_nothing(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    (intent,) = await given_intents(uow_factory, channel, 1)
    event = make_event(intent, payment_id=fresh("pay"))
    key = fresh("key")
    async with uow_factory() as uow:
        changes = PaymentChanges(
            events=[event],
            moves=[(_moved(intent), IntentStatus.WAITING)],
            messages=[(key, make_message())],
        )
        await uow.payments.save(changes, at())

    async with uow_factory() as uow:
        assert list(await uow.events.for_intent(intent.id)) == []
        assert (await uow.intents.get(intent.id)).status is IntentStatus.WAITING
        assert await uow.outbox.get(key) is None
    assert await saved(uow_factory, changes)


async def test_an_outbox_key_queued_before_is_skipped_and_the_earlier_message_kept(
    uow_factory: UnitOfWorkFactory,
) -> None:
    key, other = fresh("key"), fresh("key")
    await commit_with(uow_factory, saving(PaymentChanges(messages=[(key, make_message("a"))])))

    changes = PaymentChanges(messages=[(key, make_message("b")), (other, make_message("c"))])
    assert await saved(uow_factory, changes)

    async with uow_factory() as uow:
        first, second = await uow.outbox.get(key), await uow.outbox.get(other)
    assert first is not None and first.effect == make_message("a")
    assert second is not None and second.effect == make_message("c")


async def _event_recorded(uow_factory: UnitOfWorkFactory, channel: Channel) -> PaymentChanges:
    event = make_event(None, payment_id=fresh("pay"), outcome=EventOutcome.UNKNOWN_ORDER)
    await commit_with(uow_factory, saving(PaymentChanges(events=[event])))
    return PaymentChanges(events=[attrs.evolve(event, received_at=at(minutes=1))])


async def _intent_moved_on(uow_factory: UnitOfWorkFactory, channel: Channel) -> PaymentIntent:
    (intent,) = await given_intents(uow_factory, channel, 1)
    moved = _moved(intent)
    await commit_with(uow_factory, saving(PaymentChanges(moves=[(moved, IntentStatus.WAITING)])))
    return intent


async def _stale_move(uow_factory: UnitOfWorkFactory, channel: Channel) -> PaymentChanges:
    intent = await _intent_moved_on(uow_factory, channel)
    return PaymentChanges(moves=[(_moved(intent, IntentStatus.FINISHED), IntentStatus.WAITING)])


async def _gone_intent(uow_factory: UnitOfWorkFactory, channel: Channel) -> PaymentChanges:
    return PaymentChanges(moves=[(_moved(make_intent(channel)), IntentStatus.WAITING)])


async def _subscribed_before(uow_factory: UnitOfWorkFactory, channel: Channel) -> PaymentChanges:
    (before,) = await given_subscriptions(uow_factory, channel, 1)
    return PaymentChanges(new_subscriptions=[make_subscription(channel, user_id=before.user_id)])


async def _stale_subscription(uow_factory: UnitOfWorkFactory, channel: Channel) -> PaymentChanges:
    (read_then,) = await given_subscriptions(uow_factory, channel, 1)
    meanwhile = copy.deepcopy(read_then)
    meanwhile.mark_reminded(24)
    await commit_with(uow_factory, lambda uow: uow.subscriptions.update(meanwhile))
    read_then.extend(timedelta(days=30), 1, at())
    return PaymentChanges(changed_subscriptions=[read_then])


async def _gone_subscription(uow_factory: UnitOfWorkFactory, channel: Channel) -> PaymentChanges:
    return PaymentChanges(changed_subscriptions=[make_subscription(channel, user_id=fresh_user())])


async def _granted_before(uow_factory: UnitOfWorkFactory, channel: Channel) -> PaymentChanges:
    (subscription,) = await given_subscriptions(uow_factory, channel, 1)
    await commit_with(uow_factory, saving(PaymentChanges(grants=[make_grant(subscription)])))
    return PaymentChanges(grants=[make_grant(subscription)])


async def _donated_before(uow_factory: UnitOfWorkFactory, channel: Channel) -> PaymentChanges:
    intent = make_intent(channel, purpose=Purpose.DONATION)
    await commit_with(uow_factory, lambda uow: uow.intents.add(intent))
    await commit_with(uow_factory, saving(PaymentChanges(donations=[make_donation(intent)])))
    return PaymentChanges(donations=[make_donation(intent, received_at=at(minutes=1))])


BREACHES = {
    "event-recorded-meanwhile": _event_recorded,
    "intent-moved-on": _stale_move,
    "intent-gone": _gone_intent,
    "subscription-exists": _subscribed_before,
    "subscription-changed": _stale_subscription,
    "subscription-gone": _gone_subscription,
    "period-granted": _granted_before,
    "intent-donated": _donated_before,
}


@pytest.mark.parametrize("breach", list(BREACHES))
async def test_a_failed_expectation_is_conflict_and_nothing_of_the_unit_of_work_stays(
    uow_factory: UnitOfWorkFactory, channel: Channel, breach: str
) -> None:
    refused = await BREACHES[breach](uow_factory, channel)
    key = fresh("key")
    event = make_event(None, payment_id=fresh("pay"), outcome=EventOutcome.UNKNOWN_ORDER)
    # Written in the same save as the refused change: gone with it.
    changes = PaymentChanges(events=[event], messages=[(key, make_message())]).then(refused)

    with pytest.raises(Conflict):
        await commit_with(uow_factory, saving(changes))

    async with uow_factory() as uow:
        assert await uow.outbox.get(key) is None
        assert (await uow.payments.load([event.key], [])).recorded == frozenset()


def test_one_row_twice_in_a_batch_is_refused_before_anything_is_written() -> None:
    channel = make_channel()
    intent = make_intent(channel)
    with pytest.raises(ValueError, match="intent moves"):
        PaymentChanges(moves=[(intent, IntentStatus.WAITING), (intent, IntentStatus.WAITING)])
    subscription = make_subscription(channel)
    with pytest.raises(ValueError, match="grants"):
        PaymentChanges(grants=[make_grant(subscription), make_grant(subscription)])


async def test_of_two_units_of_work_moving_one_intent_exactly_one_wins(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    (intent,) = await given_intents(uow_factory, channel, 1)

    async def first(uow: UnitOfWork) -> PaymentChanges:
        book = await uow.payments.load([], [intent.id])
        moved = _moved(book.intents[intent.id], IntentStatus.CONFIRMING)
        return PaymentChanges(moves=[(moved, intent.status)])

    def second() -> PaymentChanges:
        return PaymentChanges(moves=[(_moved(intent, IntentStatus.FINISHED), intent.status)])

    won = await saves_racing(uow_factory, first, second)

    assert sorted(won) == [False, True]
    stored = await read(uow_factory, lambda uow: uow.intents.get(intent.id))
    assert stored.status is (IntentStatus.CONFIRMING if won[0] else IntentStatus.FINISHED)


async def test_of_two_units_of_work_renewing_one_subscription_exactly_one_wins(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    (subscription,) = await given_subscriptions(uow_factory, channel, 1)

    def renewed(days: int) -> PaymentChanges:
        changed = copy.deepcopy(subscription)
        changed.extend(timedelta(days=days), 1, at())
        return PaymentChanges(changed_subscriptions=[changed])

    async def first(_: UnitOfWork) -> PaymentChanges:
        return renewed(30)

    won = await saves_racing(uow_factory, first, lambda: renewed(90))

    assert sorted(won) == [False, True]
    stored = await read(uow_factory, lambda uow: uow.subscriptions.get(subscription.id))
    days = 30 if won[0] else 90
    assert stored.expires_at == subscription.expires_at + timedelta(days=days)
    assert stored.version == subscription.version + 1
