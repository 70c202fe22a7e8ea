"""The emulator's outages (sandbox.telegram.outage): while one is on, every Bot API
call is refused by it and does nothing; once it is off, calls are served again."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from sandbox.telegram import FloodLimits, TelegramEmulator
from sandbox.telegram.outage import Outage, OutageKind

USER = 7


@pytest.fixture
async def emu() -> AsyncIterator[TelegramEmulator]:
    emulator = TelegramEmulator(flood=FloodLimits.off())
    await emulator.start()
    emulator.add_user(USER)
    try:
        yield emulator
    finally:
        await emulator.stop()


async def send(emu: TelegramEmulator) -> tuple[int, dict[str, Any]]:
    url = f"{emu.base_url}/bot{emu.token}/sendMessage"
    client_timeout = aiohttp.ClientTimeout(total=5.0)
    async with (
        aiohttp.ClientSession(trust_env=False, timeout=client_timeout) as http,
        http.post(url, json={"chat_id": USER, "text": "hello"}) as response,
    ):
        return response.status, await response.json()


@pytest.mark.parametrize(
    ("kind", "code", "description"),
    [
        (OutageKind.SERVER_ERROR, 500, "Internal Server Error"),
        (OutageKind.FLOOD, 429, "Too Many Requests: retry after 3"),
    ],
)
async def test_an_outage_refuses_every_call_and_sends_nothing(
    emu: TelegramEmulator, kind: OutageKind, code: int, description: str
) -> None:
    outage = Outage(kind, retry_after=3)
    emu.outage = outage
    status, body = await send(emu)
    assert (status, body["error_code"], body["description"]) == (code, code, description)
    assert emu.messages(USER) == []
    assert outage.met == 1

    emu.outage = None
    assert (await send(emu))[0] == 200
    assert len(emu.messages(USER)) == 1


async def test_a_timeout_outage_holds_the_call_past_the_clients_patience(
    emu: TelegramEmulator,
) -> None:
    emu.outage = Outage(OutageKind.TIMEOUT, hang=1.0)
    started = time.monotonic()
    status, body = await send(emu)
    assert time.monotonic() - started >= 1.0
    assert (status, body["error_code"]) == (504, 504)
    assert emu.messages(USER) == []
    emu.outage = None
    assert (await send(emu))[0] == 200
