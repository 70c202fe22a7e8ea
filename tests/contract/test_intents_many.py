"""IntentRepository.get_many / advance_many contract: a batch of notifications reads its
intents in one go and moves each with its own compare-and-set."""

from __future__ import annotations

import asyncio
import copy

import pytest

from core.domain.channel import Channel
from core.domain.ids import IntentId
from core.domain.intent_state import IntentStatus
from core.domain.payment import PaymentIntent, Purpose
from core.ports.errors import Conflict, NotFound
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from tests.contract.builders import (
    at,
    commit_with,
    given_channel,
    given_intents,
    make_event,
    make_intent,
    read,
)

HOLD = 0.05
"""Seconds a racing unit of work keeps its locks before committing."""


@pytest.fixture
async def channel(uow_factory: UnitOfWorkFactory) -> Channel:
    return await given_channel(uow_factory)


async def _statuses(
    uow_factory: UnitOfWorkFactory, intents: list[PaymentIntent]
) -> list[IntentStatus]:
    stored = await read(uow_factory, lambda uow: uow.intents.get_many([i.id for i in intents]))
    return [stored[i.id].status for i in intents]


def _moved(intent: PaymentIntent, status: IntentStatus) -> tuple[PaymentIntent, IntentStatus]:
    """A copy of ``intent`` moved to ``status``, with the status it was read at."""
    moved = copy.deepcopy(intent)
    moved.move_to(status, at(minutes=20))
    return moved, intent.status


async def test_getting_no_intents_finds_none(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    await given_intents(uow_factory, channel, 1)

    assert dict(await read(uow_factory, lambda uow: uow.intents.get_many([]))) == {}


async def test_get_many_finds_every_committed_intent_asked_for_and_leaves_out_the_missing(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    first, second, not_asked = await given_intents(uow_factory, channel, 3)
    ghost = IntentId("in999999")

    found = await read(uow_factory, lambda uow: uow.intents.get_many([second.id, ghost, first.id]))

    assert dict(found) == {first.id: first, second.id: second}
    assert not_asked.id not in found


async def test_get_many_never_sees_an_intent_rolled_back(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    (committed,) = await given_intents(uow_factory, channel, 1)
    rolled_back = make_intent(channel, purpose=Purpose.DONATION)
    async with uow_factory() as uow:
        await uow.intents.add(rolled_back)

    ids = [committed.id, rolled_back.id]
    found = await read(uow_factory, lambda uow: uow.intents.get_many(ids))

    assert dict(found) == {committed.id: committed}


async def test_advancing_no_intents_changes_nothing(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    intents = await given_intents(uow_factory, channel, 2)

    assert list(await commit_with(uow_factory, lambda uow: uow.intents.advance_many([]))) == []

    assert await _statuses(uow_factory, intents) == [IntentStatus.WAITING] * 2


@pytest.mark.parametrize("method", ["advance_many", "advance_all"])
async def test_advancing_stores_every_intent_still_at_its_previous_status_in_input_order(
    uow_factory: UnitOfWorkFactory, channel: Channel, method: str
) -> None:
    first, second, third = await given_intents(uow_factory, channel, 3)
    # Not in id order, so a backend answering in its own order shows.
    moves = [
        _moved(third, IntentStatus.FINISHED),
        _moved(first, IntentStatus.CONFIRMING),
        _moved(second, IntentStatus.FAILED),
    ]

    advanced = await commit_with(uow_factory, lambda uow: getattr(uow.intents, method)(moves))

    # advance_all answers nothing: it refuses instead (Conflict).
    assert advanced is None if method == "advance_all" else list(advanced) == [True] * 3
    stored = await read(uow_factory, lambda uow: uow.intents.get_many([i.id for i, _ in moves]))
    assert [stored[moved.id] for moved, _ in moves] == [moved for moved, _ in moves]


async def test_advance_many_refuses_a_stale_intent_and_stores_the_current_one(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    current, moved_on = await given_intents(uow_factory, channel, 2)
    moved_on.move_to(IntentStatus.CONFIRMING, at(minutes=5))
    await commit_with(uow_factory, lambda uow: uow.intents.update(moved_on))
    stale = make_intent(
        channel, intent_id=moved_on.id, purpose=Purpose.DONATION, status=IntentStatus.WAITING
    )
    # The stale one first, and after the current one in id order.
    moves = [_moved(stale, IntentStatus.FAILED), _moved(current, IntentStatus.FINISHED)]

    advanced = await commit_with(uow_factory, lambda uow: uow.intents.advance_many(moves))

    assert list(advanced) == [False, True]
    stored = await read(uow_factory, lambda uow: uow.intents.get_many([current.id, stale.id]))
    assert stored[moved_on.id] == moved_on
    assert stored[current.id] == moves[1][0]
    assert stored[current.id].status is IntentStatus.FINISHED


@pytest.mark.parametrize("method", ["advance_many", "advance_all"])
async def test_advancing_an_intent_given_twice_is_refused_at_once_and_stores_nothing(
    uow_factory: UnitOfWorkFactory, channel: Channel, method: str
) -> None:
    intent, other = await given_intents(uow_factory, channel, 2)
    moves = [
        _moved(other, IntentStatus.FINISHED),
        _moved(intent, IntentStatus.CONFIRMING),
        _moved(intent, IntentStatus.FINISHED),
    ]

    async with uow_factory() as uow:
        # At the call, not at the commit; the contract fixes the error, not its wording.
        with pytest.raises(ValueError):  # noqa: PT011
            await getattr(uow.intents, method)(moves)
        await uow.commit()

    assert await _statuses(uow_factory, [intent, other]) == [IntentStatus.WAITING] * 2


@pytest.mark.parametrize(
    ("method", "error"), [("advance_many", NotFound), ("advance_all", Conflict)]
)
async def test_advancing_an_intent_that_is_gone_is_refused_and_moves_none(
    uow_factory: UnitOfWorkFactory, channel: Channel, method: str, error: type[Exception]
) -> None:
    (known,) = await given_intents(uow_factory, channel, 1)
    ghost = make_intent(channel, purpose=Purpose.DONATION)
    moves = [_moved(known, IntentStatus.FINISHED), _moved(ghost, IntentStatus.FINISHED)]

    with pytest.raises(error):
        await commit_with(uow_factory, lambda uow: getattr(uow.intents, method)(moves))

    assert await _statuses(uow_factory, [known]) == [IntentStatus.WAITING]


async def test_intents_advanced_in_a_unit_of_work_rolled_back_keep_their_status(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    intents = await given_intents(uow_factory, channel, 2)
    moves = [_moved(i, IntentStatus.FINISHED) for i in intents]

    async with uow_factory() as uow:
        assert list(await uow.intents.advance_many(moves)) == [True, True]

    assert await _statuses(uow_factory, intents) == [IntentStatus.WAITING] * 2
    again = await commit_with(uow_factory, lambda uow: uow.intents.advance_many(moves))
    assert list(again) == [True, True]
    assert await _statuses(uow_factory, intents) == [IntentStatus.FINISHED] * 2


async def test_two_batches_advancing_the_same_intents_in_opposite_orders_one_wins_both(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    # Opposite orders are how two batches deadlock if each locks in its input order.
    first, second = await given_intents(uow_factory, channel, 2)

    async def batch(order: list[PaymentIntent], target: IntentStatus) -> list[bool]:
        moves = [_moved(intent, target) for intent in order]
        async with uow_factory() as uow:
            advanced = await uow.intents.advance_many(moves)
            await asyncio.sleep(HOLD)
            await uow.commit()
        return list(advanced)

    targets = [IntentStatus.CONFIRMING, IntentStatus.FINISHED]
    results = await asyncio.gather(
        batch([first, second], targets[0]), batch([second, first], targets[1])
    )

    assert sorted(results) == [[False, False], [True, True]]
    winner = targets[results.index([True, True])]
    assert await _statuses(uow_factory, [first, second]) == [winner, winner]


NO_HANG = 10.0
"""Seconds after which racing units of work that wait for each other fail the test."""


async def test_advance_all_with_an_intent_that_moved_on_is_refused_and_moves_none(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    current, raced = await given_intents(uow_factory, channel, 2)
    rival, _ = rival_move = _moved(raced, IntentStatus.CONFIRMING)
    assert await commit_with(uow_factory, lambda uow: uow.intents.advance(*rival_move))
    # The stale one first, and after the current one in id order.
    moves = [_moved(raced, IntentStatus.FAILED), _moved(current, IntentStatus.FINISHED)]

    with pytest.raises(Conflict):
        await commit_with(uow_factory, lambda uow: uow.intents.advance_all(moves))

    stored = await read(uow_factory, lambda uow: uow.intents.get_many([current.id, raced.id]))
    assert stored[raced.id] == rival
    assert stored[current.id] == current


async def test_a_unit_of_work_whose_advance_all_is_refused_stores_none_of_its_writes(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    current, raced = await given_intents(uow_factory, channel, 2)
    await commit_with(
        uow_factory, lambda uow: uow.intents.advance(*_moved(raced, IntentStatus.CONFIRMING))
    )
    event = make_event(current, status=IntentStatus.FINISHED)
    moves = [_moved(current, IntentStatus.FINISHED), _moved(raced, IntentStatus.FAILED)]

    async def write_and_advance(uow: UnitOfWork) -> None:
        await uow.events.add(event)
        await uow.intents.advance_all(moves)
        await uow.events.add(make_event(raced, status=IntentStatus.FAILED))

    with pytest.raises(Conflict):
        await commit_with(uow_factory, write_and_advance)

    assert list(await read(uow_factory, lambda uow: uow.events.for_intent(current.id))) == []
    assert list(await read(uow_factory, lambda uow: uow.events.for_intent(raced.id))) == []
    assert await _statuses(uow_factory, [current, raced]) == [
        IntentStatus.WAITING,
        IntentStatus.CONFIRMING,
    ]


async def test_two_units_of_work_advancing_all_of_the_same_intents_one_commits_both(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    # Opposite orders are how two batches deadlock if each locks in its input order.
    first, second = await given_intents(uow_factory, channel, 2)

    async def batch(order: list[PaymentIntent], target: IntentStatus) -> bool:
        moves = [_moved(intent, target) for intent in order]
        try:
            async with uow_factory() as uow:
                await uow.intents.advance_all(moves)
                await asyncio.sleep(HOLD)
                await uow.commit()
        except Conflict:
            return False
        return True

    targets = [IntentStatus.CONFIRMING, IntentStatus.FINISHED]
    async with asyncio.timeout(NO_HANG):
        results = await asyncio.gather(
            batch([first, second], targets[0]), batch([second, first], targets[1])
        )

    assert sorted(results) == [False, True]
    winner = targets[results.index(True)]
    assert await _statuses(uow_factory, [first, second]) == [winner, winner]
