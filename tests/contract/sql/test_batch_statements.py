"""What the payment ledger sends: on Postgres one statement for a whole batch's load
and one for its save, of one text whatever the batch size (asyncpg prepares each
distinct text once per connection), and on both dialects the column types' rules
(UTC instants, exact decimals, no naive times) kept for every element of a batch."""

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
from core.domain.payment import EventOutcome, PaymentIntent
from core.domain.subscription import Subscription
from core.ports.payment_ledger import PaymentBook, PaymentChanges
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
    saving,
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
"""Runs one ledger call on a batch of ``size``, checks what it did, and answers the
statements the call sent."""


async def _load(engine: AsyncEngine, uows: SqlUnitOfWorkFactory, size: int) -> list[str]:
    # Intents with their channel and the payers' subscriptions, and whether each
    # event is recorded: one statement.
    channel = await given_channel(uows)
    subscriptions = await given_subscriptions(uows, channel, size)
    intents = [make_intent(channel, user_id=s.user_id) for s in subscriptions]
    await commit_with(uows, lambda uow: _add_intents(uow, intents))
    keys = [make_event(i, payment_id=fresh("pay")).key for i in intents]
    async with uows() as uow:
        with statements(engine) as sent:
            book = await uow.payments.load(keys, [i.id for i in intents])
    assert book.intents == {i.id: i for i in intents}
    assert book.channels == {channel.id: channel}
    assert book.subscriptions == {(s.user_id, s.channel_id): s for s in subscriptions}
    assert book.recorded == frozenset()
    return sent


async def _load_unknown_orders(
    engine: AsyncEngine, uows: SqlUnitOfWorkFactory, size: int
) -> list[str]:
    events = [make_event(None, payment_id=fresh("pay")) for _ in range(size)]
    await commit_with(uows, saving(PaymentChanges(events=events[:1])))
    async with uows() as uow:
        with statements(engine) as sent:
            book = await uow.payments.load([e.key for e in events], [])
    assert book.recorded == {events[0].key}
    return sent


async def _save(engine: AsyncEngine, uows: SqlUnitOfWorkFactory, size: int) -> list[str]:
    # Events, moves, new subscriptions, grants, donations, outbox messages and the
    # audit chain: held back and sent with the commit, one statement.
    async with uows() as uow:  # the chain has a head (an emptied database gets it back)
        await uow.audit.append(AuditRecord("test", "started", "head"), at())
        await uow.commit()
    channel = await given_channel(uows)
    intents = await given_intents(uows, channel, size)
    moves = []
    for intent in intents:
        moved = copy.deepcopy(intent)
        moved.status = IntentStatus.FINISHED
        moves.append((moved, IntentStatus.WAITING))
    subscriptions = [make_subscription(channel, user_id=fresh_user()) for _ in range(size)]
    keys = [fresh("key") for _ in range(size)]
    changes = PaymentChanges(
        events=[make_event(i, payment_id=fresh("pay")) for i in intents],
        moves=moves,
        new_subscriptions=subscriptions,
        grants=[make_grant(s) for s in subscriptions],
        donations=[make_donation(i) for i in intents],
        audit=[AuditRecord("test", "paid", k) for k in keys],
        messages=[(k, make_message()) for k in keys],
    )
    async with uows() as uow:
        with statements(engine) as sent:
            await uow.payments.save(changes, at())
            await uow.commit()
    async with uows() as uow:
        assert await uow.subscriptions.for_channel(channel.id) == subscriptions
        assert [await uow.outbox.get(k) is not None for k in keys] == [True] * size
        assert [(await uow.intents.get(m.id)).status for m, _ in moves] == [
            IntentStatus.FINISHED
        ] * size
        assert verify_chain(await uow.audit.all())
    return sent


async def _renew(engine: AsyncEngine, uows: SqlUnitOfWorkFactory, size: int) -> list[str]:
    subscriptions = await given_subscriptions(uows, await given_channel(uows), size)
    for subscription in subscriptions:
        subscription.mark_reminded(12)
    async with uows() as uow:
        with statements(engine) as sent:
            await uow.payments.save(PaymentChanges(changed_subscriptions=subscriptions), at())
        # The versioned update went at once: one statement, committed below.
        await uow.commit()
    stored = await read(
        uows, lambda uow: uow.subscriptions.for_channel(subscriptions[0].channel_id)
    )
    assert [s.reminders_sent for s in stored] == [frozenset({72, 24, 12})] * size
    assert [s.version for s in stored] == [1] * size
    return sent


SCENARIOS: dict[str, Scenario] = {
    "payments.load": _load,
    "payments.load (unknown orders)": _load_unknown_orders,
    "payments.save": _save,
    "payments.save (renewals)": _renew,
}


@pytest.mark.postgres
@pytest.mark.parametrize("call", list(SCENARIOS))
async def test_a_postgres_batch_is_one_statement_of_one_text_whatever_its_size(
    postgres: tuple[AsyncEngine, SqlUnitOfWorkFactory], call: str
) -> None:
    engine, uows = postgres
    one = await SCENARIOS[call](engine, uows, 1)
    five = await SCENARIOS[call](engine, uows, 5)

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
            messages = [(k, make_message()) for k in keys]
            await uow.payments.save(PaymentChanges(messages=messages), at())
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
        await uow.payments.save(PaymentChanges(messages=[(kept, make_message())]), at())
        assert await uow.outbox.get(kept) is not None
        await uow.commit()
    async with uows() as uow:
        await uow.payments.save(PaymentChanges(messages=[(dropped, make_message())]), at())
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
            assert await uow.payments.load([], []) == PaymentBook(frozenset(), {}, {}, {})
            await uow.payments.save(PaymentChanges(), at())
            await uow.commit()

    assert sent == []


async def test_saved_money_and_times_come_back_exact_and_in_utc(
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
    changes = PaymentChanges(events=events, moves=moves, donations=donations)

    await commit_with(uow_factory, saving(changes))

    async with uow_factory() as uow:
        stored_events = await uow.events.for_intent(intents[0].id)
        stored_donations = await uow.donations.for_channel(channel.id)
        book = await uow.payments.load([], [i.id for i in intents])
    assert [str(e.price) for e in stored_events] == ["123456789012.500 USD"]
    assert stored_events[0].received_at == received
    assert stored_events[0].received_at.utcoffset() == timedelta(0)
    assert [str(d.amount) for d in stored_donations] == ["123456789012.500 USD"] * 2
    assert [d.received_at.tzinfo for d in stored_donations] == [UTC, UTC]
    paid_back = [book.intents[i.id].actually_paid for i in intents]
    assert [str(p) for p in paid_back] == ["0.000000000000000001 ETH", "123456789012.500 USD"]
    assert all(isinstance(p.amount, Decimal) for p in paid_back if p is not None)
    fulfilled = [book.intents[i.id].fulfilled_at for i in intents]
    assert fulfilled == [datetime(2025, 3, 1, 12, 30, 0, 1, tzinfo=UTC)] * 2
    assert [book.intents[i.id] for i in intents] == [m for m, _ in moves]


async def test_a_renewed_subscriptions_times_come_back_as_the_same_instants_in_utc(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    channel = await given_channel(uow_factory)
    starts = datetime(2025, 3, 1, 18, 0, 0, 1, tzinfo=KOLKATA)
    subscription: Subscription = attrs.evolve(
        make_subscription(channel, user_id=fresh_user()),
        starts_at=starts,
        expires_at=starts + timedelta(days=30),
    )
    await commit_with(uow_factory, saving(PaymentChanges(new_subscriptions=[subscription])))
    subscription.expires_at = starts + timedelta(days=60)
    await commit_with(uow_factory, saving(PaymentChanges(changed_subscriptions=[subscription])))

    stored = await read(uow_factory, lambda uow: uow.subscriptions.get(subscription.id))

    assert stored == attrs.evolve(subscription, version=1)
    assert stored.starts_at == datetime(2025, 3, 1, 12, 30, 0, 1, tzinfo=UTC)
    assert stored.expires_at.tzinfo == UTC


async def test_a_naive_time_in_a_batch_is_refused_and_nothing_of_it_is_stored(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    intent = make_intent(make_channel())
    naive = datetime(2025, 3, 1, 12, 0)  # noqa: DTZ001 - the mistake under test
    events = [
        make_event(intent, payment_id=fresh("pay")),
        attrs.evolve(make_event(intent, payment_id=fresh("pay")), received_at=naive),
    ]

    with pytest.raises(ValueError, match="timezone-aware"):  # at once or by the commit
        await commit_with(uow_factory, saving(PaymentChanges(events=events)))

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
            await uow.payments.save(PaymentChanges(messages=[(keys[0], make_message())]), at())
            assert await uow.outbox.get(keys[0]) is not None  # a read after a write
            await uow.payments.save(PaymentChanges(messages=[(keys[1], make_message())]), at())
            await uow.rollback()

    assert len(begun) == 1
    async with uows() as uow:
        assert [await uow.outbox.get(k) for k in keys] == [None, None]


async def _add_intents(uow: UnitOfWork, intents: list[PaymentIntent]) -> None:
    for intent in intents:
        await uow.intents.add(intent)
