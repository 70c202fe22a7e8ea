"""The emulator's Telegram Stars subscription links (createChatSubscriptionInviteLink):
channels only, 30 days, 1-10000 Stars; joining through one charges the Stars and makes
a member whose ``until_date`` ends the paid period; a renewal moves it on and a
canceled subscription lapses, each told to the bot as a chat_member update that
python-telegram-bot reads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from telegram import Bot, ChatMemberLeft, ChatMemberMember
from telegram.error import BadRequest

from sandbox.telegram import FloodLimits, TelegramEmulator

CHANNEL = -1002000000001
GROUP = -1002000000002
ANN = 3001
MONTH = 2_592_000


@pytest.fixture
async def emu() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator(flood=FloodLimits.off()) as emulator:
        emulator.add_user(ANN, "Ann")
        emulator.add_chat(CHANNEL, "channel", "Closed")
        emulator.add_chat(GROUP, "supergroup", "Team")
        yield emulator


@pytest.fixture
async def bot(emu: TelegramEmulator) -> AsyncIterator[Bot]:
    async with Bot(emu.token, base_url=f"{emu.base_url}/bot") as b:
        await _member_updates(b)  # asks for chat_member updates, as Telegram needs
        yield b


async def _member_updates(bot: Bot) -> list[Any]:
    updates = await bot.get_updates(allowed_updates=["chat_member"])
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1, allowed_updates=["chat_member"])
    return [u.chat_member for u in updates if u.chat_member is not None]


@pytest.mark.parametrize(
    ("chat", "period", "price", "refusal"),
    [
        (GROUP, MONTH, 500, "Chat_type_invalid"),
        (CHANNEL, 86_400, 500, "Subscription_period_invalid"),
        (CHANNEL, MONTH, 0, "Subscription_price_invalid"),
        (CHANNEL, MONTH, 10_001, "Subscription_price_invalid"),
    ],
)
async def test_a_subscription_link_is_for_channels_30_days_and_1_to_10000_stars(
    bot: Bot, chat: int, period: int, price: int, refusal: str
) -> None:
    with pytest.raises(BadRequest) as refused:
        await bot.create_chat_subscription_invite_link(chat, period, price)
    assert refused.value.message == refusal


async def test_the_bot_needs_the_right_to_invite(emu: TelegramEmulator, bot: Bot) -> None:
    emu.set_bot_rights(CHANNEL, "administrator", ["can_post_messages"])
    with pytest.raises(BadRequest, match="Not enough rights"):
        await bot.create_chat_subscription_invite_link(CHANNEL, MONTH, 500)
    assert emu.links(CHANNEL) == []


async def test_joining_through_the_link_charges_stars_and_sets_until_date(
    emu: TelegramEmulator, bot: Bot
) -> None:
    link = await bot.create_chat_subscription_invite_link(CHANNEL, MONTH, 500, name="Stars")
    assert (link.subscription_period, link.subscription_price, link.name) == (
        timedelta(seconds=MONTH),
        500,
        "Stars",
    )
    edited = await bot.edit_chat_subscription_invite_link(CHANNEL, link.invite_link, "Monthly")
    assert (edited.name, edited.subscription_price) == ("Monthly", 500)
    assert str(emu.user_opens_link(ANN, link.invite_link)) == "joined"

    (joined,) = await _member_updates(bot)
    assert joined.invite_link is not None and joined.invite_link.invite_link == link.invite_link
    assert joined.invite_link.subscription_price == 500
    member = joined.new_chat_member
    assert isinstance(member, ChatMemberMember) and member.user.id == ANN
    assert member.until_date is not None
    charge = emu.channel_subscription(CHANNEL, ANN)
    assert charge is not None
    assert int(member.until_date.timestamp()) == emu.stars.subscriptions[charge].until
    assert 0 <= emu.stars.subscriptions[charge].until - MONTH - joined.date.timestamp() <= 1
    assert emu.stars.charges[charge].invoice.amount == 500
    seen = await bot.get_chat_member(CHANNEL, ANN)
    assert isinstance(seen, ChatMemberMember) and seen.until_date == member.until_date


async def test_a_renewal_moves_until_date_on_and_a_canceled_one_lapses(
    emu: TelegramEmulator, bot: Bot
) -> None:
    link = await bot.create_chat_subscription_invite_link(CHANNEL, MONTH, 250)
    emu.user_opens_link(ANN, link.invite_link)
    (joined,) = await _member_updates(bot)
    first_end = joined.new_chat_member.until_date

    renewed = emu.channel_subscription_renews(CHANNEL, ANN)

    (renewal,) = await _member_updates(bot)
    assert str(renewed.outcome) == "paid"
    assert renewal.old_chat_member.until_date == first_end
    assert (renewal.new_chat_member.until_date - first_end).total_seconds() == MONTH
    assert len(emu.stars.charges) == 2

    charge = emu.channel_subscription(CHANNEL, ANN)
    assert charge is not None and emu.user_edits_subscription(ANN, charge, canceled=True)
    lapsed = emu.channel_subscription_renews(CHANNEL, ANN)

    (left,) = await _member_updates(bot)
    assert str(lapsed.outcome) == "canceled" and len(emu.stars.charges) == 2
    assert isinstance(left.new_chat_member, ChatMemberLeft)
    assert emu.status_of(CHANNEL, ANN) == "left"
    assert emu.channel_subscription(CHANNEL, ANN) is None


async def test_the_control_api_renews_a_channel_subscription(
    emu: TelegramEmulator, bot: Bot
) -> None:
    link = await bot.create_chat_subscription_invite_link(CHANNEL, MONTH, 100)
    emu.user_opens_link(ANN, link.invite_link)
    charge = emu.channel_subscription(CHANNEL, ANN)
    first_end = emu.chat(CHANNEL).members[ANN].until_date
    async with (
        aiohttp.ClientSession(trust_env=False) as http,
        http.post(f"{emu.base_url}/_emulator/chats/{CHANNEL}/subscribers/{ANN}/renew") as answer,
    ):
        body = await answer.json()
    assert (answer.status, body["outcome"], body["subscription"]) == (200, "paid", charge)
    assert emu.chat(CHANNEL).members[ANN].until_date == first_end + MONTH
