"""What the in-memory unit of work adds to the shared contract: two units of work in
one task never deadlock silently, and a stuck writer times out like a database lock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from adapters.outbound.memory import InMemoryStore, InMemoryUnitOfWorkFactory
from adapters.outbound.memory.row_locks import SelfDeadlock
from core.domain.audit import AuditRecord, verify_chain
from core.domain.channel import Channel
from core.domain.ids import ChannelId, ChatId, UserId
from core.domain.messages import Verbatim
from core.domain.outbox import SendMessage
from core.ports.errors import Unavailable

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _channel(n: int) -> Channel:
    return Channel(
        id=ChannelId(f"ch{n}"),
        owner_id=UserId(1),
        open_chat_id=ChatId(-n * 10),
        closed_chat_id=ChatId(-n * 10 - 1),
        title=f"Channel {n}",
        created_at=T0,
    )


async def _committed(factory: InMemoryUnitOfWorkFactory, *channels: Channel) -> None:
    async with factory() as uow:
        for channel in channels:
            await uow.channels.add(channel)
        await uow.commit()


async def test_two_units_of_work_of_one_task_write_different_rows_freely() -> None:
    factory = InMemoryUnitOfWorkFactory()
    await _committed(factory, _channel(1), _channel(2))

    async with factory() as first, factory() as second:
        one, two = (
            await first.channels.get(ChannelId("ch1")),
            await second.channels.get(ChannelId("ch2")),
        )
        one.pause_sales("first")
        two.pause_sales("second")
        await first.channels.update(one)
        await second.channels.update(two)
        await second.commit()
        await first.commit()

    async with factory() as uow:
        assert [c.pause_reason for c in await uow.channels.all()] == ["first", "second"]


async def test_a_reader_in_the_same_task_sees_only_committed_rows() -> None:
    factory = InMemoryUnitOfWorkFactory()

    async with factory() as writer, factory() as reader:
        await writer.channels.add(_channel(1))
        assert await reader.channels.all() == []
        await writer.commit()
        assert [c.id for c in await reader.channels.all()] == ["ch1"]


async def test_writing_a_row_another_unit_of_work_of_this_task_holds_fails_at_once() -> None:
    factory = InMemoryUnitOfWorkFactory()
    await _committed(factory, _channel(1))

    async with factory() as first, factory() as second:
        await first.channels.update(await first.channels.get(ChannelId("ch1")))
        with pytest.raises(SelfDeadlock):
            await second.channels.update(await second.channels.get(ChannelId("ch1")))


async def test_a_writer_that_never_finishes_makes_others_time_out() -> None:
    factory = InMemoryUnitOfWorkFactory(InMemoryStore(lock_timeout=0.05))
    await _committed(factory, _channel(1))
    locked = asyncio.Event()
    release = asyncio.Event()

    async def stuck_writer() -> None:
        async with factory() as uow:
            await uow.channels.update(await uow.channels.get(ChannelId("ch1")))
            locked.set()
            await release.wait()

    holder = asyncio.create_task(stuck_writer())
    await locked.wait()
    try:
        async with factory() as uow:
            channel = await uow.channels.get(ChannelId("ch1"))
            with pytest.raises(Unavailable, match="lock wait timeout"):
                await uow.channels.update(channel)
    finally:
        release.set()
        await holder


async def test_an_uncommitted_claim_is_skipped_not_waited_for() -> None:
    factory = InMemoryUnitOfWorkFactory()
    async with factory() as uow:
        for n in range(4):
            await uow.outbox.enqueue(f"k{n}", SendMessage(ChatId(1), Verbatim("hi")), T0)
        await uow.commit()
    lease = T0 + timedelta(seconds=30)

    async with factory() as first, factory() as second:
        mine = await first.outbox.claim(T0, 2, lease)
        theirs = await second.outbox.claim(T0, 10, lease)

    assert [m.key for m in mine] == ["k0", "k1"]
    assert [m.key for m in theirs] == ["k2", "k3"]


async def test_a_unit_of_work_can_go_on_after_a_commit() -> None:
    factory = InMemoryUnitOfWorkFactory()

    async with factory() as uow:
        await uow.channels.add(_channel(1))
        await uow.commit()
        await uow.channels.add(_channel(2))
        await uow.commit()

    async with factory() as uow:
        assert [c.id for c in await uow.channels.all()] == ["ch1", "ch2"]


async def test_racing_audit_appenders_are_serialised_rather_than_refused() -> None:
    factory = InMemoryUnitOfWorkFactory()

    async def append(n: int) -> None:
        async with factory() as uow:
            await uow.audit.append(AuditRecord(f"owner:{n}", "tiers.update", "ch1"), T0)
            await asyncio.sleep(0.01)
            await uow.commit()

    await asyncio.gather(*(append(n) for n in range(3)))

    async with factory() as uow:
        events = await uow.audit.all()
    assert [e.seq for e in events] == [1, 2, 3]
    assert verify_chain(events)
