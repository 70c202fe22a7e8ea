"""API tokens as an owner uses them: a real ``paygate web`` process with
``PAYGATE_API=on`` against the emulators, and Debian's headless Chromium driven by
Playwright. The owner logs in from the bot, makes a write token on the API tokens page
(shown once), a script uses it with the API (exchange, list, pause), and the owner
revokes it with a reason, after which it is refused. No CSP rule is broken.

Skipped when Chromium is not installed, as the dashboard's browser test is."""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path

import aiohttp
from playwright.async_api import ConsoleMessage, async_playwright

from adapters.outbound.sqla import upgrade
from composition.assembly import opened_store
from composition.config import load_config
from tests.e2e.emulated import open_emulators
from tests.e2e.processes import fleet_in
from tests.e2e.test_dashboard_browser import (
    CHANNEL,
    CLOSED_CHAT,
    OPEN_CHAT,
    OWNER,
    chromium,
    login_link,
    seed,
)

SIGNING_KEY = base64.urlsafe_b64encode(b"browser-api-signing-key-0123456789ab").decode()


async def use_the_api(base: str, secret: str) -> tuple[int, list[str], int]:
    """What a script does with the token: exchange it, list the channels, pause one."""
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{base}/api/v1/token", headers={"Authorization": f"Bearer {secret}"}
        ) as exchanged:
            if exchanged.status != 200:
                return exchanged.status, [], 0
            access = (await exchanged.json())["access_token"]
        headers = {"Authorization": f"Bearer {access}"}
        async with http.get(f"{base}/api/v1/channels", headers=headers) as listed:
            titles = [c["title"] for c in (await listed.json())["channels"]]
        async with http.post(
            f"{base}/api/v1/channels/{CHANNEL}/pause",
            json={"reason": "paused by the script"},
            headers=headers,
        ) as paused:
            return 200, titles, paused.status


async def test_the_owner_makes_uses_and_revokes_an_api_token(tmp_path: Path) -> None:
    executable = chromium()
    async with open_emulators(tmp_path / "paygate.db") as emulated:
        env = emulated.env | {
            "PAYGATE_PUBLIC_URL": emulated.url,
            "PAYGATE_TELEGRAM_WEBHOOK_SECRET": "dashboard-webhook-secret-" + "w" * 16,
            "PAYGATE_DASHBOARD": "on",
            "PAYGATE_API": "on",
            "PAYGATE_API_SIGNING_KEYS": SIGNING_KEY,
        }
        config = load_config(env, dotenv=tmp_path / "none.env")
        await asyncio.to_thread(upgrade, config.database_url, "head")
        await seed(config)
        telegram = emulated.telegram
        telegram.add_user(OWNER, "Olivia", username="olivia")
        telegram.add_chat(OPEN_CHAT, "channel", "Alpha Signals", creator_id=OWNER)
        telegram.add_chat(CLOSED_CHAT, "channel", "Alpha Signals VIP", creator_id=OWNER)
        with fleet_in(tmp_path) as fleet:
            process = fleet.add("web", "web", env)
            await fleet.start_all()
            url = await login_link(telegram)
            violations: list[str] = []
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=executable,
                    headless=True,
                    args=["--no-sandbox"] if os.geteuid() == 0 else [],
                )
                page = await browser.new_page()

                def on_console(message: ConsoleMessage) -> None:
                    if "Content Security Policy" in message.text:
                        violations.append(message.text)

                page.on("console", on_console)
                await page.goto(url)
                await page.click("text=API tokens")
                await page.fill("input[name=name]", "deploy script")
                await page.select_option("select[name=scope]", "write")
                await page.click("text=Make the token")
                secret = await page.inner_text("code.secret")
                await page.screenshot(path=str(tmp_path / "token.png"), full_page=True)

                used = await use_the_api(emulated.url, secret)

                await page.goto(f"{emulated.url}/dashboard/tokens")
                row = await page.inner_text("tr.token")
                assert secret not in await page.content()
                await page.fill("tr.token input[name=reason]", "the script is retired")
                await page.click("text=Revoke")
                await page.wait_for_url("**/dashboard/tokens?notice=revoked")
                revoked_row = await page.inner_text("tr.token")
                await browser.close()

            refused = await use_the_api(emulated.url, secret)
            async with opened_store(config) as store, store.uow() as tx:
                channel = await tx.channels.get(CHANNEL)
            codes = await fleet.stop_all()
    assert codes == {"web": 0}, process.tail()
    assert used == (200, ["Alpha Signals"], 200)
    assert channel.sales_paused and channel.pause_reason == "paused by the script"
    assert "deploy script" in row and "write" in row and "never" not in row
    assert "revoked" in revoked_row
    assert refused[0] == 401
    assert violations == []
