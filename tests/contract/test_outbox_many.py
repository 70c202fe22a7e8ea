"""OutboxRepository.enqueue_many contract: the effects of a batch queued in one go,
each key still queued once."""

from __future__ import annotations

from datetime import datetime

from core.domain.ids import ChatId, GrantId, UserId
from core.domain.outbox import ApproveJoin, Effect, IssueInvite, OutboxMessage, OutboxStatus
from core.ports.repositories import UnitOfWorkFactory
from tests.contract.builders import at, commit_with, make_message, read


async def _enqueue(
    uow_factory: UnitOfWorkFactory, messages: list[tuple[str, Effect]], when: datetime
) -> None:
    await commit_with(uow_factory, lambda uow: uow.outbox.enqueue_many(messages, when))


async def _get(uow_factory: UnitOfWorkFactory, key: str) -> OutboxMessage | None:
    return await read(uow_factory, lambda uow: uow.outbox.get(key))


async def _pending(uow_factory: UnitOfWorkFactory) -> int:
    return await read(uow_factory, lambda uow: uow.outbox.pending_count())


async def _queued(
    uow_factory: UnitOfWorkFactory, key: str
) -> tuple[Effect, datetime, datetime, OutboxStatus]:
    message = await _get(uow_factory, key)
    assert message is not None, f"{key} was not queued"
    return message.effect, message.created_at, message.available_at, message.status


async def test_enqueueing_no_messages_queues_nothing(uow_factory: UnitOfWorkFactory) -> None:
    await _enqueue(uow_factory, [], at())

    assert await _pending(uow_factory) == 0


async def test_enqueue_many_queues_every_new_key_at_the_given_time(
    uow_factory: UnitOfWorkFactory,
) -> None:
    messages: list[tuple[str, Effect]] = [
        ("grant:su1:1", IssueInvite(GrantId("gr000001"))),
        ("thanks:in1", make_message("thanks")),
        ("approve:7", ApproveJoin(ChatId(-1001234567890), UserId(7))),
    ]

    await _enqueue(uow_factory, messages, at(minutes=1))

    assert await _pending(uow_factory) == 3
    for key, effect in messages:
        assert await _queued(uow_factory, key) == (
            effect,
            at(minutes=1),
            at(minutes=1),
            OutboxStatus.PENDING,
        )


async def test_of_copies_of_one_key_in_a_batch_only_the_first_is_queued(
    uow_factory: UnitOfWorkFactory,
) -> None:
    first, copy, other = make_message("first"), make_message("copy"), make_message("other")

    await _enqueue(uow_factory, [("k1", first), ("k2", other), ("k1", copy)], at())

    assert await _pending(uow_factory) == 2
    assert (await _queued(uow_factory, "k1"))[0] == first
    assert (await _queued(uow_factory, "k2"))[0] == other


async def test_enqueue_many_skips_keys_queued_before_and_keeps_the_earlier_message(
    uow_factory: UnitOfWorkFactory,
) -> None:
    earlier = make_message("earlier")
    await _enqueue(uow_factory, [("k1", earlier)], at())
    again, new = make_message("again"), make_message("new")

    await _enqueue(uow_factory, [("k1", again), ("k2", new)], at(minutes=5))

    assert await _pending(uow_factory) == 2
    assert await _queued(uow_factory, "k1") == (earlier, at(), at(), OutboxStatus.PENDING)
    assert (await _queued(uow_factory, "k2"))[:2] == (new, at(minutes=5))


async def test_messages_enqueued_in_a_unit_of_work_rolled_back_were_never_queued(
    uow_factory: UnitOfWorkFactory,
) -> None:
    messages: list[tuple[str, Effect]] = [("k1", make_message("a")), ("k2", make_message("b"))]
    async with uow_factory() as uow:
        await uow.outbox.enqueue_many(messages, at())

    assert await _pending(uow_factory) == 0
    assert await _get(uow_factory, "k1") is None
    await _enqueue(uow_factory, messages, at())
    assert [(await _queued(uow_factory, k))[0] for k, _ in messages] == [e for _, e in messages]


async def test_a_claim_bigger_than_a_statement_can_list_leases_every_message(
    uow_factory: UnitOfWorkFactory,
) -> None:
    # More ids than Postgres takes parameters in one statement (32,767).
    count = 33_000
    invites: list[tuple[str, Effect]] = [
        (f"k{n}", IssueInvite(GrantId(f"gr{n:06d}"))) for n in range(count)
    ]
    await _enqueue(uow_factory, invites, at())
    lease = at(minutes=5)

    claimed = await commit_with(
        uow_factory, lambda uow: uow.outbox.claim(at(minutes=1), count + 1, lease)
    )

    assert len(claimed) == count
    again = await commit_with(
        uow_factory, lambda uow: uow.outbox.claim(at(minutes=2), count + 1, at(minutes=6))
    )
    assert again == []  # every one of them is leased, none was left claimable
    last = await _get(uow_factory, f"k{count - 1}")
    assert last is not None and last.available_at == lease
