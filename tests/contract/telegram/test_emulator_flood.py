"""The emulator's flood control: documented limits, scaled down in time for tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from sandbox.telegram import FloodLimits, Rate, TelegramEmulator

CHANNEL = -1003000000001


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


async def emulator(limits: FloodLimits) -> TelegramEmulator:
    emu = TelegramEmulator(flood=limits)
    await emu.start()
    for user in range(1, 41):
        emu.add_user(user)
    emu.add_chat(CHANNEL, "channel", "Channel")
    return emu


async def test_a_second_message_to_a_private_chat_within_a_second_is_refused(
    http: aiohttp.ClientSession,
) -> None:
    emu = await emulator(FloodLimits())
    try:
        first = await call(http, emu, "sendMessage", chat_id=1, text="a")
        second = await call(http, emu, "sendMessage", chat_id=1, text="b")
        other = await call(http, emu, "sendMessage", chat_id=2, text="c")
    finally:
        await emu.stop()

    assert first[0] == other[0] == 200
    assert second == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        },
    )
    assert [m.text for m in emu.messages(1)] == ["a"]


async def test_the_overall_limit_counts_every_chat(http: aiohttp.ClientSession) -> None:
    emu = await emulator(FloodLimits(overall=Rate(30, 60.0)))
    try:
        answers = [await call(http, emu, "sendMessage", chat_id=u, text="x") for u in range(1, 41)]
    finally:
        await emu.stop()

    assert [status for status, _ in answers] == [200] * 30 + [429] * 10
    assert answers[-1][1]["parameters"]["retry_after"] == 60


async def test_a_channel_takes_its_limit_per_window_and_then_again(
    http: aiohttp.ClientSession,
) -> None:
    emu = await emulator(FloodLimits(group_chat=Rate(3, 0.4)))
    try:
        burst = [await call(http, emu, "sendMessage", chat_id=CHANNEL, text="x") for _ in range(4)]
        await asyncio.sleep(0.45)  # the window (scaled down from a minute) has passed
        after = await call(http, emu, "sendMessage", chat_id=CHANNEL, text="y")
    finally:
        await emu.stop()

    assert [status for status, _ in burst] == [200, 200, 200, 429]
    assert after[0] == 200


async def test_admin_calls_do_not_count_against_message_limits(
    http: aiohttp.ClientSession,
) -> None:
    emu = await emulator(FloodLimits(group_chat=Rate(1, 60.0)))
    try:
        for user in range(1, 11):
            emu.set_member(CHANNEL, user)
            assert (await call(http, emu, "banChatMember", chat_id=CHANNEL, user_id=user))[0] == 200
            assert (
                await call(
                    http, emu, "unbanChatMember", chat_id=CHANNEL, user_id=user, only_if_banned=True
                )
            )[0] == 200
        post = await call(http, emu, "sendMessage", chat_id=CHANNEL, text="still mine")
    finally:
        await emu.stop()

    assert post[0] == 200


async def test_an_admin_budget_can_be_set(http: aiohttp.ClientSession) -> None:
    emu = await emulator(FloodLimits(admin=Rate(2, 60.0)))
    try:
        answers = [
            await call(http, emu, "banChatMember", chat_id=CHANNEL, user_id=u) for u in (1, 2, 3)
        ]
        post = await call(http, emu, "sendMessage", chat_id=CHANNEL, text="x")
    finally:
        await emu.stop()

    assert [status for status, _ in answers] == [200, 200, 429]
    assert post[0] == 200


async def test_flood_control_can_be_switched_off(http: aiohttp.ClientSession) -> None:
    emu = await emulator(FloodLimits.off())
    try:
        answers = [await call(http, emu, "sendMessage", chat_id=1, text="x") for _ in range(5)]
    finally:
        await emu.stop()

    assert [status for status, _ in answers] == [200] * 5
    assert len(emu.messages(1)) == 5
