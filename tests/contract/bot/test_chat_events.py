"""Join requests and the bot's own rights, from the emulated Telegram through the
real bot into the core, and (for join requests) back out through the real outbound
adapters the outbox dispatcher uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from adapters.catalog.refusals import pause_reason
from adapters.inbound.worker.outbox_dispatcher import OutboxDispatcher
from adapters.outbound.telegram import (
    PacedRateLimiter,
    TelegramBotClient,
    TelegramChatAccess,
    TelegramMessenger,
)
from core.domain.channel import Channel
from core.services.grant_access import GrantAccess
from core.services.refresh_link import RefreshLink
from core.services.settle_outbox import SettleOutbox
from sandbox.telegram import JoinOutcome
from tests.contract.bot.harness import STRANGER, SUBSCRIBER, Bot, button
from tests.contract.telegram.backends import FAST
from tests.unit.services.world import CLOSED, OPEN, OWNER

ALL_RIGHTS = [
    "can_post_messages",
    "can_edit_messages",
    "can_delete_messages",
    "can_invite_users",
    "can_restrict_members",
]


@pytest.fixture
async def dispatch(bot: Bot) -> AsyncIterator[OutboxDispatcher]:
    """The outbox dispatcher acting on the emulated Telegram, as the worker would."""
    client = TelegramBotClient(
        bot.emu.token, api_url=bot.emu.base_url, limiter=PacedRateLimiter(FAST)
    )
    async with client:
        access = TelegramChatAccess(client, now=bot.world.clock.now)
        world = bot.world
        settle = SettleOutbox(
            world.uow,
            world.clock,
            TelegramMessenger(client),
            access,
            GrantAccess(world.uow, world.clock, access),
            RefreshLink(world.uow, world.clock, access),
            world.alerts,
        )
        yield OutboxDispatcher(settle, world.clock)


async def drain(dispatch: OutboxDispatcher) -> None:
    while (await dispatch.run_once()).claimed:
        pass


async def personal_link(bot: Bot, channel: Channel, dispatch: OutboxDispatcher) -> str:
    invoice = await bot.world.checkout.execute(SUBSCRIBER, channel.id, 1)
    await bot.world.pay(invoice)
    await drain(dispatch)
    invite = next(m for m in bot.from_bot(SUBSCRIBER) if m.text.startswith("Payment confirmed"))
    url: str = button(invite, "Join Alpha Signals")["url"]
    return url


async def join_effects(bot: Bot, count: int) -> bool:
    """``count`` join effects queued (approve; notice and decline)."""
    return len([k for k in await bot.world.keys() if k.startswith("join:")]) == count


async def test_the_subscriber_is_let_in_and_a_stranger_with_the_same_link_is_declined(
    bot: Bot, channel: Channel, dispatch: OutboxDispatcher
) -> None:
    link = await personal_link(bot, channel, dispatch)

    assert bot.emu.user_opens_link(SUBSCRIBER, link) is JoinOutcome.REQUESTED
    assert bot.emu.user_opens_link(STRANGER, link) is JoinOutcome.REQUESTED
    await bot.until_true(lambda: join_effects(bot, 3), "both join requests decided")
    bot.world.clock.advance(timedelta(seconds=11))  # the decline waits for the notice
    await drain(dispatch)

    assert bot.emu.status_of(CLOSED, SUBSCRIBER) == "member"
    assert bot.emu.status_of(CLOSED, STRANGER) == "left"
    assert bot.emu.pending_requests(CLOSED) == []
    assert [m.text for m in bot.from_bot(STRANGER)] == [
        "I could not let you into Alpha Signals: there is no active subscription in your "
        "name. Invite links are personal; pick a tier from the channel's offer to subscribe."
    ]


async def test_a_join_request_to_a_chat_that_is_not_ours_is_left_alone(bot: Bot) -> None:
    other = -1005
    bot.emu.add_chat(other, "channel", "Somebody else's")
    link = (
        await bot.runner.application.bot.create_chat_invite_link(other, creates_join_request=True)
    ).invite_link

    bot.emu.user_opens_link(STRANGER, link)
    await bot.settle()

    assert await bot.world.keys() == []
    assert bot.emu.pending_requests(other) == [STRANGER]


async def paused(bot: Bot, channel: Channel) -> bool:
    return (await bot.world.channel_now(channel.id)).sales_paused


async def test_losing_admin_rights_in_the_closed_channel_pauses_sales_and_tells_the_owner(
    bot: Bot, channel: Channel
) -> None:
    bot.emu.set_bot_rights(CLOSED, "member")

    await bot.until_true(lambda: paused(bot, channel), "sales paused")

    stored = await bot.world.channel_now(channel.id)
    assert pause_reason(stored.pause_reason or "") == (
        "the bot is no longer an admin of the closed channel"
    )
    assert await bot.world.texts_to(OWNER) == [
        "Sales of Alpha Signals are paused: the bot is no longer an admin of the closed channel. "
        "Give the bot its admin rights back and sales resume by themselves."
    ]


async def test_losing_one_needed_right_pauses_sales(bot: Bot, channel: Channel) -> None:
    bot.emu.set_bot_rights(
        CLOSED, "administrator", [r for r in ALL_RIGHTS if r != "can_invite_users"]
    )

    await bot.until_true(lambda: paused(bot, channel), "sales paused")

    stored = await bot.world.channel_now(channel.id)
    assert pause_reason(stored.pause_reason or "") == (
        "the bot lost its right to invite users in the closed channel"
    )


async def test_losing_a_right_the_open_channel_does_not_need_changes_nothing(
    bot: Bot, channel: Channel
) -> None:
    bot.emu.set_bot_rights(OPEN, "administrator", ["can_post_messages", "can_delete_messages"])
    await bot.say(OWNER, "/help")  # an update handled after the rights change
    await bot.settle()

    assert not await paused(bot, channel)
    assert await bot.world.texts_to(OWNER) == []


async def test_sales_resume_when_the_rights_are_back(bot: Bot, channel: Channel) -> None:
    bot.emu.set_bot_rights(CLOSED, "member")
    await bot.until_true(lambda: paused(bot, channel), "sales paused")

    bot.emu.set_bot_rights(CLOSED, "administrator", ALL_RIGHTS)

    await bot.until_true(lambda: not_paused(bot, channel), "sales resumed")
    assert (await bot.world.channel_now(channel.id)).pause_reason is None
    assert (await bot.world.texts_to(OWNER))[-1] == (
        "Sales of Alpha Signals are back on: the bot has the rights it needs in both chats again."
    )


async def test_sales_stay_paused_while_the_other_chat_still_lacks_rights(
    bot: Bot, channel: Channel
) -> None:
    bot.emu.set_bot_rights(OPEN, "member")
    bot.emu.set_bot_rights(CLOSED, "member")
    await bot.until_true(lambda: paused(bot, channel), "sales paused")

    bot.emu.set_bot_rights(CLOSED, "administrator", ALL_RIGHTS)
    await bot.say(OWNER, "/help")
    await bot.settle()

    assert await paused(bot, channel)


async def not_paused(bot: Bot, channel: Channel) -> bool:
    return not await paused(bot, channel)


async def test_a_person_blocking_the_bot_is_not_a_channel_matter(
    bot: Bot, channel: Channel, caplog: pytest.LogCaptureFixture
) -> None:
    bot.emu.user_blocks_bot(SUBSCRIBER)
    await bot.say(OWNER, "/help")
    await bot.settle()

    assert not await paused(bot, channel)
    assert await bot.world.keys() == []
    assert "failed" not in caplog.text
