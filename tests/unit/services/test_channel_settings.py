from __future__ import annotations

import pytest

from adapters.catalog.notices import render
from adapters.catalog.refusals import refusal
from core.domain.errors import InvalidTier, MissingRights, NotAuthorized, UnknownChannel
from core.domain.ids import ChannelId, ChatId, UserId
from core.domain.outbox import SendMessage
from core.domain.rights import ChatRights, MemberStatus
from core.domain.tier import Tier
from tests.unit.services.world import CLOSED, OPEN, OWNER, World, usd


async def test_owner_sets_up_to_three_tiers_and_the_change_is_audited(world: World) -> None:
    channel = await world.channel()
    tiers = (Tier(1, usd(5), 7), Tier(2, usd(15), 30), Tier(3, usd(40), 90))
    await world.set_tiers.execute(OWNER, channel.id, tiers)
    stored = await world.channel_now(channel.id)
    assert stored.tiers == tiers
    assert (await world.audit_actions()).count("channel.tiers_set") == 2


async def test_only_the_owner_sets_tiers(world: World) -> None:
    channel = await world.channel()
    with pytest.raises(NotAuthorized):
        await world.set_tiers.execute(UserId(5), channel.id, (Tier(1, usd(1), 1),))
    assert (await world.channel_now(channel.id)).tiers[0].price == usd(10)


async def test_four_tiers_are_refused_and_nothing_changes(world: World) -> None:
    channel = await world.channel()
    with pytest.raises(InvalidTier):
        await world.set_tiers.execute(
            OWNER, channel.id, tuple(Tier(n % 3 + 1, usd(n + 1), 30) for n in range(4))
        )
    assert len((await world.channel_now(channel.id)).tiers) == 2


async def test_unknown_channel_is_a_clear_error(world: World) -> None:
    with pytest.raises(UnknownChannel):
        await world.set_tiers.execute(OWNER, ChannelId("nope"), ())


async def test_losing_rights_pauses_sales_once_and_tells_the_owner(world: World) -> None:
    channel = await world.channel()
    assert await world.sales.pause(CLOSED, "the bot is no longer an admin") is not None
    assert await world.sales.pause(CLOSED, "again") is None
    stored = await world.channel_now(channel.id)
    assert stored.sales_paused
    told = [e for e in await world.effects() if isinstance(e, SendMessage)]
    assert [e.chat_id for e in told] == [ChatId(OWNER)]
    assert "paused" in render(told[0].message).text


async def test_rights_back_resume_sales(world: World) -> None:
    channel = await world.channel()
    await world.sales.pause(CLOSED, "lost rights")
    assert await world.sales.resume(CLOSED) is not None
    assert not (await world.channel_now(channel.id)).sales_paused


def creator_gave_away(world: World, chat: ChatId) -> None:
    """The owner transferred the chat's ownership in Telegram and stayed an admin."""
    world.chat.set_member(chat, OWNER, ChatRights(MemberStatus.ADMINISTRATOR))
    world.chat.set_member(chat, UserId(77), ChatRights(MemberStatus.CREATOR))


async def test_an_owner_who_is_no_longer_creator_cannot_set_tiers(world: World) -> None:
    channel = await world.channel()
    creator_gave_away(world, OPEN)
    with pytest.raises(MissingRights) as info:
        await world.set_tiers.execute(OWNER, channel.id, (Tier(1, usd(1), 1),))
    assert refusal(info.value) == (
        f"You are not the creator of the open channel (chat {OPEN}) any more, "
        "and only the creator of both chats can change this channel."
    )
    assert (await world.channel_now(channel.id)).tiers == channel.tiers


async def test_an_owner_who_is_no_longer_creator_cannot_set_donation_limits(
    world: World,
) -> None:
    channel = await world.channel()
    creator_gave_away(world, CLOSED)
    with pytest.raises(MissingRights, match=r"which=closed"):
        await world.set_donations.execute(OWNER, channel.id, None)
    assert (await world.channel_now(channel.id)).donation_bounds == channel.donation_bounds


async def test_resuming_tells_the_owner_and_is_audited(world: World) -> None:
    channel = await world.channel()
    await world.sales.pause(CLOSED, "lost rights")
    await world.sales.resume(CLOSED)
    assert (await world.texts_to(OWNER))[-1] == (
        "Sales of Alpha Signals are back on: the bot has the rights it needs in both chats again."
    )
    assert (await world.audit_actions())[-1] == "channel.resumed"
    assert not (await world.channel_now(channel.id)).sales_paused


async def test_a_resume_for_an_older_pause_leaves_a_newer_pause_standing(world: World) -> None:
    channel = await world.channel()
    await world.sales.pause(CLOSED, "the bot cannot post there")
    await world.sales.resume(CLOSED)
    await world.sales.pause(OPEN, "the bot is no longer an admin of the open channel")

    late = await world.sales.resume_channel(channel.id, paused_for="the bot cannot post there")

    assert late is None
    assert (await world.channel_now(channel.id)).pause_reason == (
        "the bot is no longer an admin of the open channel"
    )
