"""The dashboard as a person uses it: a real ``paygate web`` process (the bot served by
webhook in it) against the Telegram and NowPayments emulators, and Debian's headless
Chromium driven by Playwright. The owner sends /dashboard, Telegram (the emulator)
opens the login button with the owner's signed identity, and the browser sees the
overview chart, pauses and resumes sales and reposts the offer on the Channels page,
and breaks no CSP rule.
A form posted without its CSRF token is refused. Screenshots land in the test's tmp
directory.

With ``CI=true`` the test runs or fails; elsewhere it is skipped when Chromium is not
installed (``make browsers`` installs it)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import aiohttp
from playwright.async_api import Page

from adapters.outbound.sqla import upgrade
from adapters.outbound.sqla.tables import payment_intents
from composition.assembly import opened_store
from composition.config import Config, load_config
from core.domain.channel import Channel
from core.domain.figures import DailyFigure, FigureKind
from core.domain.ids import ChannelId, ChatId, UserId
from core.domain.money import Money
from core.domain.tier import Tier
from sandbox.telegram.server import TelegramEmulator
from tests.e2e.browser import chromium, chromium_page
from tests.e2e.emulated import open_emulators
from tests.e2e.processes import fleet_in

OWNER = 8101
OPEN_CHAT, CLOSED_CHAT = -100_8101, -100_8102
CHANNEL = ChannelId("ch-dash")
BUTTON = "Open the dashboard"


async def seed(config: Config) -> None:
    """The owner's channel, selling, and one fulfilled payment this month: its intent
    (the Payments section finds it) and what the payment path adds to the overview's
    rollup for it."""
    now = datetime.now(UTC)
    async with opened_store(config) as store:
        async with store.uow() as tx:
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
            await tx.figures.add(
                [DailyFigure.money(CHANNEL, now, FigureKind.NEW, Money.of(10, "USD"))]
            )
            await tx.commit()
        async with store.engine.begin() as conn:
            await conn.execute(
                payment_intents.insert().values(
                    id="pi-dash-1",
                    purpose="subscription",
                    user_id=9001,
                    channel_id=CHANNEL,
                    price=Decimal("10"),
                    currency="USD",
                    provider="nowpayments",
                    created_at=now,
                    updated_at=now,
                    tier=1,
                    duration_days=30,
                    status="finished",
                    status_rank=6,
                    fulfilled_at=now,
                )
            )


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

            async with chromium_page(executable) as browser:
                page, violations = browser.page, browser.violations
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
                await page.fill("form.repost input[name=reason]", "new prices")
                await page.click("text=Repost the offer")
                await page.wait_for_url("**/dashboard/channels?notice=reposted")
                assert "A fresh offer is posted" in await page.inner_text("p.notice")
                assert len(telegram.messages(OPEN_CHAT)) == 1

                cookies = {c["name"]: c["value"] for c in await page.context.cookies()}

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
