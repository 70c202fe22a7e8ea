"""What the set-at-a-time methods send: on Postgres one statement for a whole batch,
of one text whatever the batch size (asyncpg prepares each distinct text once per
connection), and on both dialects the column types' rules (UTC instants, exact
decimals, no naive times) kept for every element of a batch."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import asyncpg.transaction  # type: ignore[import-untyped]
import attrs
import pytest
from sqlalchemy import delete, event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.outbound.sqla import SqlUnitOfWorkFactory
from adapters.outbound.sqla.tables import audit_head
from core.domain.audit import AuditRecord, verify_chain
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.domain.outbox import IssueInvite
from core.domain.payment import EventOutcome, PaymentIntent, Purpose
from core.ports.repositories import UnitOfWork
from tests.contract.backends_sql import make_cipher, postgres_engine
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
)
from tests.unit.services.world import build

KOLKATA = timezone(timedelta(hours=5, minutes=30))


@contextmanager
def transactions_begun() -> Iterator[list[str]]:
    """The transactions the driver begins meanwhile (asyncpg sends BEGIN in
    ``Transaction.start``), by isolation level."""
    begun: list[str] = []
    start = asyncpg.transaction.Transaction.start

    async def counted(self: Any) -> None:
        begun.append(str(self._isolation))
        await start(self)

    asyncpg.transaction.Transaction.start = counted
    try:
        yield begun
    finally:
        asyncpg.transaction.Transaction.start = start


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL text of every statement sent on ``engine`` inside the block."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        _conn, _cursor, statement, *_ = args
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


@pytest.fixture
async def postgres() -> AsyncIterator[tuple[AsyncEngine, SqlUnitOfWorkFactory]]:
    async with postgres_engine() as engine:
        yield engine, SqlUnitOfWorkFactory(engine, make_cipher())


Scenario = Callable[[AsyncEngine, SqlUnitOfWorkFactory, int], Awaitable[list[str]]]
"""Runs one batch method on ``size`` items, checks what it did, and answers the
statements the method sent."""


async def _get_channels(engine: AsyncEngine, uows: SqlUnitOfWorkFactory, size: int) -> list[str]:
    channels = [make_channel() for _ in range(size)]

    async def add_all(uow: UnitOfWork) -> None:
        for channel in channels:
            await uow.channels.add(channel)

    await commit_with(uows, add_all)
    async with uows() as uow:
        with statements(engine) as sent:
            found = await uow.channels.get_many([c.id for c in channels])
    assert found == {c.id: c for c in channels}
    return sent


async def _get_intents(engine: AsyncEngine, uows: SqlUnitOfWorkFactory, size: int) -> list[str]:
    intents = await given_intents(uows, await given_channel(uows), size)
    async with uows() as uow:
        with statements(engine) as sent:
            found = await uow.intents.get_many([i.id for i in intents])
    assert found == {i.id: i for i in intents}
    return sent


async def _advance_intents(engine: AsyncEngine, uows: SqlUnitOfWorkFactory, size: int) -> list[str]:
    intents = await given_intents(uows, await given_channel(uows), size)
    moves = []
    for intent in intents:
        moved = copy.deepcopy(intent)
        moved.status = IntentStatus.CONFIRMING
        moves.append((moved, IntentStatus.WAITING))
    async with uows() as uow:
        with statements(engine) as sent:
            advanced = await uow.intents.advance_many(moves)
        await uow.commit()
    assert list(advanced) == [True] * size
    return sent


async def _add_events(engine: AsyncEngine, uows: SqlUnitOfWorkFactory, size: int) -> list[str]:
    intent = make_intent(make_channel())
    events = [make_event(intent, payment_id=fresh("pay")) for _ in range(size)]
    async with uows() as uow:
        with statements(engine) as sent:
            recorded = await uow.events.add_many(events)
        assert await uow.events.for_intent(intent.id) == events
    assert list(recorded) == [True] * size
    return sent


async def _find_subscriptions(
    engine: AsyncEngine, uows: SqlUnitOfWorkFactory, size: int
) -> list[str]:
    subscriptions = await given_subscriptions(uows, await given_channel(uows), size)
    async with uows() as uow:
        with statements(engine) as sent:
            found = await uow.subscriptions.find_many(
                [(s.user_id, s.channel_id) for s in subscriptions]
            )
    assert found == {(s.user_id, s.channel_id): s for s in subscriptions}
    return sent


async def _add_subscriptions(
    engine: AsyncEngine, uows: SqlUnitOfWorkFactory, size: int
) -> list[str]:
    # Held back: the one statement goes before the next one (the read here).
    channel = await given_channel(uows)
    subscriptions = [make_subscription(channel, user_id=fresh_user()) for _ in range(size)]
    async with uows() as uow:
        with statements(engine) as sent:
            await uow.subscriptions.add_many(subscriptions)
            assert await uow.subscriptions.for_channel(channel.id) == subscriptions
    return sent[:1]


async def _update_subscriptions(
    engine: AsyncEngine, uows: SqlUnitOfWorkFactory, size: int
) -> list[str]:
    subscriptions = await given_subscriptions(uows, await given_channel(uows), size)
    for subscription in subscriptions:
        subscription.mark_reminded(12)
    async with uows() as uow:
        with statements(engine) as sent:
            await uow.subscriptions.update_many(subscriptions)
        await uow.commit()
    stored = await read(
        uows, lambda uow: uow.subscriptions.for_channel(subscriptions[0].channel_id)
    )
    assert [s.reminders_sent for s in stored] == [frozenset({72, 24, 12})] * size
    assert [s.version for s in stored] == [1] * size
    return sent


async def _add_grants(engine: AsyncEngine, uows: SqlUnitOfWorkFactory, size: int) -> list[str]:
    # Held back: the one statement goes with the commit.
    subscription = make_subscription(make_channel())
    grants = [make_grant(subscription, period=n) for n in range(1, size + 1)]
    async with uows() as uow:
        with statements(engine) as sent:
            await uow.grants.add_many(grants)
            await uow.commit()
    async with uows() as uow:
        assert await uow.grants.latest_for(subscription.id) == grants[-1]
    return sent


async def _add_donations(engine: AsyncEngine, uows: SqlUnitOfWorkFactory, size: int) -> list[str]:
    channel = make_channel()
    donations = [make_donation(make_intent(channel, purpose=Purpose.DONATION)) for _ in range(size)]
    async with uows() as uow:
        with statements(engine) as sent:
            added = await uow.donations.add_many(donations)
        assert await uow.donations.for_channel(channel.id) == donations
    assert list(added) == [True] * size
    return sent


async def _enqueue_messages(
    engine: AsyncEngine, uows: SqlUnitOfWorkFactory, size: int
) -> list[str]:
    # Held back to the commit: the one statement goes then.
    keys = [fresh("key") for _ in range(size)]
    async with uows() as uow:
        before = await uow.outbox.pending_count()
        with statements(engine) as sent:
            await uow.outbox.enqueue_many([(k, make_message()) for k in keys], at())
            await uow.commit()
    async with uows() as uow:
        assert await uow.outbox.pending_count() == before + size
    return sent


SCENARIOS: dict[str, Scenario] = {
    "channels.get_many": _get_channels,
    "intents.get_many": _get_intents,
    "intents.advance_many": _advance_intents,
    "events.add_many": _add_events,
    "subscriptions.find_many": _find_subscriptions,
    "subscriptions.add_many": _add_subscriptions,
    "subscriptions.update_many": _update_subscriptions,
    "grants.add_many": _add_grants,
    "donations.add_many": _add_donations,
    "outbox.enqueue_many": _enqueue_messages,
}


@pytest.mark.postgres
@pytest.mark.parametrize("method", list(SCENARIOS))
async def test_a_postgres_batch_is_one_statement_of_one_text_whatever_its_size(
    postgres: tuple[AsyncEngine, SqlUnitOfWorkFactory], method: str
) -> None:
    engine, uows = postgres
    one = await SCENARIOS[method](engine, uows, 1)
    five = await SCENARIOS[method](engine, uows, 5)

    assert len(one) == 1
    assert five == one


@pytest.mark.postgres
async def test_a_commit_sends_the_outbox_rows_and_audit_events_in_one_statement(
    postgres: tuple[AsyncEngine, SqlUnitOfWorkFactory],
) -> None:
    engine, uows = postgres
    async with uows() as uow:  # the chain has a head (an emptied database gets it back)
        await uow.audit.append(AuditRecord("test", "started", "head"), at())
        await uow.commit()
    keys = [fresh("key") for _ in range(3)]
    async with uows() as uow:
        with statements(engine) as sent:
            await uow.outbox.enqueue_many([(k, make_message()) for k in keys], at())
            for key in keys:
                await uow.audit.append(AuditRecord("test", "queued", key), at())
            await uow.commit()
    # One statement takes the audit turn, chains the events onto the head and writes
    # everything.
    assert len(sent) == 1
    async with uows() as uow:
        assert [await uow.outbox.get(k) is not None for k in keys] == [True] * 3
        events = await uow.audit.all()
    assert [e.subject for e in events[-3:]] == keys
    assert verify_chain(events)


@pytest.mark.postgres
async def test_a_lost_audit_head_is_rebuilt_from_the_stored_tail(
    postgres: tuple[AsyncEngine, SqlUnitOfWorkFactory],
) -> None:
    engine, uows = postgres
    async with uows() as uow:
        for n in range(3):
            await uow.audit.append(AuditRecord("test", "before", f"n{n}"), at())
        await uow.commit()
    async with engine.begin() as conn:
        await conn.execute(delete(audit_head))  # emptied by hand

    async with uows() as uow:
        await uow.audit.append(AuditRecord("test", "after", "n3"), at())
        await uow.commit()

    async with uows() as uow:
        events = await uow.audit.all()
    async with engine.connect() as conn:
        head = (await conn.execute(select(audit_head.c.seq, audit_head.c.hash))).one()
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert verify_chain(events)
    assert (head.seq, head.hash) == (4, events[-1].hash)


@pytest.mark.postgres
async def test_queued_rows_are_read_back_in_their_own_transaction_and_gone_on_rollback(
    postgres: tuple[AsyncEngine, SqlUnitOfWorkFactory],
) -> None:
    _, uows = postgres
    kept, dropped = fresh("key"), fresh("key")
    async with uows() as uow:
        await uow.outbox.enqueue_many([(kept, make_message())], at())
        assert await uow.outbox.get(kept) is not None
        await uow.commit()
    async with uows() as uow:
        await uow.outbox.enqueue_many([(dropped, make_message())], at())
        await uow.rollback()
    async with uows() as uow:
        assert await uow.outbox.get(kept) is not None
        assert await uow.outbox.get(dropped) is None


@pytest.mark.postgres
async def test_empty_batches_send_nothing(
    postgres: tuple[AsyncEngine, SqlUnitOfWorkFactory],
) -> None:
    engine, uows = postgres
    async with uows() as uow:
        with statements(engine) as sent:
            assert await uow.channels.get_many([]) == {}
            assert await uow.intents.get_many([]) == {}
            assert list(await uow.intents.advance_many([])) == []
            assert list(await uow.events.add_many([])) == []
            assert await uow.subscriptions.find_many([]) == {}
            await uow.subscriptions.add_many([])
            await uow.subscriptions.update_many([])
            await uow.grants.add_many([])
            assert list(await uow.donations.add_many([])) == []
            await uow.outbox.enqueue_many([], at())

    assert sent == []


async def test_batched_money_and_times_come_back_exact_and_in_utc(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    channel = await given_channel(uow_factory)
    intents = await given_intents(uow_factory, channel, 2)
    tiny, huge = Money("0.000000000000000001", "ETH"), Money("123456789012.500", "USD")
    received = datetime(2025, 3, 1, 18, 0, 0, 1, tzinfo=KOLKATA)
    events = [
        attrs.evolve(make_event(i, payment_id=fresh("pay")), received_at=received, price=huge)
        for i in intents
    ]
    donations = [make_donation(i, amount=huge, received_at=received) for i in intents]
    moves = []
    for intent, paid in zip(intents, (tiny, huge), strict=True):
        moved = copy.deepcopy(intent)
        moved.status = IntentStatus.FINISHED
        moved.actually_paid = paid
        moved.mark_fulfilled(received)
        moves.append((moved, IntentStatus.WAITING))

    async def write(uow: UnitOfWork) -> None:
        await uow.events.add_many(events)
        await uow.donations.add_many(donations)
        await uow.intents.advance_many(moves)

    await commit_with(uow_factory, write)

    async def reread(uow: UnitOfWork) -> tuple[Any, ...]:
        return (
            await uow.events.for_intent(intents[0].id),
            await uow.donations.for_channel(channel.id),
            await uow.intents.get_many([i.id for i in intents]),
        )

    stored_events, stored_donations, stored_intents = await read(uow_factory, reread)
    assert [str(e.price) for e in stored_events] == ["123456789012.500 USD"]
    assert stored_events[0].received_at == received
    assert stored_events[0].received_at.utcoffset() == timedelta(0)
    assert [str(d.amount) for d in stored_donations] == ["123456789012.500 USD"] * 2
    assert [d.received_at.tzinfo for d in stored_donations] == [UTC, UTC]
    paid_back = [stored_intents[i.id].actually_paid for i in intents]
    assert [str(p) for p in paid_back] == ["0.000000000000000001 ETH", "123456789012.500 USD"]
    assert all(isinstance(p.amount, Decimal) for p in paid_back if p is not None)
    fulfilled = [stored_intents[i.id].fulfilled_at for i in intents]
    assert fulfilled == [datetime(2025, 3, 1, 12, 30, 0, 1, tzinfo=UTC)] * 2
    assert [stored_intents[i.id] for i in intents] == [m for m, _ in moves]


async def test_batched_subscription_times_come_back_as_the_same_instants_in_utc(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    channel = await given_channel(uow_factory)
    starts = datetime(2025, 3, 1, 18, 0, 0, 1, tzinfo=KOLKATA)
    subscription = attrs.evolve(
        make_subscription(channel, user_id=fresh_user()),
        starts_at=starts,
        expires_at=starts + timedelta(days=30),
    )
    await commit_with(uow_factory, lambda uow: uow.subscriptions.add_many([subscription]))
    subscription.expires_at = starts + timedelta(days=60)
    await commit_with(uow_factory, lambda uow: uow.subscriptions.update_many([subscription]))

    pair = (subscription.user_id, subscription.channel_id)
    found = await read(uow_factory, lambda uow: uow.subscriptions.find_many([pair]))

    stored = found[pair]
    assert stored == subscription
    assert stored.starts_at == datetime(2025, 3, 1, 12, 30, 0, 1, tzinfo=UTC)
    assert stored.expires_at.tzinfo == UTC
    assert stored.version == 1


async def test_a_naive_time_in_a_batch_is_refused_and_nothing_of_it_is_stored(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    intent = make_intent(make_channel())
    naive = datetime(2025, 3, 1, 12, 0)  # noqa: DTZ001 - the mistake under test
    events = [
        make_event(intent, payment_id=fresh("pay")),
        attrs.evolve(make_event(intent, payment_id=fresh("pay")), received_at=naive),
    ]

    async with uow_factory() as uow:
        with pytest.raises(ValueError, match="timezone-aware"):
            await uow.events.add_many(events)

    assert await read(uow_factory, lambda uow: uow.events.for_intent(intent.id)) == []


@pytest.mark.postgres
@pytest.mark.parametrize("size", [1, 5])
async def test_a_batch_of_payments_costs_two_statements_and_no_transaction_on_postgres(
    postgres: tuple[AsyncEngine, SqlUnitOfWorkFactory], size: int
) -> None:
    # Read the intents (with their channels, the payers' subscriptions and whether
    # the events are recorded), then write the events, the intents' moves and all
    # the rest with the audit chain: two statements whether the batch pays for one or
    # five, and the write is atomic on its own: no BEGIN, no COMMIT.
    engine, uows = postgres
    world = build(uow=uows)
    channel = await world.channel()
    bills = [await world.checkout.execute(fresh_user(), channel.id, 1) for _ in range(size)]
    notes = [world.notification(bill, IntentStatus.FINISHED) for bill in bills]
    with statements(engine) as sent, transactions_begun() as begun:
        results = await world.verify.execute_many(notes)
    assert [getattr(r, "outcome", r) for r in results] == [EventOutcome.GRANTED] * size
    assert len(sent) == 2
    assert begun == []
    effects = await world.effects()
    assert len([e for e in effects if isinstance(e, IssueInvite)]) == size
    async with uows() as uow:
        assert verify_chain(await uow.audit.all())


@pytest.mark.postgres
async def test_a_unit_of_work_that_writes_twice_writes_in_one_transaction(
    postgres: tuple[AsyncEngine, SqlUnitOfWorkFactory],
) -> None:
    _, uows = postgres
    keys = [fresh("key"), fresh("key")]
    with transactions_begun() as begun:
        async with uows() as uow:
            await uow.outbox.enqueue_many([(keys[0], make_message())], at())
            assert await uow.outbox.get(keys[0]) is not None  # a read after a write
            await uow.outbox.enqueue_many([(keys[1], make_message())], at())
            await uow.rollback()

    assert len(begun) == 1
    async with uows() as uow:
        assert [await uow.outbox.get(k) for k in keys] == [None, None]


@pytest.mark.postgres
async def test_what_is_read_with_intents_is_whole_and_never_stale_in_the_unit_of_work(
    postgres: tuple[AsyncEngine, SqlUnitOfWorkFactory],
) -> None:
    # Two intents of one channel (its tiers must come once, not once per intent),
    # one payer with a subscription and one without.
    engine, uows = postgres
    channel = await given_channel(uows)
    subscribed = await given_subscriptions(uows, channel, 1)
    intents = [
        make_intent(channel, user_id=subscribed[0].user_id),
        make_intent(channel, user_id=fresh_user()),
    ]
    await commit_with(uows, lambda uow: _add_intents(uow, intents))
    buyers = [(i.user_id, i.channel_id) for i in intents]
    async with uows() as uow:
        read = await uow.intents.get_many([i.id for i in intents])
        assert read == {i.id: i for i in intents}
        with statements(engine) as sent:
            channels = await uow.channels.get_many([channel.id])
            found = await uow.subscriptions.find_many(buyers)
        assert sent == []  # both came with the intents
        assert channels == {channel.id: channel}
        assert found == {buyers[0]: subscribed[0]}
        # A copy each time: what a caller changes is not what the next one reads.
        found[buyers[0]].tier = 2
        assert (await uow.subscriptions.find_many(buyers))[buyers[0]] == subscribed[0]
        # Writes make the next reads go to the database again.
        changed = found[buyers[0]]
        await uow.subscriptions.update_many([changed])
        with statements(engine) as sent:
            again = await uow.subscriptions.find_many(buyers)
        assert len(sent) == 1
        assert again[buyers[0]].tier == 2
        assert again[buyers[0]].version == subscribed[0].version + 1


async def _add_intents(uow: UnitOfWork, intents: list[PaymentIntent]) -> None:
    for intent in intents:
        await uow.intents.add(intent)


async def test_an_intent_is_read_with_its_payers_subscription_to_its_own_channel_only(
    postgres: tuple[AsyncEngine, SqlUnitOfWorkFactory],
) -> None:
    # The payer subscribes to another channel, someone else to this one: neither is
    # this intent's subscription.
    engine, uows = postgres
    here, elsewhere = await given_channel(uows), await given_channel(uows)
    (theirs,) = await given_subscriptions(uows, here, 1)
    payer = fresh_user()
    mine = make_subscription(elsewhere, user_id=payer)
    await commit_with(uows, lambda uow: uow.subscriptions.add(mine))
    intents = [make_intent(here, user_id=payer), make_intent(here, user_id=theirs.user_id)]
    await commit_with(uows, lambda uow: _add_intents(uow, intents))
    async with uows() as uow:
        await uow.intents.get_many([i.id for i in intents])
        with statements(engine) as sent:
            found = await uow.subscriptions.find_many([(payer, here.id), (theirs.user_id, here.id)])
        assert sent == []  # both answers came with the intents
        assert found == {(theirs.user_id, here.id): theirs}
