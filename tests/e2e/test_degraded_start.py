"""Issue 18, "Degraded, not down": real ``paygate web`` and ``paygate bot`` processes
started while the Telegram Bot API does not answer (a closed loopback port, or an
emulator started only later on that port).

The web process starts, takes signed payment notifications and says ``degraded``
naming Telegram on ``/readyz``; once Telegram answers it is ready again without a
restart. The bot process waits for Telegram instead of exiting, and starts polling
when it answers.
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import aiohttp

from adapters.outbound.sqla import upgrade
from composition.config import load_config
from sandbox.telegram.server import TelegramEmulator
from sandbox.telegram.world import new_token
from tests.e2e.emulated import open_emulators
from tests.e2e.lone_web import PROXY, lone_web
from tests.e2e.processes import fleet_in

USERNAME = "paygate_test_bot"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _ready(url: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/readyz") as answer:
        return answer.status, await answer.json()


async def test_web_starts_and_takes_payments_while_telegram_is_unreachable(
    tmp_path: Path,
) -> None:
    telegram_port = closed_port()
    token = new_token()
    env = {
        "PAYGATE_TELEGRAM_BOT_TOKEN": token,
        "PAYGATE_TELEGRAM_API_URL": f"http://127.0.0.1:{telegram_port}",
        "PAYGATE_TELEGRAM_BOT_USERNAME": USERNAME,
        "PAYGATE_TRUSTED_PROXIES": f"{PROXY}/32",
    }
    async with lone_web(tmp_path, env) as web:
        ipn_status, _ = await web.post_ipn()
        status, body = await _ready(web.url)
        assert (ipn_status, status, body["status"]) == (200, 200, "degraded"), body
        assert body["degraded"] == ["telegram"]
        checks = body["checks"]
        assert isinstance(checks, dict)
        assert checks["telegram"] == "unavailable"
        assert checks["database"] == "ok"

        # Telegram comes back on the same address: the process reconnects by itself.
        async with TelegramEmulator(token, port=telegram_port):
            deadline = time.monotonic() + 20
            while True:
                status, body = await _ready(web.url)
                if body["status"] == "ready" or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)
        log = web.process.current_log()
    assert (status, body["status"]) == (200, "ready"), log
    assert "Telegram is unreachable at start" in log
    assert "Telegram is reachable again" in log
    assert "Traceback" not in log


async def test_bot_waits_for_telegram_instead_of_exiting_then_polls(tmp_path: Path) -> None:
    telegram_port = closed_port()
    async with open_emulators(tmp_path / "bot.db") as emulated:
        env = {
            **emulated.env,
            "PAYGATE_TELEGRAM_API_URL": f"http://127.0.0.1:{telegram_port}",
        }
        config = load_config(env, dotenv=tmp_path / "none.env")
        await asyncio.to_thread(upgrade, config.database_url, "head")
        with fleet_in(tmp_path) as fleet:
            bot = fleet.add("bot", "bot", env)
            bot.start()
            await asyncio.sleep(3)
            assert bot.running, bot.tail()
            assert "PAYGATE_TELEGRAM_BOT_USERNAME" in bot.current_log()
            # The same bot (its token) answers on the address the process keeps asking.
            async with TelegramEmulator(emulated.telegram.token, port=telegram_port) as api:
                await bot.wait_started(within=30)
                deadline = time.monotonic() + 20
                while not any(c.method == "getUpdates" for c in api.calls):
                    assert time.monotonic() < deadline, bot.tail()
                    await asyncio.sleep(0.2)
                codes = await fleet.stop_all()
    assert codes == {"bot": 0}, bot.tail()
