"""The sweep that tells people their conversation timed out: each timed-out
conversation is told once, and stopping the bot does not cut a notice short (its
conversation has already left the store, so a cut notice would never be sent)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from telegram import Bot

from adapters.inbound.telegram.conversation import ConversationRouter, Route, TimeoutSweeper
from adapters.inbound.telegram.replies import Context
from adapters.outbound.memory.clock import FrozenClock
from adapters.outbound.memory.conversations import InMemoryConversationStore
from core.domain.ids import UserId
from core.ports.conversations import Conversation
from sandbox.telegram import new_token

TIMEOUT = timedelta(minutes=5)
OPEN = Conversation("register.open")


class SlowNotices:
    """A conversation part whose "timed out" notices wait until released."""

    def __init__(self) -> None:
        self.told: list[UserId] = []
        self.telling = asyncio.Event()
        self.release = asyncio.Event()

    def entry_routes(self) -> list[Route]:
        return []

    def step_routes(self) -> dict[str, list[Route]]:
        return {OPEN.step: []}

    async def cancelled(self, update: object, context: Context, conversation: Conversation) -> None:
        raise AssertionError("nobody cancels here")

    async def timed_out(self, bot: Bot, user_id: UserId, conversation: Conversation) -> None:
        self.telling.set()
        await self.release.wait()
        self.told.append(user_id)


async def test_stopping_lets_a_notice_in_progress_go_out() -> None:
    clock = FrozenClock()
    store = InMemoryConversationStore(clock)
    await store.put(UserId(7), OPEN, TIMEOUT)
    clock.advance(TIMEOUT)
    part = SlowNotices()
    sweeper = TimeoutSweeper(ConversationRouter([part], store, TIMEOUT), timedelta(milliseconds=10))
    await sweeper.start(Bot(new_token()))
    await asyncio.wait_for(part.telling.wait(), 5)

    stopping = asyncio.create_task(sweeper.stop())
    await asyncio.sleep(0.05)
    waited = not stopping.done()
    part.release.set()
    await asyncio.wait_for(stopping, 5)

    assert waited
    assert part.told == [UserId(7)]


async def test_each_timed_out_conversation_is_told_once_across_sweeps() -> None:
    clock = FrozenClock()
    store = InMemoryConversationStore(clock)
    for user in (UserId(1), UserId(2)):
        await store.put(user, OPEN, TIMEOUT)
    part = SlowNotices()
    part.release.set()
    sweeper = TimeoutSweeper(ConversationRouter([part], store, TIMEOUT), timedelta(milliseconds=10))
    await sweeper.start(Bot(new_token()))

    clock.advance(TIMEOUT)
    await asyncio.wait_for(part.telling.wait(), 5)
    await asyncio.sleep(0.1)  # several more sweeps
    await sweeper.stop()

    assert sorted(part.told) == [UserId(1), UserId(2)]
