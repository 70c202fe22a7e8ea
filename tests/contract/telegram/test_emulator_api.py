"""The emulator speaks the Bot API's wire format: paths, bodies, answers and errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import Bot, Update

from sandbox.telegram import FloodLimits, Rate, TelegramEmulator, new_token

CHANNEL = -1002000000001
ANN = 3001


@pytest.fixture
async def emu() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator(flood=FloodLimits.off()) as emulator:
        emulator.add_user(ANN, "Ann")
        emulator.add_chat(CHANNEL, "channel", "Closed")
        yield emulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(trust_env=False) as session:
        yield session


async def call(
    http: aiohttp.ClientSession, emu: TelegramEmulator, method: str, **params: Any
) -> tuple[int, dict[str, Any]]:
    async with http.post(f"{emu.base_url}/bot{emu.token}/{method}", json=params) as response:
        body: dict[str, Any] = await response.json()
        return response.status, body


async def test_a_wrong_token_is_unauthorized_and_a_malformed_one_not_found(
    emu: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{emu.base_url}/bot{new_token()}/getMe") as response:
        assert (response.status, await response.json()) == (
            401,
            {"ok": False, "error_code": 401, "description": "Unauthorized"},
        )
    async with http.get(f"{emu.base_url}/botnot-a-token/getMe") as response:
        assert (response.status, await response.json()) == (
            404,
            {"ok": False, "error_code": 404, "description": "Not Found"},
        )
    async with http.get(f"{emu.base_url}/bot{emu.token}/sendTeleport") as response:
        assert response.status == 404


async def test_query_string_form_and_json_bodies_are_all_read(
    emu: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    base = f"{emu.base_url}/bot{emu.token}/sendMessage"
    async with http.get(base, params={"chat_id": str(ANN), "text": "by query"}) as response:
        assert response.status == 200
    async with http.post(base, data={"chat_id": str(ANN), "text": "by form"}) as response:
        assert response.status == 200
    async with http.post(base, json={"chat_id": ANN, "text": "by json"}) as response:
        body = await response.json()

    assert body["ok"] is True
    assert body["result"]["chat"] == {"id": ANN, "first_name": "Ann", "type": "private"}
    assert [m.text for m in emu.messages(ANN)] == ["by query", "by form", "by json"]


async def test_refusals_carry_telegrams_descriptions(
    emu: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    emu.add_user(3002, "Shy", started_bot=False)

    answers = [
        await call(http, emu, "sendMessage", chat_id=-100999, text="x"),
        await call(http, emu, "sendMessage", chat_id=ANN, text=" "),
        await call(http, emu, "sendMessage", chat_id=3002, text="x"),
        await call(
            http,
            emu,
            "createChatInviteLink",
            chat_id=CHANNEL,
            member_limit=1,
            creates_join_request=True,
        ),
        await call(http, emu, "approveChatJoinRequest", chat_id=CHANNEL, user_id=ANN),
        await call(http, emu, "createChatInviteLink", chat_id=CHANNEL, expire_date=1),
        await call(
            http,
            emu,
            "sendMessage",
            chat_id=ANN,
            text="x",
            reply_markup={"inline_keyboard": [[{"text": "b", "callback_data": "x" * 65}]]},
        ),
    ]

    assert [(status, body["description"]) for status, body in answers] == [
        (400, "Bad Request: chat not found"),
        (400, "Bad Request: message text is empty"),
        (403, "Forbidden: bot can't initiate conversation with a user"),
        (
            400,
            "Bad Request: member limit can't be specified for links requiring "
            "administrator approval",
        ),
        (400, "Bad Request: HIDE_REQUESTER_MISSING"),
        (400, "Bad Request: EXPIRE_DATE_INVALID"),
        (400, "Bad Request: BUTTON_DATA_INVALID"),
    ]
    assert all(body["error_code"] == status for status, body in answers)
    assert [c.ok for c in emu.calls] == [False] * 7


async def test_a_bot_that_lost_its_rights_is_told_so(
    emu: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    emu.set_bot_rights(CHANNEL, "administrator", ["can_post_messages"])

    answers = [
        await call(http, emu, "createChatInviteLink", chat_id=CHANNEL),
        await call(http, emu, "banChatMember", chat_id=CHANNEL, user_id=ANN),
    ]
    emu.set_bot_rights(CHANNEL, "left")
    answers.append(await call(http, emu, "sendMessage", chat_id=CHANNEL, text="x"))

    assert [body["description"] for _, body in answers] == [
        "Bad Request: not enough rights to manage chat invite link",
        "Bad Request: not enough rights to restrict/unrestrict chat member",
        "Forbidden: bot is not a member of the channel chat",
    ]


async def test_what_the_emulator_sends_parses_as_ptb_objects(emu: TelegramEmulator) -> None:
    emu.add_chat(-1002000000002, "supergroup", "Team")
    async with Bot(emu.token, base_url=f"{emu.base_url}/bot") as bot:
        link = await bot.create_chat_invite_link(CHANNEL, name="n", creates_join_request=True)
        emu.user_opens_link(ANN, link.invite_link)
        emu.set_admin(CHANNEL, ANN, "can_post_messages")
        member = await bot.get_chat_member(CHANNEL, ANN)
        admins = await bot.get_chat_administrators(-1002000000002)
        chat = await bot.get_chat(CHANNEL)
        (update,) = await bot.get_updates()

    assert isinstance(update, Update)
    request = update.chat_join_request
    assert request is not None
    assert (request.chat.id, request.from_user.id, request.user_chat_id) == (CHANNEL, ANN, ANN)
    assert request.invite_link is not None
    assert request.invite_link.invite_link == link.invite_link
    assert request.invite_link.pending_join_request_count == 1
    assert (member.status, getattr(member, "can_post_messages", None)) == ("administrator", True)
    assert [a.user.id for a in admins] == [bot.id]
    assert (chat.id, chat.title, chat.type) == (CHANNEL, "Closed", "channel")


async def test_ban_until_and_unban_without_only_if_banned(
    emu: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    emu.set_member(CHANNEL, ANN)

    await call(http, emu, "unbanChatMember", chat_id=CHANNEL, user_id=ANN, only_if_banned=True)
    assert emu.status_of(CHANNEL, ANN) == "member"
    await call(http, emu, "unbanChatMember", chat_id=CHANNEL, user_id=ANN)
    assert emu.status_of(CHANNEL, ANN) == "left"  # the one-call kick
    await call(http, emu, "banChatMember", chat_id=CHANNEL, user_id=ANN, until_date=5)
    assert emu.status_of(CHANNEL, ANN) == "kicked"
    assert emu.chat(CHANNEL).members[ANN].until_date == 0  # under 30 s means forever


async def test_control_api_over_http_sets_up_and_acts(
    emu: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    root = f"{emu.base_url}/_emulator"
    async with http.post(f"{root}/users", json={"id": 3005, "first_name": "Cy"}) as r:
        assert r.status == 200
    async with http.post(f"{root}/users/3005/messages", json={"text": "/start tok"}) as r:
        message = await r.json()
    async with http.put(f"{root}/flood", json={"private_chat": [2, 1.0]}) as r:
        assert r.status == 200
    async with http.get(f"{root}/chats/{CHANNEL}") as r:
        shown = await r.json()

    assert message["entities"] == [{"offset": 0, "length": 6, "type": "bot_command"}]
    assert [u["message"]["text"] for u in emu.hub.pending] == ["/start tok"]
    assert emu.flood.limits.private_chat == Rate(2, 1.0)
    assert shown["chat"]["title"] == "Closed"
