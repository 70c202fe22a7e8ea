"""The emulator speaks the current Bot API: a second, independent client (aiogram,
whose models are generated from the Bot API's own field lists and refuse an object
that lacks a required field) drives it through what PayGate does, and every answer
and every update it is handed must parse.

python-telegram-bot, which PayGate runs on, is more lenient (a missing field becomes
``None``); aiogram is the stricter check of the emulator's wire format.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    CallbackQuery,
    ChatFullInfo,
    ChatJoinRequest,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    ChatMemberRestricted,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    LoginUrl,
    Message,
    PreCheckoutQuery,
    Update,
)

from sandbox.telegram import FloodLimits, TelegramEmulator
from sandbox.telegram.stars import SUBSCRIPTION_PERIOD, PayOutcome

CHANNEL = -1009000000001
GROUP = -1009000000002
OWNER = 9000
ANN = 9001
BOB = 9002
CAROL = 9003
EVERY_UPDATE = [
    "message",
    "callback_query",
    "chat_join_request",
    "my_chat_member",
    "chat_member",
    "pre_checkout_query",
]


@pytest.fixture
async def emu() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator(flood=FloodLimits.off()) as emulator:
        emulator.add_user(OWNER, "Owner", username="owner")
        emulator.add_user(ANN, "Ann", language_code="es")
        emulator.add_user(BOB, "Bob")
        emulator.add_user(CAROL, "Carol")
        emulator.add_chat(CHANNEL, "channel", "Closed club", creator_id=OWNER)
        emulator.add_chat(GROUP, "supergroup", "Open talk", username="opentalk", creator_id=OWNER)
        yield emulator


@pytest.fixture
async def bot(emu: TelegramEmulator) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url))
    async with Bot(emu.token, session=session) as client:
        yield client


async def updates(bot: Bot, offset: int = 0) -> list[Update]:
    """Every pending update, parsed by aiogram, then confirmed."""
    found = await bot.get_updates(offset=offset, timeout=0, allowed_updates=EVERY_UPDATE)
    if found:
        await bot.get_updates(offset=found[-1].update_id + 1, timeout=0)
    return found


async def test_identity_chats_and_members_parse(bot: Bot, emu: TelegramEmulator) -> None:
    emu.set_member(CHANNEL, ANN)
    emu.set_member(GROUP, BOB, "restricted", ["can_send_messages"])
    emu.set_admin(GROUP, CAROL, "can_delete_messages", "can_pin_messages")
    await bot.ban_chat_member(CHANNEL, CAROL)

    me = await bot.get_me()
    channel = await bot.get_chat(CHANNEL)
    group = await bot.get_chat("@opentalk")
    private = await bot.get_chat(ANN)
    channel_admins = await bot.get_chat_administrators(CHANNEL)
    group_admins = await bot.get_chat_administrators(GROUP)
    members = {
        (chat, user): await bot.get_chat_member(chat, user)
        for chat, user in [(CHANNEL, ANN), (CHANNEL, CAROL), (CHANNEL, BOB), (GROUP, BOB)]
    }

    assert (me.id, me.is_bot, me.username) == (emu.bot.id, True, "paygate_test_bot")
    assert isinstance(channel, ChatFullInfo)
    assert (channel.type, channel.title, group.type, group.username) == (
        "channel",
        "Closed club",
        "supergroup",
        "opentalk",
    )
    assert (private.type, private.first_name) == ("private", "Ann")
    assert {type(m) for m in channel_admins} == {ChatMemberOwner, ChatMemberAdministrator}
    own = next(m for m in channel_admins if isinstance(m, ChatMemberAdministrator))
    assert (own.user.id, own.can_invite_users, own.can_post_messages) == (emu.bot.id, True, True)
    carol = next(m for m in group_admins if m.user.id == CAROL)
    assert isinstance(carol, ChatMemberAdministrator)
    assert (carol.can_pin_messages, carol.can_invite_users, carol.can_post_messages) == (
        True,
        False,
        None,
    )
    assert isinstance(members[(CHANNEL, ANN)], ChatMemberMember)
    assert isinstance(members[(CHANNEL, CAROL)], ChatMemberBanned)
    assert isinstance(members[(CHANNEL, BOB)], ChatMemberLeft)
    restricted = members[(GROUP, BOB)]
    assert isinstance(restricted, ChatMemberRestricted)
    assert (restricted.can_send_messages, restricted.can_send_polls) == (True, False)


async def test_messages_with_every_kind_of_button_and_their_presses_parse(
    bot: Bot, emu: TelegramEmulator
) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="Alpha", callback_data="tier:1")],
            [InlineKeyboardButton(text="Site", url="https://example.org/")],
            [
                InlineKeyboardButton(
                    text="Dashboard", login_url=LoginUrl(url="https://example.org/login")
                )
            ],
        ]
    )
    sent = await bot.send_message(
        CHANNEL, "<b>Closed</b> club: <i>pick</i> a tier", parse_mode="HTML", reply_markup=markup
    )
    edited = await bot.edit_message_text(
        "<b>Closed</b> club, sold out",
        chat_id=CHANNEL,
        message_id=sent.message_id,
        parse_mode="HTML",
        reply_markup=markup,
    )
    emu.user_sends(ANN, "/start tier1")
    emu.user_presses(ANN, CHANNEL, sent.message_id, "tier:1")
    got = await updates(bot)
    answered = await bot.answer_callback_query(got[1].callback_query.id, text="One moment")  # type: ignore[union-attr]
    private = await bot.send_message(ANN, "Hola", reply_markup=markup)

    assert isinstance(sent, Message)
    assert sent.text == "Closed club: pick a tier"
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [
        ("bold", 0, 6),
        ("italic", 13, 4),
    ]
    assert sent.sender_chat is not None and sent.sender_chat.id == CHANNEL
    assert edited.text == "Closed club, sold out"  # type: ignore[union-attr]
    assert sent.reply_markup is not None
    assert sent.reply_markup.model_dump(exclude_none=True) == markup.model_dump(exclude_none=True)
    assert [u.event_type for u in got] == ["message", "callback_query"]
    command = got[0].message
    assert command is not None and command.from_user is not None
    assert (command.text, command.from_user.language_code) == ("/start tier1", "es")
    assert command.entities is not None and command.entities[0].type == "bot_command"
    press = got[1].callback_query
    assert isinstance(press, CallbackQuery)
    assert (press.data, press.from_user.id) == ("tier:1", ANN)
    assert isinstance(press.message, Message) and press.message.message_id == sent.message_id
    assert answered is True
    assert private.chat.type == "private" and private.from_user is not None


async def test_join_requests_bans_and_member_updates_parse(bot: Bot, emu: TelegramEmulator) -> None:
    link = await bot.create_chat_invite_link(
        CHANNEL, name="Alpha for Ann", expire_date=emu.now() + 3600, creates_join_request=True
    )
    emu.user_opens_link(ANN, link.invite_link)
    emu.user_opens_link(BOB, link.invite_link)
    requested = await updates(bot)
    approved = await bot.approve_chat_join_request(CHANNEL, ANN)
    declined = await bot.decline_chat_join_request(CHANNEL, BOB)
    banned = await bot.ban_chat_member(CHANNEL, ANN, until_date=emu.now() + 86400)
    unbanned = await bot.unban_chat_member(CHANNEL, ANN, only_if_banned=True)
    emu.user_blocks_bot(BOB)
    changes = await updates(bot)

    assert (link.name, link.creates_join_request, link.is_revoked) == (
        "Alpha for Ann",
        True,
        False,
    )
    assert [u.event_type for u in requested] == ["chat_join_request"] * 2
    request = requested[0].chat_join_request
    assert isinstance(request, ChatJoinRequest)
    assert (request.from_user.id, request.user_chat_id) == (ANN, ANN)
    assert request.invite_link is not None and request.invite_link.invite_link == link.invite_link
    assert (approved, declined, banned, unbanned) == (True, True, True, True)
    assert [u.event_type for u in changes] == ["chat_member"] * 3 + ["my_chat_member"]
    statuses = []
    for update in changes:
        changed = update.chat_member or update.my_chat_member
        assert isinstance(changed, ChatMemberUpdated)
        statuses.append((changed.old_chat_member.status, changed.new_chat_member.status))
    assert statuses == [
        ("left", "member"),
        ("member", "kicked"),
        ("kicked", "left"),
        ("member", "kicked"),
    ]
    joined = changes[0].chat_member
    assert joined is not None and joined.invite_link is not None
    assert joined.invite_link.invite_link == link.invite_link


async def test_command_menus_per_scope_and_language_parse(bot: Bot) -> None:
    owner_menu = [BotCommand(command="channels", description="Your channels")]
    spanish = [BotCommand(command="start", description="Empezar")]

    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    await bot.set_my_commands(spanish, scope=BotCommandScopeAllPrivateChats(), language_code="es")
    await bot.set_my_commands(owner_menu, scope=BotCommandScopeChat(chat_id=OWNER))
    default = await bot.get_my_commands(scope=BotCommandScopeDefault())
    in_spanish = await bot.get_my_commands(
        scope=BotCommandScopeAllPrivateChats(), language_code="es"
    )
    owners = await bot.get_my_commands(scope=BotCommandScopeChat(chat_id=OWNER))
    await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=OWNER))

    assert [c.command for c in default] == ["start"]
    assert [(c.command, c.description) for c in in_spanish] == [("start", "Empezar")]
    assert [(c.command, c.description) for c in owners] == [("channels", "Your channels")]
    assert await bot.get_my_commands(scope=BotCommandScopeChat(chat_id=OWNER)) == []


async def pay(bot: Bot, emu: TelegramEmulator, user: int, url: str) -> tuple[Any, PreCheckoutQuery]:
    """The user taps Pay while the bot (aiogram) answers the pre-checkout query."""
    paying = asyncio.create_task(emu.user_pays(user, url))
    for _ in range(200):
        found = await updates(bot)
        if found:
            break
        await asyncio.sleep(0.01)
    query = found[0].pre_checkout_query
    assert isinstance(query, PreCheckoutQuery)
    assert await bot.answer_pre_checkout_query(query.id, ok=True) is True
    return await paying, query


async def test_a_stars_payment_and_its_refund_parse(bot: Bot, emu: TelegramEmulator) -> None:
    url = await bot.create_invoice_link(
        title="Subscription",
        description="30 days of Alpha",
        payload="order-1",
        currency="XTR",
        prices=[LabeledPrice(label="Alpha", amount=500)],
    )
    result, query = await pay(bot, emu, ANN, url)
    paid = await updates(bot)
    refunded = await bot.refund_star_payment(ANN, result.charge_id)

    assert result.outcome is PayOutcome.PAID
    assert (query.currency, query.total_amount, query.invoice_payload) == ("XTR", 500, "order-1")
    message = paid[0].message
    assert message is not None and message.successful_payment is not None
    payment = message.successful_payment
    assert (payment.total_amount, payment.telegram_payment_charge_id) == (500, result.charge_id)
    assert (payment.is_recurring, payment.subscription_expiration_date) == (None, None)
    assert refunded is True


async def test_link_changes_webhook_info_and_the_bots_own_standing_parse(
    bot: Bot, emu: TelegramEmulator
) -> None:
    link = await bot.create_chat_invite_link(CHANNEL, member_limit=1)
    edited = await bot.edit_chat_invite_link(CHANNEL, link.invite_link, name="Renamed")
    revoked = await bot.revoke_chat_invite_link(CHANNEL, link.invite_link)
    info = await bot.get_webhook_info()
    emu.set_bot_rights(GROUP, "administrator", ["can_invite_users", "can_restrict_members"])
    changed = await updates(bot)
    sent = await bot.send_message(GROUP, "bye")
    deleted = await bot.delete_message(GROUP, sent.message_id)

    assert (link.member_limit, edited.name, revoked.is_revoked) == (1, "Renamed", True)
    assert (info.url, info.pending_update_count) == ("", 0)
    mine = changed[0].my_chat_member
    assert isinstance(mine, ChatMemberUpdated)
    assert isinstance(mine.new_chat_member, ChatMemberAdministrator)
    assert mine.new_chat_member.can_restrict_members is True
    assert mine.new_chat_member.can_send_welcome_messages is False
    assert deleted is True


async def test_a_stars_subscription_its_renewal_and_its_cancellation_parse(
    bot: Bot, emu: TelegramEmulator
) -> None:
    url = await bot.create_invoice_link(
        title="Subscription",
        description="Alpha, renewed monthly",
        payload="order-2",
        currency="XTR",
        prices=[LabeledPrice(label="Alpha", amount=500)],
        subscription_period=SUBSCRIPTION_PERIOD,
    )
    result, _ = await pay(bot, emu, ANN, url)
    first = await updates(bot)
    renewed = emu.subscription_renews(result.charge_id)
    second = await updates(bot)
    canceled = await bot.edit_user_star_subscription(ANN, result.charge_id, is_canceled=True)

    paid = [u.message.successful_payment for u in first + second if u.message is not None]
    assert [(p.is_recurring, p.is_first_recurring) for p in paid if p is not None] == [
        (True, True),
        (True, None),
    ]
    assert paid[1] is not None and paid[1].telegram_payment_charge_id == renewed.charge_id
    assert paid[0] is not None and paid[0].subscription_expiration_date is not None
    assert paid[1].subscription_expiration_date is not None
    assert (paid[1].subscription_expiration_date - paid[0].subscription_expiration_date) == (
        SUBSCRIPTION_PERIOD
    )
    assert canceled is True
    assert emu.subscription_renews(result.charge_id).outcome is PayOutcome.CANCELED
