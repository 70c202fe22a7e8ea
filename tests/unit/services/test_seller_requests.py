"""Requests to sell, decided by the operators: asked once, decided once, told, audited;
an approved person may register channels."""

from __future__ import annotations

import pytest

from core.domain.errors import ClosedToSellers, NotAuthorized, UnknownSellerRequest
from core.domain.ids import ChatId, UserId
from core.domain.messages import DecideSeller, SellerApproved, SellerAsked, SellerDeclined
from core.domain.outbox import SendMessage
from core.domain.seller import SellerStatus
from core.services.register_channel import RegisterChannel
from core.services.seller_requests import ApprovedSellers, Asked, SellerRequests
from tests.unit.services.world import CLOSED, OPEN, OWNER, World

OPERATORS = (UserId(9001), UserId(9002))
LISTED = UserId(4242)


def _requests(world: World) -> SellerRequests:
    return SellerRequests(world.uow, world.clock, OPERATORS)


async def _told(world: World, user: int) -> list[object]:
    return [
        e.message
        for e in await world.effects()
        if isinstance(e, SendMessage) and e.chat_id == ChatId(user)
    ]


async def test_asking_files_one_request_and_asks_every_operator(world: World) -> None:
    asked = await _requests(world).ask(OWNER, "Ada @ada")

    expected = SellerAsked(OWNER, "Ada @ada", DecideSeller(OWNER, True), DecideSeller(OWNER, False))
    assert asked is Asked.SENT
    assert [await _told(world, o) for o in OPERATORS] == [[expected], [expected]]
    assert await world.audit_actions() == ["seller.requested"]


async def test_asking_again_asks_nobody_again(world: World) -> None:
    requests = _requests(world)
    await requests.ask(OWNER, "Ada")

    assert await requests.ask(OWNER, "Ada") is Asked.WAITING
    assert len(await _told(world, OPERATORS[0])) == 1
    assert await world.audit_actions() == ["seller.requested"]


async def test_an_approved_person_is_told_and_may_sell(world: World) -> None:
    requests = _requests(world)
    policy = ApprovedSellers(world.uow, [LISTED])
    await requests.ask(OWNER, "Ada")
    assert not await policy.may_sell(OWNER)

    decision = await requests.decide(OPERATORS[1], OWNER, approve=True)

    assert decision.decided_now
    assert decision.request.status is SellerStatus.APPROVED
    assert decision.request.decided_by == OPERATORS[1]
    assert await policy.may_sell(OWNER)
    assert await policy.may_sell(LISTED)
    assert await _told(world, OWNER) == [SellerApproved()]
    assert await world.audit_actions() == ["seller.requested", "seller.approved"]
    assert await requests.ask(OWNER, "Ada") is Asked.APPROVED


async def test_a_declined_person_is_told_may_not_sell_and_asking_again_changes_nothing(
    world: World,
) -> None:
    requests = _requests(world)
    await requests.ask(OWNER, "Ada")

    await requests.decide(OPERATORS[0], OWNER, approve=False)

    assert not await ApprovedSellers(world.uow).may_sell(OWNER)
    assert await _told(world, OWNER) == [SellerDeclined()]
    assert await requests.ask(OWNER, "Ada") is Asked.DECLINED
    assert len(await _told(world, OPERATORS[0])) == 1


async def test_the_second_operator_to_press_learns_who_decided_and_changes_nothing(
    world: World,
) -> None:
    requests = _requests(world)
    await requests.ask(OWNER, "Ada")
    await requests.decide(OPERATORS[0], OWNER, approve=True)

    late = await requests.decide(OPERATORS[1], OWNER, approve=False)

    assert not late.decided_now
    assert (late.request.status, late.request.decided_by) == (SellerStatus.APPROVED, OPERATORS[0])
    assert await _told(world, OWNER) == [SellerApproved()]
    assert await world.audit_actions() == ["seller.requested", "seller.approved"]


async def test_only_an_operator_decides(world: World) -> None:
    requests = _requests(world)
    await requests.ask(OWNER, "Ada")

    with pytest.raises(NotAuthorized):
        await requests.decide(OWNER, OWNER, approve=True)
    assert not await ApprovedSellers(world.uow).may_sell(OWNER)


async def test_deciding_about_someone_who_never_asked_is_refused(world: World) -> None:
    with pytest.raises(UnknownSellerRequest):
        await _requests(world).decide(OPERATORS[0], UserId(5), approve=True)


async def test_once_approved_the_person_registers_a_channel(world: World) -> None:
    world.admin_chats()
    requests = _requests(world)
    register = RegisterChannel(
        world.uow, world.clock, _Ids(), world.chat, ApprovedSellers(world.uow)
    )
    with pytest.raises(ClosedToSellers):
        await register.execute(OWNER, OPEN, CLOSED, "Alpha")
    await requests.ask(OWNER, "Ada")
    await requests.decide(OPERATORS[0], OWNER, approve=True)

    channel = await register.execute(OWNER, OPEN, CLOSED, "Alpha")

    assert (await world.channel_now(channel.id)).owner_id == OWNER


class _Ids:
    def new_id(self) -> str:
        return "c1"
