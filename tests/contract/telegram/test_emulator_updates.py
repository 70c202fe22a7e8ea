"""Updates from simulated users: getUpdates semantics and webhook delivery."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from sandbox.telegram import SECRET_HEADER, FloodLimits, JoinOutcome, TelegramEmulator

CHANNEL = -1004000000001
ANN = 4001
BOB = 4002


@pytest.fixture
async def emu() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator(flood=FloodLimits.off(), webhook_retry_delay=0.05) as emulator:
        emulator.add_user(ANN, "Ann")
        emulator.add_user(BOB, "Bob")
        emulator.add_chat(CHANNEL, "channel", "Closed")
        yield emulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(trust_env=False) as session:
        yield session


async def call(
    http: aiohttp.ClientSession, emu: TelegramEmulator, method: str, **params: Any
) -> dict[str, Any]:
    async with http.post(f"{emu.base_url}/bot{emu.token}/{method}", json=params) as response:
        body: dict[str, Any] = await response.json()
        return body


def kinds(updates: list[dict[str, Any]]) -> list[str]:
    return [next(k for k in u if k != "update_id") for u in updates]


async def test_get_updates_hands_out_updates_until_confirmed_by_offset(
    emu: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    emu.user_sends(ANN, "/start abc")
    emu.user_sends(BOB, "hello")
    emu.user_sends(ANN, "again")

    first = (await call(http, emu, "getUpdates", limit=2))["result"]
    same = (await call(http, emu, "getUpdates", limit=2))["result"]
    rest = (await call(http, emu, "getUpdates", offset=first[-1]["update_id"] + 1))["result"]
    empty = (await call(http, emu, "getUpdates", offset=rest[-1]["update_id"] + 1))["result"]

    assert first == same
    assert [u["message"]["text"] for u in first + rest] == ["/start abc", "hello", "again"]
    ids = [u["update_id"] for u in first + rest]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert first[0]["message"]["from"]["id"] == ANN
    assert empty == []


async def test_a_negative_offset_keeps_only_the_latest(
    emu: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    for text in ("one", "two", "three"):
        emu.user_sends(ANN, text)

    latest = (await call(http, emu, "getUpdates", offset=-1))["result"]

    assert [u["message"]["text"] for u in latest] == ["three"]
    assert len(emu.hub.pending) == 1


async def test_a_long_poll_returns_as_soon_as_an_update_arrives(
    emu: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(call(http, emu, "getUpdates", timeout=5))
    await asyncio.sleep(0.1)
    emu.user_sends(ANN, "wake up")

    body = await poll

    assert [u["message"]["text"] for u in body["result"]] == ["wake up"]
    assert time.monotonic() - started < 2


async def test_a_long_poll_with_nothing_to_say_waits_its_timeout(
    emu: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    started = time.monotonic()
    body = await call(http, emu, "getUpdates", timeout=1)

    assert body == {"ok": True, "result": []}
    assert 0.9 < time.monotonic() - started < 3


async def test_a_second_poller_terminates_the_first(
    emu: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    first = asyncio.create_task(call(http, emu, "getUpdates", timeout=5))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(call(http, emu, "getUpdates", timeout=5))
    await asyncio.sleep(0.1)
    emu.user_sends(ANN, "hi")

    assert (await first)["error_code"] == 409
    assert (await first)["description"].startswith("Conflict: terminated by other getUpdates")
    assert [u["message"]["text"] for u in (await second)["result"]] == ["hi"]


async def test_allowed_updates_decide_what_is_queued(
    emu: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    link = (
        await call(http, emu, "createChatInviteLink", chat_id=CHANNEL, creates_join_request=True)
    )["result"]["invite_link"]
    await call(http, emu, "getUpdates", allowed_updates=["chat_join_request", "chat_member"])

    emu.user_sends(ANN, "ignored: messages were not asked for")
    assert emu.user_opens_link(ANN, link) is JoinOutcome.REQUESTED
    await call(http, emu, "approveChatJoinRequest", chat_id=CHANNEL, user_id=ANN)
    updates = (await call(http, emu, "getUpdates"))["result"]

    assert kinds(updates) == ["chat_join_request", "chat_member"]
    assert updates[0]["chat_join_request"]["invite_link"]["invite_link"] == link
    change = updates[1]["chat_member"]
    assert (change["old_chat_member"]["status"], change["new_chat_member"]["status"]) == (
        "left",
        "member",
    )


async def test_member_changes_are_not_sent_unless_asked_for(
    emu: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    link = (await call(http, emu, "createChatInviteLink", chat_id=CHANNEL))["result"]
    emu.user_opens_link(ANN, link["invite_link"])
    emu.user_leaves(CHANNEL, ANN)
    emu.user_blocks_bot(BOB)

    updates = (await call(http, emu, "getUpdates"))["result"]

    assert kinds(updates) == ["my_chat_member"]
    assert updates[0]["my_chat_member"]["new_chat_member"]["status"] == "kicked"


async def test_a_pressed_button_is_a_callback_query_answered_once(
    emu: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    markup = {"inline_keyboard": [[{"text": "Donate", "callback_data": "donate:5"}]]}
    sent = await call(http, emu, "sendMessage", chat_id=ANN, text="Give?", reply_markup=markup)
    message_id = sent["result"]["message_id"]

    query_id = emu.user_presses(ANN, ANN, message_id, "donate:5")
    (update,) = (await call(http, emu, "getUpdates"))["result"]
    first = await call(http, emu, "answerCallbackQuery", callback_query_id=query_id, text="Ok")
    again = await call(http, emu, "answerCallbackQuery", callback_query_id=query_id)

    query = update["callback_query"]
    assert (query["id"], query["data"], query["from"]["id"]) == (query_id, "donate:5", ANN)
    assert query["message"]["message_id"] == message_id
    assert first == {"ok": True, "result": True}
    assert again["description"] == (
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    )
    assert emu.callback_queries[query_id].answer_text == "Ok"


@pytest.fixture
async def receiver() -> AsyncIterator[
    tuple[str, list[tuple[str | None, dict[str, Any]]], list[int]]
]:
    """A webhook endpoint that answers with the statuses queued in ``answers`` (then 200)."""
    got: list[tuple[str | None, dict[str, Any]]] = []
    answers: list[int] = []

    async def hook(request: web.Request) -> web.Response:
        got.append((request.headers.get(SECRET_HEADER), await request.json()))
        return web.Response(status=answers.pop(0) if answers else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook", got, answers
    await runner.cleanup()


async def wait_for(condition: Any, seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the webhook did not get what it should have in time")
        await asyncio.sleep(0.02)


async def test_a_webhook_gets_updates_with_the_secret_and_retries_until_2xx(
    emu: TelegramEmulator,
    http: aiohttp.ClientSession,
    receiver: tuple[str, list[tuple[str | None, dict[str, Any]]], list[int]],
) -> None:
    url, got, answers = receiver
    answers.extend([500, 503])
    set_answer = await call(http, emu, "setWebhook", url=url, secret_token="s3cr3t_-ok")

    emu.user_sends(ANN, "first")
    emu.user_sends(BOB, "second")
    await wait_for(lambda: len(got) == 4)

    assert set_answer == {"ok": True, "result": True, "description": "Webhook was set"}
    assert [secret for secret, _ in got] == ["s3cr3t_-ok"] * 4
    texts = [u["message"]["text"] for _, u in got]
    assert texts == ["first", "first", "first", "second"]
    assert [a.status for a in emu.hub.attempts] == [500, 503, 200, 200]
    assert emu.hub.pending == []
    polled = await call(http, emu, "getUpdates")
    assert polled["error_code"] == 409
    assert "use deleteWebhook to delete the webhook first" in polled["description"]


async def test_deleting_the_webhook_brings_back_get_updates(
    emu: TelegramEmulator,
    http: aiohttp.ClientSession,
    receiver: tuple[str, list[tuple[str | None, dict[str, Any]]], list[int]],
) -> None:
    url, got, answers = receiver
    answers.extend([500] * 100)
    await call(http, emu, "setWebhook", url=url)
    emu.user_sends(ANN, "undelivered")
    await wait_for(lambda: len(got) >= 1)

    deleted = await call(http, emu, "deleteWebhook")
    polled = await call(http, emu, "getUpdates")

    assert deleted["description"] == "Webhook was deleted"
    assert got[0][0] is None  # no secret token was asked for
    assert [u["message"]["text"] for u in polled["result"]] == ["undelivered"]


async def test_set_webhook_refuses_a_bad_secret_and_other_hosts(
    emu: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    bad_secret = await call(http, emu, "setWebhook", url="http://127.0.0.1:9/x", secret_token="a b")
    elsewhere = await call(http, emu, "setWebhook", url="https://example.org/hook")

    assert bad_secret["description"] == "Bad Request: secret token contains illegal characters"
    assert elsewhere["error_code"] == 400
    assert emu.hub.webhook is None
