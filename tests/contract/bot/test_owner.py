"""Owners in the bot: /register (at once or step by step, or reclaiming a pair),
/channels, /tiers, /donations, /repost and /resume."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import attrs
import pytest

from adapters.inbound.telegram import BotDeps
from adapters.outbound.memory.sellers import AllowlistedSellers
from core.domain.channel import Channel, DonationBounds
from core.domain.ids import ChannelId, ChatId, UserId
from core.domain.rights import ChatRights, MemberStatus, Right
from core.domain.tier import Tier
from core.services.register_channel import RegisterChannel
from tests.contract.bot.harness import STRANGER, Bot, bot_deps, polling_bot
from tests.unit.services.world import CLOSED, OPEN, OWNER, START, TIERS, World, build, usd


@pytest.fixture
async def fresh() -> AsyncIterator[Bot]:
    """No channel registered yet; the owner created both chats and made the bot an
    admin of each."""
    world = build()
    world.admin_chats()
    async with polling_bot(world) as running:
        yield running


async def channels_of(bot: Bot) -> list[Channel]:
    async with bot.world.uow() as tx:
        return list(await tx.channels.by_owner(OWNER))


async def test_register_at_once_registers_the_pair(fresh: Bot) -> None:
    answer = await fresh.say(OWNER, f"/register {OPEN} {CLOSED} Alpha Signals")

    (channel,) = await channels_of(fresh)
    assert answer.text.splitlines()[0] == "Alpha Signals is registered as channel 1."
    assert (channel.owner_id, channel.open_chat_id, channel.closed_chat_id, channel.title) == (
        OWNER,
        OPEN,
        CLOSED,
        "Alpha Signals",
    )


async def test_register_step_by_step_takes_a_username_an_id_and_a_title(fresh: Bot) -> None:
    first = await fresh.say(OWNER, "/register")
    second = await fresh.say(OWNER, "@alpha_signals")
    third = await fresh.say(OWNER, str(CLOSED))
    done = await fresh.say(OWNER, "Alpha Signals")

    (channel,) = await channels_of(fresh)
    assert first.text.startswith("Let's connect your channels")
    assert second.text.startswith("Now the closed (private) channel")
    assert third.text.startswith("Last, the title subscribers see")
    assert done.text.splitlines()[0] == "Alpha Signals is registered as channel 1."
    assert (channel.open_chat_id, channel.closed_chat_id) == (OPEN, CLOSED)


async def test_register_refuses_the_same_chat_twice_and_asks_again(fresh: Bot) -> None:
    await fresh.say(OWNER, "/register")
    await fresh.say(OWNER, str(OPEN))

    refused = await fresh.say(OWNER, "@alpha_signals")
    asked = await fresh.say(OWNER, str(CLOSED))

    assert refused.text == "The closed channel must be a different chat from the open one."
    assert asked.text.startswith("Last, the title subscribers see")


async def test_register_by_someone_who_is_not_an_admin_is_refused(fresh: Bot) -> None:
    await fresh.say(STRANGER, "/register")
    await fresh.say(STRANGER, str(OPEN))
    await fresh.say(STRANGER, str(CLOSED))

    answer = await fresh.say(STRANGER, "Not mine")

    assert answer.text == (
        "Only the creator of the open channel can register it.\nSend /register to start again."
    )
    assert await channels_of(fresh) == []


async def test_register_by_an_admin_who_did_not_create_the_chats_is_refused(fresh: Bot) -> None:
    for chat in (OPEN, CLOSED):
        fresh.world.chat.set_member(chat, STRANGER, ChatRights(MemberStatus.ADMINISTRATOR))

    answer = await fresh.say(STRANGER, f"/register {OPEN} {CLOSED} Not mine")

    assert answer.text == (
        "Only the creator of the open channel can register it; you are an admin there, "
        "not its creator: ask its creator to register it."
    )
    async with fresh.world.uow() as tx:
        assert list(await tx.channels.all()) == []


async def test_register_with_a_name_telegram_does_not_know_says_so(fresh: Bot) -> None:
    answer = await fresh.say(OWNER, f"/register @nobody_here {CLOSED} Alpha")

    assert answer.text == "I cannot find @nobody_here; check the name."


async def test_register_with_too_few_words_explains_the_two_ways(fresh: Bot) -> None:
    answer = await fresh.say(OWNER, f"/register {OPEN} {CLOSED}")

    assert answer.text == (
        "Write /register <open channel> <closed channel> <title>, "
        "or just /register and I will ask for each."
    )


async def test_register_can_be_cancelled(fresh: Bot) -> None:
    await fresh.say(OWNER, "/register")

    answer = await fresh.say(OWNER, "/cancel")
    after = await fresh.say(OWNER, str(OPEN))

    assert answer.text == "Registration cancelled."
    assert after.text == "I did not understand that. /help lists what I can do."


async def test_an_idle_registration_times_out(fresh: Bot) -> None:
    await fresh.say(OWNER, "/register")
    await fresh.say(OWNER, str(OPEN))
    asked = fresh.last_id(OWNER)
    await fresh.idle()

    fresh.world.clock.advance(timedelta(minutes=5))
    timed_out = await fresh.answer_to(OWNER, asked)
    late = await fresh.say(OWNER, str(CLOSED))

    assert timed_out.text == "Registration timed out. Send /register to start again."
    assert late.text == "I did not understand that. /help lists what I can do."
    assert await channels_of(fresh) == []


async def test_channels_lists_the_owners_channels_and_their_state(
    bot: Bot, channel: Channel
) -> None:
    await bot.world.sales.pause(CLOSED, "the bot is no longer an admin of Alpha Signals VIP")

    answer = await bot.say(OWNER, "/channels")

    assert answer.text.splitlines() == [
        "Your channels:",
        "1. Alpha Signals — paused (the bot is no longer an admin of Alpha Signals VIP)",
        f"   open {OPEN}, closed {CLOSED}",
        "   tiers: 30 days — 10 USD; 90 days — 25 USD",
        "   donations: 1 USD to 500 USD",
    ]


async def test_tiers_shows_the_current_tiers(bot: Bot, channel: Channel) -> None:
    answer = await bot.say(OWNER, "/tiers")

    assert answer.text.splitlines()[:3] == [
        "1. Alpha Signals",
        "   • tier 1: 30 days — 10 USD",
        "   • tier 2: 90 days — 25 USD",
    ]


async def test_tiers_sets_up_to_three_tiers(bot: Bot, channel: Channel) -> None:
    answer = await bot.say(OWNER, "/tiers 1 1=12USD/30d 2=30.50USD/90d 3=100usd/365d")

    stored = await bot.world.channel_now(channel.id)
    assert stored.tiers == (
        Tier(1, usd(12), 30),
        Tier(2, usd("30.50"), 90),
        Tier(3, usd(100), 365),
    )
    assert answer.text.splitlines()[:2] == [
        "Alpha Signals: tiers saved.",
        "• tier 1: 30 days — 12 USD",
    ]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            "/tiers 1 1=12/30d",
            "I could not read “1=12/30d”: write each tier as number=price/days, "
            "such as 1=10USD/30d 2=25USD/90d.",
        ),
        ("/tiers 1 4=10USD/30d", "Tiers are numbered 1 to 3, not 4."),
        ("/tiers 1 1=10USD/30d 1=20USD/60d", "Each tier number may appear only once."),
        ("/tiers 1 1=10USD/30d 2=20EUR/60d", "All tiers of a channel are priced in one currency."),
        ("/tiers 1 1=10.555USD/30d", "A tier's price has at most 2 decimals."),
        ("/tiers 2 1=10USD/30d", "You have no channel 2; /channels lists yours."),
    ],
)
async def test_tiers_explains_what_is_wrong_and_changes_nothing(
    bot: Bot, channel: Channel, command: str, expected: str
) -> None:
    answer = await bot.say(OWNER, command)

    assert answer.text == expected
    assert (await bot.world.channel_now(channel.id)).tiers == channel.tiers


async def test_someone_without_channels_cannot_set_tiers(bot: Bot, channel: Channel) -> None:
    answer = await bot.say(STRANGER, "/tiers 1 1=1USD/30d")

    assert answer.text == "You have no channels yet. Send /register to connect one."
    assert (await bot.world.channel_now(channel.id)).tiers == channel.tiers


async def test_donations_sets_and_turns_off_the_limits(bot: Bot, channel: Channel) -> None:
    set_answer = await bot.say(OWNER, "/donations 1 2USD-100USD")
    stored = await bot.world.channel_now(channel.id)
    off_answer = await bot.say(OWNER, "/donations 1 off")

    assert stored.donation_bounds == DonationBounds(usd(2), usd(100))
    assert set_answer.text == "Alpha Signals: donations from 2 USD to 100 USD."
    assert (await bot.world.channel_now(channel.id)).donation_bounds is None
    assert off_answer.text == "Alpha Signals: donations are off."


async def test_repost_posts_a_fresh_offer_once_per_cooldown(bot: Bot, channel: Channel) -> None:
    first = await bot.say(OWNER, "/repost 1")
    second = await bot.say(OWNER, "/repost 1")

    posted = [p for p in bot.world.messenger.sent if p.chat_id == OPEN]
    assert first.text == "Alpha Signals: a fresh offer is posted in the open channel."
    assert second.text == "The offer was posted moments ago; try again in 10 minutes."
    assert len(posted) == 1
    assert posted[0].message.text.startswith("Subscribe to Alpha Signals")


async def test_register_takes_a_message_forwarded_from_the_channel(fresh: Bot) -> None:
    await fresh.say(OWNER, "/register")
    after = fresh.last_id(OWNER)
    fresh.emu.hub.emit(
        "message",
        {
            "message_id": 900,
            "from": {"id": OWNER, "is_bot": False, "first_name": "Olivia"},
            "chat": {"id": OWNER, "type": "private", "first_name": "Olivia"},
            "date": int(fresh.world.clock.now().timestamp()),
            "text": "Today's signal: buy low",
            "forward_origin": {
                "type": "channel",
                "date": int(fresh.world.clock.now().timestamp()),
                "chat": {"id": OPEN, "type": "channel", "title": "Alpha Signals"},
                "message_id": 12,
            },
        },
    )
    asked = await fresh.answer_to(OWNER, after)
    await fresh.say(OWNER, str(CLOSED))
    await fresh.say(OWNER, "Alpha Signals")

    (channel,) = await channels_of(fresh)
    assert asked.text.startswith("Now the closed (private) channel")
    assert channel.open_chat_id == OPEN


async def test_tiers_of_one_channel_and_donations_without_arguments_show_the_settings(
    bot: Bot, channel: Channel
) -> None:
    tiers = await bot.say(OWNER, "/tiers 1")
    donations = await bot.say(OWNER, "/donations")

    assert tiers.text.splitlines()[0] == "1. Alpha Signals"
    assert donations.text.splitlines()[0] == "1. Alpha Signals: 1 USD to 500 USD"


async def test_unreadable_donation_limits_change_nothing(bot: Bot, channel: Channel) -> None:
    answer = await bot.say(OWNER, "/donations 1 lots")

    assert answer.text == "Write the limits as minimum-maximum, such as 1USD-500USD, or off."
    assert (await bot.world.channel_now(channel.id)).donation_bounds == channel.donation_bounds


async def test_repost_without_a_channel_number_says_how(bot: Bot, channel: Channel) -> None:
    answer = await bot.say(OWNER, "/repost")

    assert answer.text == (
        "Write /repost and the channel's number from /channels, such as /repost 1."
    )
    assert bot.world.messenger.sent == []


# ------------------------------------------------------------------ /resume
async def test_resume_brings_sales_back_once_the_bot_has_its_rights(
    bot: Bot, channel: Channel
) -> None:
    await bot.world.sales.pause(OPEN, "the bot cannot post there (chat not found)")

    answer = await bot.say(OWNER, "/resume 1")

    assert (
        answer.text == "Alpha Signals: the bot has its rights in both chats, so sales are back on."
    )
    assert not (await bot.world.channel_now(channel.id)).sales_paused


async def test_resume_says_what_the_bot_lacks_in_which_chat_and_keeps_sales_paused(
    bot: Bot, channel: Channel
) -> None:
    await bot.world.sales.pause(OPEN, "the bot cannot post there (not enough rights)")
    bot.world.chat.set_bot_rights(OPEN, ChatRights(MemberStatus.ADMINISTRATOR, frozenset()))
    bot.world.chat.set_bot_rights(
        CLOSED,
        ChatRights(
            MemberStatus.ADMINISTRATOR,
            frozenset({Right.POST_MESSAGES, Right.DELETE_MESSAGES, Right.RESTRICT_MEMBERS}),
        ),
    )

    answer = await bot.say(OWNER, "/resume 1")

    assert answer.text == (
        "I cannot resume Alpha Signals yet. The bot needs: delete messages, post messages in "
        "Alpha Signals (the open channel); invite users in Alpha Signals VIP (the closed "
        "channel).\nGive it those rights, then send /resume 1 again."
    )
    assert (await bot.world.channel_now(channel.id)).sales_paused


async def test_resume_of_a_channel_that_is_selling_says_there_is_nothing_to_do(
    bot: Bot, channel: Channel
) -> None:
    answer = await bot.say(OWNER, "/resume 1")

    assert answer.text == "Alpha Signals: sales are not paused, so there is nothing to resume."


async def test_resume_of_a_selling_channel_whose_bot_lacks_a_right_says_which(
    bot: Bot, channel: Channel
) -> None:
    bot.world.chat.set_bot_rights(CLOSED, ChatRights(MemberStatus.MEMBER))

    answer = await bot.say(OWNER, "/resume 1")

    assert answer.text == (
        "Alpha Signals: sales are not paused, but the bot needs: to be an admin with "
        "delete messages, invite users, post messages, restrict members in Alpha Signals VIP "
        "(the closed channel).\nGive it those rights, or sales pause at the next check."
    )


async def test_resume_where_the_bot_left_a_chat_asks_to_add_it_back(
    bot: Bot, channel: Channel
) -> None:
    await bot.world.sales.pause(CLOSED, "the bot is not in the closed channel any more")
    bot.world.chat.forget_chat(CLOSED)

    answer = await bot.say(OWNER, "/resume 1")

    assert answer.text == (
        "Add the bot as an admin of the closed channel first: "
        "I cannot see who created it otherwise."
    )


async def test_resume_by_someone_without_channels_touches_nothing(
    bot: Bot, channel: Channel
) -> None:
    await bot.world.sales.pause(OPEN, "a refused post")

    answer = await bot.say(STRANGER, "/resume 1")
    usage = await bot.say(OWNER, "/resume")

    assert answer.text == "You have no channels yet. Send /register to connect one."
    assert usage.text == (
        "Write /resume and the channel's number from /channels, such as /resume 1."
    )
    assert (await bot.world.channel_now(channel.id)).sales_paused


async def test_an_owner_who_gave_the_chat_away_cannot_change_the_channel(
    bot: Bot, channel: Channel
) -> None:
    bot.world.chat.set_member(CLOSED, OWNER, ChatRights(MemberStatus.ADMINISTRATOR))

    answer = await bot.say(OWNER, "/tiers 1 1=1USD/30d")

    assert answer.text == (
        f"You are not the creator of the closed channel (chat {CLOSED}) any more, and only "
        "the creator of both chats can change this channel."
    )
    assert (await bot.world.channel_now(channel.id)).tiers == channel.tiers


# ---------------------------------------------------------------- reclaiming
async def taken_by_stranger(bot: Bot) -> Channel:
    """The pair as STRANGER, an admin of both chats, registered it before creators
    were required."""
    channel = Channel(
        id=ChannelId("taken"),
        owner_id=STRANGER,
        open_chat_id=OPEN,
        closed_chat_id=CLOSED,
        title="Alpha Signals",
        created_at=START,
        tiers=TIERS,
    )
    async with bot.world.uow() as tx:
        await tx.channels.add(channel)
        await tx.commit()
    return channel


async def test_the_creator_reclaims_a_pair_an_admin_registered(fresh: Bot) -> None:
    taken = await taken_by_stranger(fresh)

    answer = await fresh.say(OWNER, f"/register {OPEN} {CLOSED} Alpha")

    assert answer.text == (
        "Alpha Signals is yours now, as channel 1: you created both of its chats, so it moved "
        "to you from whoever registered it. It keeps its subscribers, tiers and donation "
        "limits; check them with /tiers 1 and /donations."
    )
    assert [c.id for c in await channels_of(fresh)] == [taken.id]
    assert (await fresh.world.texts_to(STRANGER)) == [
        "The creator of the chats of Alpha Signals has taken the channel over: "
        "it is no longer yours to manage in PayGate."
    ]
    assert (await fresh.say(STRANGER, "/channels")).text == (
        "You have no channels yet. Send /register to connect one."
    )


async def test_the_creator_of_one_chat_of_a_registered_pair_is_told_what_to_do(
    fresh: Bot,
) -> None:
    await taken_by_stranger(fresh)
    other = ChatId(-1003)
    fresh.emu.add_chat(other, "channel", "Olivia's other VIP", creator_id=OWNER)
    fresh.world.chat.add_chat(other)
    fresh.world.chat.set_member(other, OWNER, ChatRights(MemberStatus.CREATOR))
    fresh.world.chat.set_member(CLOSED, OWNER, ChatRights(MemberStatus.MEMBER))

    answer = await fresh.say(OWNER, f"/register {OPEN} {other} Alpha")

    assert answer.text == (
        f"The open channel is already part of a channel someone else registered (open {OPEN}, "
        f"closed {CLOSED}). Only the creator of both of its chats can take it over, by "
        f"registering exactly that pair, and you did not create chat {CLOSED}: ask its creator."
    )
    async with fresh.world.uow() as tx:
        assert (await tx.channels.get(ChannelId("taken"))).owner_id == UserId(STRANGER)


async def test_a_user_the_operator_did_not_list_is_told_this_paygate_takes_no_sellers() -> None:
    world = build()
    world.admin_chats()

    def listed_only(world: World) -> BotDeps:
        register = RegisterChannel(
            world.uow, world.clock, _Ids(), world.chat, AllowlistedSellers([UserId(7)])
        )
        return attrs.evolve(bot_deps(world), register=register)

    async with polling_bot(world, listed_only) as bot:
        answer = await bot.say(OWNER, f"/register {OPEN} {CLOSED} Alpha")
        asked = await bot.say(OWNER, "/register")
        after = await bot.say(OWNER, str(OPEN))

    assert answer.text == "This PayGate is not open for new sellers; ask its operator."
    assert asked.text == "This PayGate is not open for new sellers; ask its operator."
    assert after.text == "I did not understand that. /help lists what I can do."
    async with world.uow() as tx:
        assert list(await tx.channels.all()) == []


class _Ids:
    def new_id(self) -> str:
        return "c1"
