"""UnitOfWork contract: one transaction, all or nothing, visible to others at commit."""

from __future__ import annotations

import asyncio

import pytest

from core.domain.audit import AuditRecord
from core.domain.ids import ChannelId
from core.ports.errors import Conflict, NotFound
from core.ports.payment_ledger import PaymentChanges
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from tests.contract.builders import (
    at,
    commit_with,
    given_channel,
    make_channel,
    make_intent,
    make_message,
    make_subscription,
    read,
    saving,
)

HOLD = 0.05


class Boom(Exception):
    pass


async def _nothing_stored(uow_factory: UnitOfWorkFactory, channel_id: ChannelId) -> bool:
    async with uow_factory() as uow:
        try:
            await uow.channels.get(channel_id)
        except NotFound:
            pass
        else:
            return False
        return (
            not await uow.audit.all()
            and await uow.outbox.pending_count() == 0
            and not await uow.subscriptions.for_channel(channel_id)
        )


async def _write_a_bit_of_everything(uow: UnitOfWork) -> ChannelId:
    channel = make_channel()
    await uow.channels.add(channel)
    await uow.intents.add(make_intent(channel))
    await uow.payments.save(PaymentChanges(new_subscriptions=[make_subscription(channel)]), at())
    await uow.outbox.enqueue("welcome", make_message(), at())
    await uow.audit.append(AuditRecord("owner:1", "channel.register", channel.id), at())
    return channel.id


async def test_a_commit_makes_every_repositorys_writes_visible_together(
    uow_factory: UnitOfWorkFactory,
) -> None:
    channel_id = await commit_with(uow_factory, _write_a_bit_of_everything)

    async with uow_factory() as uow:
        assert (await uow.channels.get(channel_id)).id == channel_id
        assert len(await uow.subscriptions.for_channel(channel_id)) == 1
        assert await uow.outbox.pending_count() == 1
        assert [e.subject for e in await uow.audit.all()] == [channel_id]


async def test_leaving_without_commit_rolls_everything_back(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        channel_id = await _write_a_bit_of_everything(uow)

    assert await _nothing_stored(uow_factory, channel_id)


async def test_an_error_inside_the_block_rolls_back_and_propagates(
    uow_factory: UnitOfWorkFactory,
) -> None:
    written: list[ChannelId] = []

    async def fail_midway() -> None:
        async with uow_factory() as uow:
            written.append(await _write_a_bit_of_everything(uow))
            raise Boom

    with pytest.raises(Boom):
        await fail_midway()

    assert await _nothing_stored(uow_factory, written[0])


async def test_an_explicit_rollback_discards_the_writes(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        channel_id = await _write_a_bit_of_everything(uow)
        await uow.rollback()

    assert await _nothing_stored(uow_factory, channel_id)


async def test_a_unit_of_work_reads_its_own_uncommitted_writes(
    uow_factory: UnitOfWorkFactory,
) -> None:
    channel = make_channel()
    async with uow_factory() as uow:
        await uow.channels.add(channel)
        assert (await uow.channels.get(channel.id)) == channel
        assert (await uow.channels.by_chat(channel.closed_chat_id)) == channel


async def test_writes_stay_invisible_to_other_units_of_work_until_commit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    # A backend may let the reader in at once (it must then see nothing) or make it
    # wait for the writer to finish (it then sees the commit); it may never show
    # writes that are not committed yet.
    channel = make_channel()
    written = asyncio.Event()
    committing = committed = False

    async def writer() -> None:
        nonlocal committing, committed
        async with uow_factory() as uow:
            await uow.channels.add(channel)
            await uow.outbox.enqueue("hello", make_message(), at())
            written.set()
            await asyncio.sleep(HOLD)
            committing = True
            await uow.commit()
            committed = True

    async def reader() -> tuple[bool, list[bool], bool]:
        await written.wait()
        async with uow_factory() as uow:
            committed_before = committed
            seen = [
                await uow.channels.by_chat(channel.open_chat_id) is not None,
                await uow.outbox.get("hello") is not None,
            ]
            return committed_before, seen, committing

    _, (committed_before, seen, committing_after) = await asyncio.gather(writer(), reader())

    for visible in seen:
        assert committing_after if visible else not committed_before
    assert await read(uow_factory, lambda uow: uow.channels.get(channel.id)) == channel


async def test_a_commit_refused_by_a_uniqueness_rule_stores_none_of_its_writes(
    uow_factory: UnitOfWorkFactory,
) -> None:
    channel = await given_channel(uow_factory)
    await commit_with(
        uow_factory, saving(PaymentChanges(new_subscriptions=[make_subscription(channel)]))
    )
    newcomer = make_channel()

    async def clash(uow: UnitOfWork) -> None:
        await uow.channels.add(newcomer)
        await uow.outbox.enqueue("never", make_message(), at())
        # The same user and channel: refused at once or by the commit.
        await uow.payments.save(
            PaymentChanges(new_subscriptions=[make_subscription(channel)]), at()
        )

    with pytest.raises(Conflict):
        await commit_with(uow_factory, clash)

    assert await _nothing_stored(uow_factory, newcomer.id)


async def test_of_two_racing_registrations_of_one_chat_exactly_one_is_stored(
    uow_factory: UnitOfWorkFactory,
) -> None:
    first = make_channel()
    second = make_channel(closed_chat=first.open_chat_id)
    first_added = asyncio.Event()

    async def register_first() -> None:
        async with uow_factory() as uow:
            await uow.channels.add(first)
            first_added.set()
            await asyncio.sleep(HOLD)
            await uow.commit()

    async def register_second() -> None:
        await first_added.wait()
        await commit_with(uow_factory, lambda uow: uow.channels.add(second))

    outcomes = await asyncio.gather(register_first(), register_second(), return_exceptions=True)

    assert outcomes[0] is None
    assert isinstance(outcomes[1], Conflict)
    stored = await read(uow_factory, lambda uow: uow.channels.by_chat(first.open_chat_id))
    assert stored == first
