"""OutboxRepository contract: unique keys, leased claims, outcomes of tries."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from core.domain.ids import ChatId, GrantId, OutboxId, UserId
from core.domain.outbox import (
    ApproveJoin,
    DeclineJoin,
    Effect,
    IssueInvite,
    OutboxMessage,
    OutboxStatus,
    RemoveMember,
)
from core.ports.errors import NotFound
from core.ports.payment_ledger import PaymentChanges
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from tests.contract.builders import at, commit_with, make_message, read, saving

HOLD = 0.05
LEASE = timedelta(seconds=30)


async def _enqueue(
    uow_factory: UnitOfWorkFactory, items: Sequence[tuple[str, Effect, datetime]]
) -> list[bool]:
    async def enqueue_all(uow: UnitOfWork) -> list[bool]:
        return [await uow.outbox.enqueue(key, effect, when) for key, effect, when in items]

    return await commit_with(uow_factory, enqueue_all)


async def _claim(
    uow_factory: UnitOfWorkFactory, now: datetime, limit: int = 10
) -> list[OutboxMessage]:
    return list(
        await commit_with(uow_factory, lambda uow: uow.outbox.claim(now, limit, now + LEASE))
    )


async def _get(uow_factory: UnitOfWorkFactory, key: str) -> OutboxMessage:
    message = await read(uow_factory, lambda uow: uow.outbox.get(key))
    assert message is not None
    return message


async def test_every_kind_of_effect_reads_back_as_queued(uow_factory: UnitOfWorkFactory) -> None:
    chat, user = ChatId(-1001234567890), UserId(777)
    effects: list[Effect] = [
        make_message(),
        IssueInvite(GrantId("gr000001")),
        ApproveJoin(chat, user),
        DeclineJoin(chat, user),
        RemoveMember(chat, user),
    ]
    items = [(f"effect:{n}", effect, at(seconds=n)) for n, effect in enumerate(effects)]

    assert await _enqueue(uow_factory, items) == [True] * len(effects)

    for key, effect, when in items:
        stored = await _get(uow_factory, key)
        assert (stored.key, stored.effect, stored.status) == (key, effect, OutboxStatus.PENDING)
        assert (stored.created_at, stored.available_at, stored.attempts) == (when, when, 0)
        assert stored.last_error is None
        assert stored.created_at.utcoffset() == timedelta(0)


async def test_a_key_is_queued_once(uow_factory: UnitOfWorkFactory) -> None:
    first = make_message("first")

    assert await _enqueue(uow_factory, [("grant:su1:1", first, at())]) == [True]
    assert await _enqueue(uow_factory, [("grant:su1:1", make_message("again"), at())]) == [False]
    assert await _enqueue(uow_factory, [("k", first, at()), ("k", first, at())]) == [True, False]

    assert (await _get(uow_factory, "grant:su1:1")).effect == first
    assert await read(uow_factory, lambda uow: uow.outbox.pending_count()) == 2


async def test_an_unknown_key_has_no_message(uow_factory: UnitOfWorkFactory) -> None:
    assert await read(uow_factory, lambda uow: uow.outbox.get("nothing:here")) is None


async def test_saving_an_unknown_message_raises_not_found(uow_factory: UnitOfWorkFactory) -> None:
    await _enqueue(uow_factory, [("real", make_message(), at())])
    ghost = OutboxMessage(OutboxId("ghost0001"), "never-queued", make_message(), at(), at())

    with pytest.raises(NotFound):
        await read(uow_factory, lambda uow: uow.outbox.save(ghost))


async def test_a_claim_takes_due_pending_messages_oldest_first_up_to_the_limit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await _enqueue(
        uow_factory,
        [
            ("later", make_message(), at(minutes=5)),
            ("second", make_message(), at(minutes=2)),
            ("first", make_message(), at(minutes=1)),
            ("third", make_message(), at(minutes=3)),
            ("not-due", make_message(), at(minutes=11)),
        ],
    )

    claimed = await _claim(uow_factory, at(minutes=10), limit=3)

    assert [m.key for m in claimed] == ["first", "second", "third"]
    assert [m.effect for m in claimed] == [make_message()] * 3


async def test_a_claimed_message_is_hidden_until_its_lease_ends(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await _enqueue(uow_factory, [("job", make_message(), at())])
    now = at(minutes=1)

    assert [m.key for m in await _claim(uow_factory, now)] == ["job"]
    assert await _claim(uow_factory, now + LEASE - timedelta(seconds=1)) == []
    # The worker holding it crashed: at the lease's end it is due again.
    assert [m.key for m in await _claim(uow_factory, now + LEASE)] == ["job"]
    assert await read(uow_factory, lambda uow: uow.outbox.pending_count()) == 1


async def test_a_claim_rolled_back_gives_its_messages_back_at_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await _enqueue(uow_factory, [("job", make_message(), at())])
    async with uow_factory() as uow:
        assert len(await uow.outbox.claim(at(minutes=1), 10, at(minutes=1) + LEASE)) == 1

    assert [m.key for m in await _claim(uow_factory, at(minutes=1))] == ["job"]


async def test_done_and_dead_messages_are_never_claimed_again(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await _enqueue(uow_factory, [("done", make_message(), at()), ("dead", make_message(), at())])
    done, dead = await _claim(uow_factory, at(minutes=1))
    done.mark_done()
    dead.mark_failed("403: bot was blocked by the user", retry_at=None)

    async def save_both(uow: UnitOfWork) -> None:
        await uow.outbox.save(done)
        await uow.outbox.save(dead)

    await commit_with(uow_factory, save_both)

    assert await _claim(uow_factory, at(days=1)) == []
    assert await read(uow_factory, lambda uow: uow.outbox.pending_count()) == 0
    stored_dead = await _get(uow_factory, "dead")
    assert stored_dead.status is OutboxStatus.DEAD
    assert stored_dead.attempts == 1
    assert stored_dead.last_error == "403: bot was blocked by the user"
    assert (await _get(uow_factory, "done")).status is OutboxStatus.DONE


async def test_a_failed_try_comes_back_at_its_retry_time(uow_factory: UnitOfWorkFactory) -> None:
    await _enqueue(uow_factory, [("flaky", make_message(), at())])
    (message,) = await _claim(uow_factory, at(minutes=1))
    message.mark_failed("429: retry after 5", retry_at=at(minutes=1, seconds=5))
    await commit_with(uow_factory, lambda uow: uow.outbox.save(message))

    assert await _claim(uow_factory, at(minutes=1, seconds=4)) == []
    (again,) = await _claim(uow_factory, at(minutes=1, seconds=5))

    assert again.attempts == 1
    assert again.last_error == "429: retry after 5"


async def test_racing_claimers_share_the_due_messages_without_overlap(
    uow_factory: UnitOfWorkFactory,
) -> None:
    due = [f"job{n:02d}" for n in range(7)]
    await _enqueue(
        uow_factory,
        [(key, make_message(key), at(seconds=n)) for n, key in enumerate(due)]
        + [("future", make_message(), at(hours=1))],
    )
    now = at(minutes=1)

    async def claimer() -> list[str]:
        async with uow_factory() as uow:
            claimed = await uow.outbox.claim(now, 3, now + LEASE)
            await asyncio.sleep(HOLD)
            await uow.commit()
        return [m.key for m in claimed]

    shares = await asyncio.gather(*(claimer() for _ in range(4)))
    everything = [key for share in shares for key in share]

    assert sorted(everything) == due
    assert all(len(share) <= 3 for share in shares)
    assert await _claim(uow_factory, now) == []


async def test_changing_a_claimed_message_changes_nothing_until_saved(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await _enqueue(uow_factory, [("job", make_message(), at())])
    (claimed,) = await _claim(uow_factory, at(minutes=1))
    claimed.mark_done()

    assert (await _get(uow_factory, "job")).status is OutboxStatus.PENDING
    assert await read(uow_factory, lambda uow: uow.outbox.pending_count()) == 1


async def test_a_claim_bigger_than_a_statement_can_list_leases_every_message(
    uow_factory: UnitOfWorkFactory,
) -> None:
    # More ids than Postgres takes parameters in one statement (32,767).
    count = 33_000
    invites: list[tuple[str, Effect]] = [
        (f"k{n}", IssueInvite(GrantId(f"gr{n:06d}"))) for n in range(count)
    ]
    # Queued as a batch of payments queues them (one statement on Postgres).
    await commit_with(uow_factory, saving(PaymentChanges(messages=invites)))
    lease = at(minutes=5)

    claimed = await commit_with(
        uow_factory, lambda uow: uow.outbox.claim(at(minutes=1), count + 1, lease)
    )

    assert len(claimed) == count
    again = await commit_with(
        uow_factory, lambda uow: uow.outbox.claim(at(minutes=2), count + 1, at(minutes=6))
    )
    assert again == []  # every one of them is leased, none was left claimable
    last = await read(uow_factory, lambda uow: uow.outbox.get(f"k{count - 1}"))
    assert last is not None and last.available_at == lease
