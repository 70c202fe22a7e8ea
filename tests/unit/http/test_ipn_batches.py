"""The webhook's batcher: concurrent notifications share one unit of work, each
caller gets its own answer only once its notification is stored."""

from __future__ import annotations

import asyncio

import pytest

from adapters.inbound.http.ipn_batches import NotificationBatcher
from core.domain.ids import UserId
from core.domain.intent_state import IntentStatus
from core.domain.outbox import IssueInvite
from core.domain.payment import EventOutcome, ProviderNotification
from core.ports.errors import Unavailable
from tests.unit.services.world import World, counted

USERS = [UserId(500 + n) for n in range(20)]


async def paying(world: World, count: int) -> list[ProviderNotification]:
    channel = await world.channel()
    bills = [await world.checkout.execute(user, channel.id, 1) for user in USERS[:count]]
    return [world.notification(bill, IntentStatus.FINISHED) for bill in bills]


async def grants(world: World) -> int:
    return len([e for e in await world.effects() if isinstance(e, IssueInvite)])


async def test_notifications_that_arrive_together_are_stored_in_one_unit_of_work() -> None:
    world, uow = counted()
    notes = await paying(world, 20)
    batcher = NotificationBatcher(world.verify, max_writers=1)
    before = uow.commits
    results = await asyncio.gather(*(batcher.apply(n) for n in notes))
    assert [r.outcome for r in results] == [EventOutcome.GRANTED] * 20
    assert uow.commits - before == 1
    assert await grants(world) == 20


async def test_a_batch_holds_at_most_its_size_and_the_rest_follow() -> None:
    world, uow = counted()
    notes = await paying(world, 5)
    batcher = NotificationBatcher(world.verify, max_batch=2, max_writers=1)
    before = uow.commits
    results = await asyncio.gather(*(batcher.apply(n) for n in notes))
    assert [r.outcome for r in results] == [EventOutcome.GRANTED] * 5
    assert uow.commits - before == 3


async def test_a_notification_alone_is_applied_at_once() -> None:
    world, _ = counted()
    [note] = await paying(world, 1)
    batcher = NotificationBatcher(world.verify)
    result = await asyncio.wait_for(batcher.apply(note), timeout=5)
    assert result.outcome is EventOutcome.GRANTED


async def test_a_store_that_is_down_answers_every_caller_unavailable() -> None:
    world, uow = counted()
    notes = await paying(world, 3)
    uow.refusals.extend(Unavailable("down") for _ in range(4))
    batcher = NotificationBatcher(world.verify)
    results = await asyncio.gather(*(batcher.apply(n) for n in notes), return_exceptions=True)
    assert [type(r) for r in results] == [Unavailable] * 3
    assert await grants(world) == 0


async def test_a_caller_that_hangs_up_does_not_take_its_payment_away() -> None:
    world, _ = counted()
    notes = await paying(world, 3)
    batcher = NotificationBatcher(world.verify)
    callers = [asyncio.create_task(batcher.apply(n)) for n in notes]
    await asyncio.sleep(0)  # every notification handed over
    callers[1].cancel()
    done = await asyncio.gather(*callers, return_exceptions=True)
    assert isinstance(done[1], asyncio.CancelledError)
    await batcher.close()
    assert await grants(world) == 3


async def test_stopping_answers_the_waiting_callers_instead_of_leaving_them() -> None:
    world, _ = counted()
    notes = await paying(world, 2)
    batcher = NotificationBatcher(world.verify)
    callers = [asyncio.create_task(batcher.apply(n)) for n in notes]
    await asyncio.sleep(0)
    writers = [t for t in asyncio.all_tasks() if t.get_name() == "paygate-ipn-batches"]
    assert writers
    for writer in writers:
        writer.cancel()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert [type(r) for r in results] == [Unavailable] * 2


async def test_a_second_writer_takes_what_arrives_while_the_first_is_writing() -> None:
    world, uow = counted()
    notes = await paying(world, 6)
    disk = asyncio.Event()
    uow.gates.append(disk)  # the first batch's commit hangs until the disk answers
    batcher = NotificationBatcher(world.verify, max_writers=2)
    first = asyncio.create_task(batcher.apply(notes[0]))
    await asyncio.sleep(0.01)
    rest = await asyncio.wait_for(asyncio.gather(*(batcher.apply(n) for n in notes[1:])), 5)
    assert [r.outcome for r in rest] == [EventOutcome.GRANTED] * 5
    assert not first.done()
    disk.set()
    assert (await first).outcome is EventOutcome.GRANTED
    assert await grants(world) == 6


async def test_a_notification_arriving_as_the_writers_finish_is_not_left_behind() -> None:
    world, _ = counted()
    notes = await paying(world, 4)
    batcher = NotificationBatcher(world.verify, max_writers=1)
    for note in notes:  # one after the other: each finds the previous writer ending
        result = await asyncio.wait_for(batcher.apply(note), timeout=5)
        assert result.outcome is EventOutcome.GRANTED


def test_a_batch_holds_at_least_one_notification() -> None:
    world, _ = counted()
    with pytest.raises(ValueError, match="at least one"):
        NotificationBatcher(world.verify, max_batch=0)
    with pytest.raises(ValueError, match="one writer"):
        NotificationBatcher(world.verify, max_writers=0)
