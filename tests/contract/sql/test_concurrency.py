"""Concurrency on real connections: outbox claims, compare-and-set of an intent, and
the audit chain, with units of work open at the same time on separate connections."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import attrs
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.outbound.sqla import SqlUnitOfWorkFactory
from core.domain.audit import AuditRecord, verify_chain
from core.domain.ids import ChannelId, ChatId, IntentId, UserId
from core.domain.intent_state import IntentStatus
from core.domain.messages import Verbatim
from core.domain.money import Money
from core.domain.outbox import SendMessage
from core.domain.payment import PaymentIntent, Purpose
from core.ports.errors import Unavailable
from tests.contract.backends_sql import make_cipher, postgres_engine, sqlite_engine

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LEASE = NOW + timedelta(minutes=5)


async def _fill_outbox(factory: SqlUnitOfWorkFactory, count: int) -> set[str]:
    keys = {f"notice:{n:04d}" for n in range(count)}
    async with factory() as uow:
        for key in sorted(keys):
            message = SendMessage(ChatId(7_000_000_001), Verbatim(f"message {key}"))
            assert await uow.outbox.enqueue(key, message, NOW - timedelta(seconds=1))
        await uow.commit()
    return keys


async def _claim_until_empty(factory: SqlUnitOfWorkFactory, batch: int) -> list[str]:
    """A worker: claim a batch, deliver it (mark done), commit; stop when none is left."""
    taken: list[str] = []
    while True:
        async with factory() as uow:
            messages = await uow.outbox.claim(NOW, batch, LEASE)
            for message in messages:
                message.mark_done()
                await uow.outbox.save(message)
            await uow.commit()
        if not messages:
            return taken
        taken.extend(m.key for m in messages)


async def _claimers_take_every_message_once(
    factory: SqlUnitOfWorkFactory, claimers: int, messages: int
) -> list[list[str]]:
    """Run the claimers at once; check each message went to exactly one of them."""
    keys = await _fill_outbox(factory, messages)

    taken = await asyncio.gather(*(_claim_until_empty(factory, 7) for _ in range(claimers)))

    every = [key for worker in taken for key in worker]
    assert len(every) == messages  # nobody took a message twice...
    assert set(every) == keys  # ...and none was left behind
    async with factory() as uow:
        assert await uow.outbox.pending_count() == 0
    return taken


async def test_eight_postgres_workers_take_every_outbox_message_exactly_once() -> None:
    async with postgres_engine(pool_size=8, max_overflow=0) as engine:
        factory = SqlUnitOfWorkFactory(engine, make_cipher())
        taken = await _claimers_take_every_message_once(factory, 8, 500)

    assert sum(1 for worker in taken if worker) >= 2  # the claims did run side by side


async def test_four_sqlite_workers_take_every_outbox_message_exactly_once() -> None:
    async with sqlite_engine(pool_size=4) as engine:
        factory = SqlUnitOfWorkFactory(engine, make_cipher())
        taken = await _claimers_take_every_message_once(factory, 4, 200)

    # On SQLite units of work take turns, first come first served: none is starved.
    assert all(taken)


async def test_a_postgres_claimer_skips_rows_another_holds_instead_of_waiting() -> None:
    async with postgres_engine() as engine:
        factory = SqlUnitOfWorkFactory(engine, make_cipher())
        keys = await _fill_outbox(factory, 10)
        async with factory() as first:
            held = await first.outbox.claim(NOW, 5, LEASE)
            async with factory() as second:
                # Would hang on the first claimer's row locks without SKIP LOCKED.
                others = await asyncio.wait_for(second.outbox.claim(NOW, 5, LEASE), timeout=5)
                await second.commit()
            await first.commit()

    assert {m.key for m in held} | {m.key for m in others} == keys
    assert not {m.key for m in held} & {m.key for m in others}
    assert all(m.available_at == LEASE for m in [*held, *others])


async def test_of_two_postgres_units_of_work_advancing_one_intent_exactly_one_wins() -> None:
    intent = PaymentIntent(
        id=IntentId("in0race1"),
        purpose=Purpose.SUBSCRIPTION,
        user_id=UserId(7_000_000_001),
        channel_id=ChannelId("ch0race1"),
        price=Money("10.50", "USD"),
        provider="fakepay",
        created_at=NOW,
        updated_at=NOW,
        tier=1,
        duration_days=30,
        status=IntentStatus.WAITING,
    )
    both_read = asyncio.Barrier(2)

    async def racer(factory: SqlUnitOfWorkFactory, target: IntentStatus, at: datetime) -> bool:
        async with factory() as uow:
            mine = await uow.intents.get(intent.id)
            previous = mine.status
            await both_read.wait()  # each has read "waiting" before either writes
            mine.move_to(target, at)
            won = await uow.intents.advance(mine, previous)
            if won:
                await asyncio.sleep(0.05)  # the loser's UPDATE now waits on our row lock
            await uow.commit()
        return won

    async with postgres_engine() as engine:
        factory = SqlUnitOfWorkFactory(engine, make_cipher())
        async with factory() as uow:
            await uow.intents.add(intent)
            await uow.commit()

        results = await asyncio.gather(
            racer(factory, IntentStatus.CONFIRMING, NOW + timedelta(seconds=1)),
            racer(factory, IntentStatus.FINISHED, NOW + timedelta(seconds=2)),
        )
        async with factory() as uow:
            stored = await uow.intents.get(intent.id)

    assert sorted(results) == [False, True]
    winner = [IntentStatus.CONFIRMING, IntentStatus.FINISHED][results.index(True)]
    assert stored.status is winner
    assert stored.updated_at == NOW + timedelta(seconds=1 + results.index(True))


async def test_concurrent_audit_appends_make_one_unbroken_chain(engine: AsyncEngine) -> None:
    factory = SqlUnitOfWorkFactory(engine, make_cipher())

    async def append(n: int) -> None:
        async with factory() as uow:
            await uow.audit.append(
                AuditRecord("owner:42", "channel.updated", f"channel:ch{n:06d}"),
                NOW + timedelta(seconds=n),
            )
            await asyncio.sleep(0.01)  # others try to append meanwhile
            await uow.commit()

    await asyncio.gather(*(append(n) for n in range(12)))

    async with factory() as uow:
        events = await uow.audit.all()
    assert [e.seq for e in events] == list(range(1, 13))
    assert verify_chain(events)
    assert {e.subject for e in events} == {f"channel:ch{n:06d}" for n in range(12)}


async def test_a_postgres_deadlock_victim_gets_unavailable_and_the_other_commits() -> None:
    def intent(intent_id: str) -> PaymentIntent:
        return PaymentIntent(
            id=IntentId(intent_id),
            purpose=Purpose.DONATION,
            user_id=UserId(7_000_000_001),
            channel_id=ChannelId("ch0dead1"),
            price=Money("3", "USD"),
            provider="fakepay",
            created_at=NOW,
            updated_at=NOW,
        )

    first, second = intent("in0dead1"), intent("in0dead2")
    both_hold_one = asyncio.Barrier(2)

    async def update_both(
        factory: SqlUnitOfWorkFactory, order: tuple[PaymentIntent, PaymentIntent], at: datetime
    ) -> str:
        changed = [attrs.evolve(i, updated_at=at) for i in order]
        try:
            async with factory() as uow:
                await uow.intents.update(changed[0])
                await both_hold_one.wait()  # each holds one row the other wants next
                await uow.intents.update(changed[1])
                await uow.commit()
        except Unavailable:
            return "victim"
        return "committed"

    async with postgres_engine() as engine:
        factory = SqlUnitOfWorkFactory(engine, make_cipher())
        async with factory() as uow:
            await uow.intents.add(first)
            await uow.intents.add(second)
            await uow.commit()

        outcomes = await asyncio.gather(
            update_both(factory, (first, second), NOW + timedelta(seconds=1)),
            update_both(factory, (second, first), NOW + timedelta(seconds=2)),
        )
        async with factory() as uow:
            stored = {(await uow.intents.get(i.id)).updated_at for i in (first, second)}

    assert sorted(outcomes) == ["committed", "victim"]
    winner_at = NOW + timedelta(seconds=1 + outcomes.index("committed"))
    assert stored == {winner_at}  # all of the winner's writes, none of the victim's
