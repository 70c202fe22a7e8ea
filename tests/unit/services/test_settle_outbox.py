"""The rule for one queued effect, without the worker's runtime: what a try leaves
behind (done, due again, dead) and how a claim hides a message while it is tried."""

from __future__ import annotations

from datetime import timedelta

from core.domain.ids import ChatId
from core.domain.messages import Verbatim
from core.domain.outbox import OutboxMessage, OutboxStatus, SendMessage
from core.ports.alerts import Severity
from core.services.settle_outbox import RetryPolicy, SettleOutbox, shared
from tests.unit.services.world import OWNER, World, build

LEASE = timedelta(minutes=2)


def settler(world: World, retry: RetryPolicy | None = None) -> SettleOutbox:
    return SettleOutbox(
        world.uow,
        world.clock,
        world.messenger,
        world.chat,
        world.grant,
        world.refresh,
        world.alerts,
        retry,
    )


async def claimed(world: World, settle: SettleOutbox, *texts: str) -> list[OutboxMessage]:
    async with world.uow() as tx:
        for text in texts:
            effect = SendMessage(ChatId(OWNER), Verbatim(text))
            await tx.outbox.enqueue(f"test:{text}", effect, world.clock.now())
        await tx.commit()
    return await settle.store_and_claim([], len(texts), LEASE)


async def test_a_failed_effect_is_due_again_after_a_backoff_that_doubles() -> None:
    world = build()
    settle = settler(world, RetryPolicy(base_backoff=timedelta(seconds=5)))
    [message] = await claimed(world, settle, "hello")
    waits = []
    for _ in range(3):
        world.messenger.fail_next(count=1)
        await settle.settle(message)
        waits.append(message.available_at - world.clock.now())
    assert waits == [timedelta(seconds=5), timedelta(seconds=10), timedelta(seconds=20)]
    assert message.status is OutboxStatus.PENDING


async def test_telegrams_wait_wins_over_a_shorter_backoff() -> None:
    world = build()
    settle = settler(world)
    [message] = await claimed(world, settle, "hello")
    world.messenger.fail_next(count=1, retry_after=30)
    await settle.settle(message)
    assert message.available_at == world.clock.now() + timedelta(seconds=30)


async def test_the_last_allowed_try_failing_dead_letters_the_message_with_an_alert() -> None:
    world = build()
    settle = settler(world, RetryPolicy(max_attempts=2))
    [message] = await claimed(world, settle, "hello")
    outcomes = []
    for _ in range(2):
        world.messenger.fail_next(count=1)
        outcomes.append(await settle.settle(message))
    assert message.status is OutboxStatus.DEAD
    await settle.store_and_claim(outcomes[-1:], 0, LEASE)
    assert [a.severity for a in world.alerts.alerts] == [Severity.CRITICAL]
    assert "outbox.dead" in await world.audit_actions()


async def test_a_claimed_message_stays_hidden_until_its_lease_ends() -> None:
    world = build()
    settle = settler(world)
    assert len(await claimed(world, settle, "hello")) == 1
    assert await settle.store_and_claim([], 10, LEASE) == []
    world.clock.advance(LEASE + timedelta(seconds=1))
    [again] = await settle.store_and_claim([], 10, LEASE)
    assert again.key == "test:hello"


async def test_a_stored_outcome_settles_the_message_for_good() -> None:
    world = build()
    settle = settler(world)
    [message] = await claimed(world, settle, "hello")
    await settle.store_and_claim([await settle.settle(message)], 0, LEASE)
    world.clock.advance(LEASE + timedelta(seconds=1))
    assert await settle.store_and_claim([], 10, LEASE) == []
    assert [m.message.text for m in world.messenger.sent] == ["hello"]


async def test_a_message_folded_into_a_digest_shares_its_carriers_fate() -> None:
    world = build()
    settle = settler(world, RetryPolicy(max_attempts=1))
    carrier, rider = await claimed(world, settle, "first", "second")
    world.messenger.fail_next(count=1)
    outcome = await settle.settle(carrier)
    assert carrier.status is OutboxStatus.DEAD
    assert shared(rider, outcome).message.status is OutboxStatus.DEAD
    assert rider.last_error == carrier.last_error
