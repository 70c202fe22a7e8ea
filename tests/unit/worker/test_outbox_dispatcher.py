"""The outbox dispatcher: chats take turns, a busy chat holds nobody up, work goes out
as soon as it is committed, and stopping loses nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Self

import attrs

from adapters.inbound.worker.outbox_dispatcher import (
    DispatchReport,
    DispatchSettings,
    OutboxDispatcher,
)
from adapters.outbound.memory.outbox_wakeup import InProcessOutboxWakeup
from core.domain.ids import ChatId, UserId
from core.domain.messages import Verbatim
from core.domain.outbox import OutboxMessage, OutboxStatus, SendMessage
from core.ports.errors import Unavailable
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from core.services.settle_outbox import SettleOutbox
from tests.unit.services.world import OWNER, World, build

USER = UserId(42)
SUBSCRIBERS = [ChatId(500 + n) for n in range(5)]
NEVER = timedelta(hours=1)
"""A polling interval no test waits for: whatever goes out, went out without it."""
PATIENCE = 5.0
"""Seconds a test waits for something that should take milliseconds."""


async def queue(world: World, chat: int, text: str) -> None:
    async with world.uow() as tx:
        await tx.outbox.enqueue(
            f"test:{chat}:{text}",
            SendMessage(ChatId(chat), Verbatim(text)),
            world.clock.now(),
        )
        await tx.commit()


async def stored(world: World, chat: int, text: str) -> OutboxMessage:
    async with world.uow() as tx:
        message = await tx.outbox.get(f"test:{chat}:{text}")
    assert message is not None
    return message


def texts_to(world: World, chat: int) -> list[str]:
    return [m.message.text for m in world.messenger.sent if m.chat_id == ChatId(chat)]


def dispatcher(world: World, settings: DispatchSettings | None = None) -> OutboxDispatcher:
    settle = SettleOutbox(
        world.uow,
        world.clock,
        world.messenger,
        world.chat,
        world.grant,
        world.refresh,
        world.alerts,
    )
    return OutboxDispatcher(settle, world.clock, settings)


async def until(check: Callable[[], bool], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + PATIENCE
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


@attrs.define
class Running:
    wakeup: InProcessOutboxWakeup
    stopping: asyncio.Event
    task: asyncio.Task[DispatchReport]

    async def stop(self) -> DispatchReport:
        self.stopping.set()
        return await asyncio.wait_for(self.task, PATIENCE)


@asynccontextmanager
async def running(
    dispatch: OutboxDispatcher, poll_every: timedelta = NEVER
) -> AsyncIterator[Running]:
    wakeup = InProcessOutboxWakeup()
    stopping = asyncio.Event()
    task = asyncio.create_task(dispatch.run(wakeup, stopping, poll_every))
    run = Running(wakeup, stopping, task)
    try:
        yield run
    finally:
        if not task.done():
            await run.stop()


# ------------------------------------------------------------------ one run


async def test_a_chats_extra_messages_are_put_back_in_turns_without_counting_a_try() -> None:
    world = build(dispatch=DispatchSettings(chat_spacing=timedelta(seconds=1)))
    for n in range(4):
        await queue(world, OWNER, f"note {n}")
    await queue(world, USER, "your link")
    report = await world.dispatch.run_once()
    assert (report.claimed, report.done, report.deferred) == (5, 2, 3)
    assert texts_to(world, OWNER) == ["note 0"]
    assert texts_to(world, USER) == ["your link"]
    now = world.clock.now()
    for n in (1, 2, 3):
        message = await stored(world, OWNER, f"note {n}")
        assert (message.status, message.attempts) == (OutboxStatus.PENDING, 0)
        assert message.available_at == now + timedelta(seconds=n)
    world.clock.advance(timedelta(seconds=1))
    await world.dispatch.run_once()
    assert texts_to(world, OWNER) == ["note 0", "note 1"]


# ------------------------------------------------------------------ running


async def test_the_owners_chat_never_holds_up_the_subscribers_links(world: World) -> None:
    # One slot only: if a message waiting for its chat's turn held it, nobody else
    # would get a message until the owner's turn came.
    dispatch = dispatcher(
        world, DispatchSettings(concurrency=1, chat_spacing=timedelta(milliseconds=200))
    )
    for n in range(5):
        await queue(world, OWNER, f"payment {n}")
    for chat in SUBSCRIBERS:
        await queue(world, chat, "your link")
    async with running(dispatch):
        await until(lambda: all(texts_to(world, c) for c in SUBSCRIBERS), "every link sent")
        # The clock stands still: the owner's next turn has not come.
        assert texts_to(world, OWNER) == ["payment 0"]
        world.clock.advance(timedelta(milliseconds=200))
        await until(lambda: len(texts_to(world, OWNER)) == 2, "the owner's second turn")
        await asyncio.sleep(0.3)
        assert texts_to(world, OWNER) == ["payment 0", "payment 1"]
    recipients = [m.chat_id for m in world.messenger.sent]
    assert recipients == [ChatId(OWNER), *SUBSCRIBERS, ChatId(OWNER)]


async def test_work_committed_while_the_dispatcher_waits_goes_out_when_it_is_woken(
    world: World,
) -> None:
    async with running(dispatcher(world)) as run:
        await asyncio.sleep(0.05)  # idle: nothing was due
        await queue(world, USER, "hello")
        await run.wakeup.notify()
        await until(lambda: texts_to(world, USER) == ["hello"], "the message")


async def test_without_a_wakeup_the_next_poll_finds_the_work(world: World) -> None:
    async with running(dispatcher(world), poll_every=timedelta(milliseconds=100)):
        await asyncio.sleep(0.05)
        await queue(world, USER, "hello")
        await until(lambda: texts_to(world, USER) == ["hello"], "the message")


async def test_an_issued_invite_goes_out_in_the_same_run(world: World) -> None:
    channel = await world.channel()
    await world.pay(await world.checkout.execute(USER, channel.id, 1))
    async with running(dispatcher(world)):
        # No wake-up and no poll: the run claims the invite's message by itself.
        await until(lambda: len(texts_to(world, USER)) == 1, "the invite link")
    link = world.chat.links[-1].url
    sent = [m for m in world.messenger.sent if m.chat_id == ChatId(USER)]
    assert link in [b.url for row in sent[0].message.buttons for b in row]
    async with world.uow() as tx:
        assert await tx.outbox.pending_count() == 0


async def test_stopping_finishes_what_is_in_flight_and_puts_back_what_waits(
    world: World,
) -> None:
    dispatch = dispatcher(world, DispatchSettings(chat_spacing=timedelta(minutes=1)))
    for n in range(3):
        await queue(world, OWNER, f"payment {n}")
    async with running(dispatch) as run:
        await until(lambda: texts_to(world, OWNER) == ["payment 0"], "the first turn")
        report = await run.stop()
    assert (report.done, report.deferred) == (1, 2)
    assert (await stored(world, OWNER, "payment 0")).status is OutboxStatus.DONE
    now = world.clock.now()
    for n in (1, 2):
        message = await stored(world, OWNER, f"payment {n}")
        assert (message.status, message.attempts) == (OutboxStatus.PENDING, 0)
        assert message.available_at == now + timedelta(minutes=n)


@attrs.define
class _Outage:
    """The database refuses the next ``failures`` units of work, then recovers."""

    inner: UnitOfWorkFactory
    failures: int

    def __call__(self) -> UnitOfWork:
        if self.failures > 0:
            self.failures -= 1
            return _Refused()  # type: ignore[return-value]  # fails before any repository is used
        return self.inner()


class _Refused:
    async def __aenter__(self) -> Self:
        raise Unavailable("the database is restarting")

    async def __aexit__(self, *_: object) -> None:
        return None


async def test_a_database_outage_delays_dispatch_and_stops_nothing(world: World) -> None:
    await queue(world, USER, "hello")
    outage = _Outage(world.uow, failures=3)
    settle = SettleOutbox(
        outage, world.clock, world.messenger, world.chat, world.grant, world.refresh, world.alerts
    )
    dispatch = OutboxDispatcher(settle, world.clock)
    async with running(dispatch, poll_every=timedelta(milliseconds=50)) as run:
        await until(lambda: texts_to(world, USER) == ["hello"], "the message after the outage")
        assert not run.task.done()
    assert outage.failures == 0
    assert (await stored(world, USER, "hello")).status is OutboxStatus.DONE


async def test_an_earlier_payers_link_goes_out_before_later_payers_are_served() -> None:
    # One message per claim, as when a backlog fills every claim: the order of the
    # queue is then the order of service.
    world = build(dispatch=DispatchSettings(batch_size=1, concurrency=1))
    channel = await world.channel()
    first, later = UserId(42), UserId(43)
    await world.pay(await world.checkout.execute(first, channel.id, 1))
    world.clock.advance(timedelta(seconds=1))
    await world.pay(await world.checkout.execute(later, channel.id, 1))
    links_when_first_served: int | None = None
    for _ in range(10):
        await world.dispatch.run_once()
        if links_when_first_served is None and texts_to(world, first):
            links_when_first_served = len(world.chat.links)
    assert links_when_first_served == 1, "the later payer's link was made first"
    assert len(texts_to(world, later)) == 1
