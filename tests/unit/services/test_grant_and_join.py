from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.catalog.notices import render
from core.domain.grant import GrantMode, GrantStatus
from core.domain.ids import ChatId, GrantId, UserId
from core.domain.outbox import ApproveJoin, DeclineJoin, IssueInvite, SendMessage
from core.domain.rights import ChatRights, MemberStatus
from core.ports.telegram import NotEnoughRights
from core.services.fulfilment import FulfilmentSettings
from core.services.join_requests import JoinDecision
from tests.unit.services.world import CLOSED, OPEN, World, build

USER = UserId(42)
STRANGER = UserId(43)


async def paid(world: World) -> GrantId:
    channel = await world.channel()
    invoice = await world.checkout.execute(USER, channel.id, 1)
    await world.pay(invoice)
    grants = [e for e in await world.effects() if isinstance(e, IssueInvite)]
    assert len(grants) == 1
    return grants[0].grant_id


async def test_grant_creates_a_join_request_link_and_queues_it_for_the_subscriber(
    world: World,
) -> None:
    grant_id = await paid(world)
    assert await world.grant.execute(grant_id) is GrantStatus.LINK_ISSUED
    link = world.chat.links[-1]
    assert (link.chat_id, link.mode) == (CLOSED, GrantMode.JOIN_REQUEST)
    sent = [
        e for e in await world.effects() if isinstance(e, SendMessage) and e.chat_id == ChatId(USER)
    ]
    assert [b.url for row in render(sent[-1].message).buttons for b in row] == [link.url]


async def test_running_a_grant_twice_issues_one_link(world: World) -> None:
    grant_id = await paid(world)
    await world.grant.execute(grant_id)
    await world.grant.execute(grant_id)
    assert len(world.chat.links) == 1
    assert (await world.keys()).count(f"invite:{grant_id}") == 1


async def test_fallback_mode_issues_a_one_use_link_expiring_within_a_day() -> None:
    world = build(fulfilment=FulfilmentSettings(grant_mode=GrantMode.ONE_USE_LINK))
    grant_id = await paid(world)
    await world.grant.execute(grant_id)
    link = world.chat.links[-1]
    assert link.mode is GrantMode.ONE_USE_LINK
    assert link.expires_at == world.clock.now() + timedelta(hours=24)


async def test_a_grant_for_a_lapsed_subscription_is_cancelled_without_a_link(
    world: World,
) -> None:
    grant_id = await paid(world)
    world.clock.advance(timedelta(days=31))
    assert await world.grant.execute(grant_id) is GrantStatus.CANCELLED
    assert world.chat.links == []


async def test_the_subscriber_is_approved(world: World) -> None:
    await paid(world)
    decision = await world.join.execute(CLOSED, USER, world.clock.now())
    assert decision is JoinDecision.APPROVED
    assert ApproveJoin(CLOSED, USER) in await world.effects()


async def test_a_stranger_with_a_forwarded_link_is_declined_and_told_why(world: World) -> None:
    await paid(world)
    decision = await world.join.execute(CLOSED, STRANGER, world.clock.now())
    assert decision is JoinDecision.DECLINED
    effects = await world.effects()
    assert DeclineJoin(CLOSED, STRANGER) in effects
    assert ApproveJoin(CLOSED, STRANGER) not in effects
    assert any("no active subscription" in t for t in await world.texts_to(STRANGER))
    told = next(k for k in await world.keys() if k.endswith(":told"))
    async with world.uow() as tx:
        notice = await tx.outbox.get(told)
        decline = await tx.outbox.get(told.removesuffix(":told"))
    assert notice is not None
    assert decline is not None
    assert notice.available_at < decline.available_at


async def test_an_expired_subscriber_is_declined(world: World) -> None:
    await paid(world)
    world.clock.advance(timedelta(days=30, seconds=1))
    assert await world.join.execute(CLOSED, USER, world.clock.now()) is JoinDecision.DECLINED


async def test_a_redelivered_join_request_is_answered_once(world: World) -> None:
    await paid(world)
    at = world.clock.now()
    await world.join.execute(CLOSED, USER, at)
    await world.join.execute(CLOSED, USER, at)
    assert [e for e in await world.effects() if isinstance(e, ApproveJoin)] == [
        ApproveJoin(CLOSED, USER)
    ]


async def test_join_requests_elsewhere_are_ignored(world: World) -> None:
    await paid(world)
    assert await world.join.execute(OPEN, USER, world.clock.now()) is JoinDecision.IGNORED
    assert await world.join.execute(ChatId(-5), USER, world.clock.now()) is JoinDecision.IGNORED


async def test_grant_fails_loudly_when_the_bot_lost_its_invite_right(world: World) -> None:
    grant_id = await paid(world)
    world.chat.set_bot_rights(CLOSED, ChatRights(MemberStatus.MEMBER))
    with pytest.raises(NotEnoughRights):
        await world.grant.execute(grant_id)
    async with world.uow() as tx:
        assert (await tx.grants.get(grant_id)).status is GrantStatus.QUEUED
