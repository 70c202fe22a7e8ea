"""Telegram's own Stars subscription link (issue 21): the owner switches it on at a
price (Telegram makes the link in the closed channel) or off (revoked); a member
Telegram reports through it holds a subscription to Telegram's until_date, recorded
once per report and moved on by renewals, that PayGate's expiry neither reminds nor
removes (Telegram does)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.outbound.system.ids import RandomIdGenerator
from core.domain.errors import InvalidChannel, NotAuthorized
from core.domain.ids import ChannelId, UserId
from core.domain.money import Money
from core.domain.outbox import RemoveMember
from core.domain.stars_link import STARS_LINK_TIER, StarsLinkMember
from core.domain.subscription import SubscriptionStatus
from core.services.stars_link import StarsLinkMembers, SwitchStarsLink
from tests.unit.services.world import CLOSED, OPEN, OWNER, World

ANN = UserId(501)


def _switch(world: World) -> SwitchStarsLink:
    return SwitchStarsLink(world.uow, world.clock, world.chat)


def _members(world: World) -> StarsLinkMembers:
    return StarsLinkMembers(world.uow, world.clock, RandomIdGenerator())


async def _on(world: World, stars: int = 500) -> tuple[ChannelId, str]:
    channel = await world.channel()
    switched = await _switch(world).execute(OWNER, channel.id, stars)
    assert switched.stars_link is not None
    return channel.id, switched.stars_link.url


async def test_switching_on_makes_telegrams_link_in_the_closed_channel(world: World) -> None:
    channel_id, url = await _on(world, 500)
    assert world.chat.subscription_links[url] == (CLOSED, Money.of("500", "XTR"))
    channel = await world.channel_now(channel_id)
    assert channel.stars_link is not None and channel.stars_link.url == url
    assert "channel.stars_link" in await world.audit_actions()


async def test_switching_off_revokes_the_link(world: World) -> None:
    channel_id, url = await _on(world)
    off = await _switch(world).execute(OWNER, channel_id, None)
    assert off.stars_link is None and url not in world.chat.subscription_links


@pytest.mark.parametrize("stars", [0, 10_001])
async def test_a_price_out_of_1_to_10000_stars_is_refused_and_no_link_made(
    world: World, stars: int
) -> None:
    channel = await world.channel()
    with pytest.raises(InvalidChannel):
        await _switch(world).execute(OWNER, channel.id, stars)
    assert world.chat.subscription_links == {}


async def test_someone_else_may_not_switch_it(world: World) -> None:
    channel = await world.channel()
    with pytest.raises(NotAuthorized):
        await _switch(world).execute(UserId(999), channel.id, 100)
    assert world.chat.subscription_links == {}


async def test_a_member_through_the_link_holds_a_subscription_to_until_date_once(
    world: World,
) -> None:
    channel_id, url = await _on(world)
    until = world.clock.now() + timedelta(days=30)
    report = StarsLinkMember(CLOSED, ANN, url, until)
    members = _members(world)
    assert await members.member(report)
    assert not await members.member(report)  # the same report again
    async with world.uow() as tx:
        sub = await tx.subscriptions.find(ANN, channel_id)
    assert sub is not None
    assert (sub.tier, sub.expires_at, sub.status) == (
        STARS_LINK_TIER,
        until,
        SubscriptionStatus.ACTIVE,
    )
    assert (await world.audit_actions()).count("subscription.stars_link") == 1


async def test_a_renewal_moves_the_end_to_the_new_until_date(world: World) -> None:
    channel_id, url = await _on(world)
    first = world.clock.now() + timedelta(days=30)
    members = _members(world)
    await members.member(StarsLinkMember(CLOSED, ANN, url, first))
    assert await members.member(StarsLinkMember(CLOSED, ANN, url, first + timedelta(days=30)))
    assert not await members.member(StarsLinkMember(CLOSED, ANN, url, first))  # an older one
    async with world.uow() as tx:
        sub = await tx.subscriptions.find(ANN, channel_id)
    assert sub is not None and sub.expires_at == first + timedelta(days=30)


@pytest.mark.parametrize("which", ["other link", "open chat", "past", "switched off"])
async def test_reports_of_anything_else_record_nothing(world: World, which: str) -> None:
    channel_id, url = await _on(world)
    until = world.clock.now() + timedelta(days=30)
    report = {
        "other link": StarsLinkMember(CLOSED, ANN, "https://t.me/+other", until),
        "open chat": StarsLinkMember(OPEN, ANN, url, until),
        "past": StarsLinkMember(CLOSED, ANN, url, world.clock.now()),
        "switched off": StarsLinkMember(CLOSED, ANN, url, until),
    }[which]
    if which == "switched off":
        await _switch(world).execute(OWNER, channel_id, None)
    assert not await _members(world).member(report)
    async with world.uow() as tx:
        assert await tx.subscriptions.find(ANN, channel_id) is None


async def test_expiry_neither_reminds_nor_removes_a_stars_link_member(world: World) -> None:
    _, url = await _on(world)
    until = world.clock.now() + timedelta(days=30)
    await _members(world).member(StarsLinkMember(CLOSED, ANN, url, until))
    world.clock.advance(timedelta(days=29, hours=12))
    assert (await world.expire.execute()).reminders == 0
    world.clock.advance(timedelta(hours=11))
    assert (await world.expire.execute()).expired == 0  # until_date still ahead
    world.clock.advance(timedelta(hours=2))
    assert (await world.expire.execute()).expired == 1
    assert not [e for e in await world.effects() if isinstance(e, RemoveMember)]
