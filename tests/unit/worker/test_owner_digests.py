"""An owner told of many payments at once gets digests, not a queue an hour long: one
chat takes about a message a second, so notices that wait together go out as one."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from adapters.inbound.worker.outbox_dispatcher import DispatchSettings
from core.domain.ids import ChatId, UserId
from core.domain.messages import Verbatim
from core.domain.outbox import OutboxStatus, SendMessage
from core.services import notices
from tests.unit.services.world import OWNER, World, build
from tests.unit.worker.test_outbox_dispatcher import dispatcher, running, until

USER = UserId(42)


async def notify(world: World, n: int, text: str | None = None) -> None:
    async with world.uow() as tx:
        await tx.outbox.enqueue(
            f"owner-paid:{n}",
            SendMessage(
                ChatId(OWNER),
                Verbatim(text or f"New subscription: user {n}"),
                fold=notices.OWNER_FOLD,
            ),
            world.clock.now(),
        )
        await tx.commit()


def owner_texts(world: World) -> list[str]:
    return [m.message.text for m in world.messenger.sent if m.chat_id == ChatId(OWNER)]


def notices_in(texts: list[str]) -> list[str]:
    """Every notice the owner read, whether alone or in a digest."""
    found: list[str] = []
    for text in texts:
        if "updates since" in text.splitlines()[0]:
            found += [line.removeprefix("• ") for line in text.splitlines()[2:]]
        else:
            found.append(text)
    return found


async def test_notices_waiting_together_go_out_as_one_digest(world: World) -> None:
    for n in range(12):
        await notify(world, n)

    report = await world.dispatch.run_once()

    (digest,) = owner_texts(world)
    assert digest.startswith("12 updates since 2026-03-01 12:00 UTC:")
    assert notices_in([digest]) == [f"New subscription: user {n}" for n in range(12)]
    assert report.done == 12
    for n in range(12):
        async with world.uow() as tx:
            message = await tx.outbox.get(f"owner-paid:{n}")
        assert message is not None and message.status is OutboxStatus.DONE


async def test_a_lone_notice_goes_out_as_it_is(world: World) -> None:
    await notify(world, 1)
    await world.dispatch.run_once()
    assert owner_texts(world) == ["New subscription: user 1"]


async def test_other_messages_to_the_owner_are_never_folded(world: World) -> None:
    await notify(world, 1)
    async with world.uow() as tx:
        reply = SendMessage(ChatId(OWNER), Verbatim("Sales are paused"))
        await tx.outbox.enqueue("paused", reply, world.clock.now())
        await tx.commit()
    await notify(world, 2)

    for _ in range(3):
        await world.dispatch.run_once()
        world.clock.advance(timedelta(seconds=2))

    assert "Sales are paused" in owner_texts(world)
    assert sorted(notices_in(owner_texts(world))) == sorted(
        ["New subscription: user 1", "New subscription: user 2", "Sales are paused"]
    )


async def test_a_digest_telegram_refused_is_retried_whole(world: World) -> None:
    for n in range(5):
        await notify(world, n)
    world.messenger.fail_next(1, retry_after=30)

    await world.dispatch.run_once()
    assert owner_texts(world) == []
    world.clock.advance(timedelta(seconds=31))
    await world.dispatch.run_once()

    (digest,) = owner_texts(world)
    assert len(notices_in([digest])) == 5


async def test_a_digest_stays_within_telegrams_length_and_shows_every_notice(
    world: World,
) -> None:
    long = "x" * 300
    for n in range(40):
        await notify(world, n, f"{n:02d} {long}")

    await world.drain()

    texts = owner_texts(world)
    assert 1 < len(texts) < 10
    assert all(len(t) <= 4096 for t in texts)
    assert sorted(notices_in(texts)) == [f"{n:02d} {long}" for n in range(40)]


async def test_a_running_dispatcher_folds_a_burst_behind_the_first_notice() -> None:
    world = build()
    dispatch = dispatcher(world, DispatchSettings(chat_spacing=timedelta(seconds=1)))
    async with running(dispatch) as run:
        await notify(world, 0)
        run.wakeup.set()
        await until(lambda: len(owner_texts(world)) == 1, "the first notice")
        for n in range(1, 26):
            await notify(world, n)
        run.wakeup.set()
        await asyncio.sleep(0.2)
        assert len(owner_texts(world)) == 1  # the owner's next turn has not come
        world.clock.advance(timedelta(seconds=1))
        run.wakeup.set()
        await until(lambda: len(notices_in(owner_texts(world))) == 26, "every notice")
    assert len(owner_texts(world)) <= 4
    assert sorted(notices_in(owner_texts(world))) == sorted(
        f"New subscription: user {n}" for n in range(26)
    )
