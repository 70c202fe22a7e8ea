"""The dashboard as a person uses it: a real ``paygate web`` process (the bot served by
webhook in it) against the Telegram and NowPayments emulators, and Debian's headless
Chromium driven by Playwright. The owner sends /dashboard, Telegram (the emulator)
opens the login button with the owner's signed identity, and the browser sees the
overview chart, pauses and resumes sales on the Channels page, and breaks no CSP rule.
A form posted without its CSRF token is refused. Screenshots land in the test's tmp
directory.

With ``CI=true`` the test runs or fails; elsewhere it is skipped when Chromium is not
installed (``make browsers`` installs it)."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import ConsoleMessage, Page, async_playwright

from adapters.outbound.sqla import upgrade
from composition.assembly import opened_store
from composition.config import Config, load_config
from core.domain.channel import Channel
from core.domain.figures import DailyFigure, FigureKind
from core.domain.ids import ChannelId, ChatId, UserId
from core.domain.money import Money
from core.domain.tier import Tier
from sandbox.telegram.server import TelegramEmulator
from tests.e2e.emulated import open_emulators
from tests.e2e.processes import fleet_in

OWNER = 8101
OPEN_CHAT, CLOSED_CHAT = -100_8101, -100_8102
CHANNEL = ChannelId("ch-dash")
BUTTON = "Open the dashboard"


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (make browsers installs it)")
        pytest.skip("chromium is not installed: run `make browsers`")
    return found


async def seed(config: Config) -> None:
    """The owner's channel, selling, and one payment this month in the overview's rollup."""
    now = datetime.now(UTC)
    async with opened_store(config) as store, store.uow() as tx:
        await tx.channels.add(
            Channel(
                CHANNEL,
                UserId(OWNER),
                ChatId(OPEN_CHAT),
                ChatId(CLOSED_CHAT),
                "Alpha Signals",
                now,
                tiers=(Tier(1, Money.of(10, "USD"), 30),),
            )
        )
        # What the payment path adds to the overview's rollup for one payment.
        await tx.figures.add([DailyFigure.money(CHANNEL, now, FigureKind.NEW, Money.of(10, "USD"))])
        await tx.commit()


async def login_link(telegram: TelegramEmulator, within: float = 20.0) -> str:
    """The owner sends /dashboard and taps the button the bot answers with."""
    telegram.user_sends(OWNER, "/dashboard")
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for message in reversed(telegram.messages(OWNER)):
            rows = (message.reply_markup or {}).get("inline_keyboard", [])
            if any(b.get("text") == BUTTON for row in rows for b in row):
                return telegram.user_opens_login(OWNER, OWNER, message.message_id, BUTTON)
        await asyncio.sleep(0.1)
    raise AssertionError("the bot sent no dashboard button")


async def change_sales(page: Page, button: str, reason: str) -> str:
    await page.fill("section[data-channel] input[name=reason]", reason)
    await page.click(f"text={button}")
    await page.wait_for_url("**/dashboard/channels?notice=*")
    return await page.inner_text("section[data-channel]")


async def test_the_owner_uses_the_dashboard_in_a_real_browser(tmp_path: Path) -> None:
    executable = chromium()
    async with open_emulators(tmp_path / "paygate.db") as emulated:
        env = emulated.env | {
            "PAYGATE_PUBLIC_URL": emulated.url,
            "PAYGATE_TELEGRAM_WEBHOOK_SECRET": "dashboard-webhook-secret-" + "w" * 16,
            "PAYGATE_DASHBOARD": "on",
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
            assert url.startswith(f"{emulated.url}/dashboard/login?")

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
                assert page.url == f"{emulated.url}/dashboard"
                chart = page.get_by_role("img", name="Takings per month in USD")
                await chart.wait_for()
                assert "USD" in (await page.inner_text("table.totals"))
                assert "10" in (await page.inner_text("table.monthly"))
                await page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)

                await page.goto(f"{emulated.url}/dashboard/channels")
                paused = await change_sales(page, "Pause sales", "holiday break")
                assert "Sales paused: holiday break" in paused
                await page.screenshot(path=str(tmp_path / "paused.png"), full_page=True)
                resumed = await change_sales(page, "Resume sales", "back from holiday")
                assert "Selling" in resumed
                await page.screenshot(path=str(tmp_path / "resumed.png"), full_page=True)

                cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
                await browser.close()

            async with aiohttp.ClientSession(cookies=cookies) as http:
                forged = await http.post(
                    f"{emulated.url}/dashboard/channels/{CHANNEL}/pause",
                    data={"reason": "no token"},
                    allow_redirects=False,
                )
                forged_status = forged.status
            async with opened_store(config) as store, store.uow() as tx:
                channel = await tx.channels.get(CHANNEL)
            codes = await fleet.stop_all()
    assert codes == {"web": 0}, process.tail()
    assert forged_status == 403
    assert not channel.sales_paused
    assert violations == []
    assert (tmp_path / "overview.png").stat().st_size > 0
