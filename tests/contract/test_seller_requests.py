"""SellerRequestRepository contract, and the policy that reads it (ApprovedSellers):
one request per person, decided once, a race of deciders has one winner; the
approved and the listed may sell, nobody else."""

from __future__ import annotations

import asyncio

import pytest

from core.domain.ids import UserId
from core.domain.seller import MAX_NAME_LENGTH, SellerRequest, SellerStatus
from core.ports.errors import NotFound
from core.ports.repositories import UnitOfWorkFactory
from core.services.seller_requests import ApprovedSellers
from tests.contract.builders import at, commit_with, fresh_user, read

OPERATOR = UserId(9001)


async def _asked(uow_factory: UnitOfWorkFactory, name: str = "Ada Lovelace @ada") -> SellerRequest:
    request = SellerRequest(fresh_user(), name, at())
    assert await commit_with(uow_factory, lambda uow: uow.sellers.add(request))
    return request


async def test_a_request_reads_back_with_every_field(uow_factory: UnitOfWorkFactory) -> None:
    request = await _asked(uow_factory, "Zoë «Ω» " + "n" * 300)

    stored = await read(uow_factory, lambda uow: uow.sellers.get(request.user_id))

    assert stored == request
    assert stored is not None and len(stored.name) == MAX_NAME_LENGTH
    assert await read(uow_factory, lambda uow: uow.sellers.get(fresh_user())) is None


async def test_a_person_has_one_request(uow_factory: UnitOfWorkFactory) -> None:
    first = await _asked(uow_factory, "First")
    again = SellerRequest(first.user_id, "Again", at(hours=1))

    assert await commit_with(uow_factory, lambda uow: uow.sellers.add(again)) is False

    stored = await read(uow_factory, lambda uow: uow.sellers.get(first.user_id))
    assert stored is not None and (stored.name, stored.asked_at) == ("First", at())


async def test_a_decision_is_kept_and_a_decided_request_is_not_decided_again(
    uow_factory: UnitOfWorkFactory,
) -> None:
    request = await _asked(uow_factory)
    request.decide(OPERATOR, True, at(minutes=5))
    assert await commit_with(uow_factory, lambda uow: uow.sellers.decide(request))

    other = SellerRequest(request.user_id, request.name, request.asked_at)
    other.decide(UserId(9002), False, at(minutes=6))
    assert await commit_with(uow_factory, lambda uow: uow.sellers.decide(other)) is False

    stored = await read(uow_factory, lambda uow: uow.sellers.get(request.user_id))
    assert stored is not None
    assert (stored.status, stored.decided_by, stored.decided_at) == (
        SellerStatus.APPROVED,
        OPERATOR,
        at(minutes=5),
    )


async def test_racing_deciders_have_one_winner(uow_factory: UnitOfWorkFactory) -> None:
    request = await _asked(uow_factory)

    async def decide(operator: int) -> bool:
        mine = SellerRequest(request.user_id, request.name, request.asked_at)
        mine.decide(UserId(operator), operator % 2 == 0, at(minutes=operator))
        async with uow_factory() as uow:
            won = await uow.sellers.decide(mine)
            await asyncio.sleep(0.01)
            await uow.commit()
        return won

    outcomes = await asyncio.gather(*(decide(9000 + n) for n in range(4)))
    stored = await read(uow_factory, lambda uow: uow.sellers.get(request.user_id))

    assert outcomes.count(True) == 1
    winner = UserId(9000 + outcomes.index(True))
    assert stored is not None and stored.decided_by == winner
    assert stored.status is (SellerStatus.APPROVED if winner % 2 == 0 else SellerStatus.DECLINED)


async def test_a_decision_rolled_back_leaves_the_request_pending(
    uow_factory: UnitOfWorkFactory,
) -> None:
    request = await _asked(uow_factory)
    request.decide(OPERATOR, True, at(minutes=5))
    async with uow_factory() as uow:
        assert await uow.sellers.decide(request)

    stored = await read(uow_factory, lambda uow: uow.sellers.get(request.user_id))
    assert stored is not None and stored.status is SellerStatus.PENDING


async def test_an_update_overwrites_the_name_and_needs_a_stored_request(
    uow_factory: UnitOfWorkFactory,
) -> None:
    request = await _asked(uow_factory)
    request.name = ""
    await commit_with(uow_factory, lambda uow: uow.sellers.update(request))

    stored = await read(uow_factory, lambda uow: uow.sellers.get(request.user_id))
    assert stored is not None and stored.name == ""
    stranger = SellerRequest(fresh_user(), "", at())
    with pytest.raises(NotFound):
        await commit_with(uow_factory, lambda uow: uow.sellers.update(stranger))


async def test_the_listed_and_the_approved_may_sell_and_nobody_else(
    uow_factory: UnitOfWorkFactory,
) -> None:
    listed = fresh_user()
    approved, declined, waiting = [await _asked(uow_factory) for _ in range(3)]
    approved.decide(OPERATOR, True, at(minutes=1))
    declined.decide(OPERATOR, False, at(minutes=1))
    for decided in (approved, declined):
        async with uow_factory() as uow:
            assert await uow.sellers.decide(decided)
            await uow.commit()
    policy = ApprovedSellers(uow_factory, [listed])

    assert await policy.may_sell(listed)
    assert await policy.may_sell(approved.user_id)
    assert not await policy.may_sell(declined.user_id)
    assert not await policy.may_sell(waiting.user_id)
    assert not await policy.may_sell(fresh_user())
