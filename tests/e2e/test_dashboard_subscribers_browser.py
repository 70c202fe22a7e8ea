"""The Subscribers section as an owner uses it: a real ``paygate run`` process (web,
bot by webhook, worker) against the Telegram and NowPayments emulators, and Debian's
headless Chromium driven by Playwright. A person talks to the bot (which notes their
@username); the owner logs in with the bot's link, finds them by that username,
grants them a week by hand with a reason, and the bot's access message with its
invite link arrives in the person's chat in the Telegram emulator. No CSP rule is
broken. Screenshots land in the test's tmp directory.

Skipped when Chromium is not installed, as the dashboard's other browser test."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from adapters.outbound.sqla import upgrade
from composition.assembly import opened_store
from composition.config import load_config
from core.domain.ids import UserId
from core.domain.subscription import SubscriptionStatus
from sandbox.telegram.server import TelegramEmulator
from tests.e2e.browser import chromium, chromium_page
from tests.e2e.emulated import open_emulators
from tests.e2e.processes import fleet_in
from tests.e2e.test_dashboard_browser import (
    CHANNEL,
    CLOSED_CHAT,
    OPEN_CHAT,
    OWNER,
    login_link,
    seed,
)

PERSON = 8201


async def bot_says(telegram: TelegramEmulator, user: int, words: str, within: float = 30.0) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for message in telegram.messages(user):
            if message.from_id != user and words in (message.text or ""):
                return message.text or ""
        await asyncio.sleep(0.2)
    raise AssertionError(f"the bot did not say {words!r} to {user}")


async def test_the_owner_finds_a_person_and_grants_them_access(tmp_path: Path) -> None:
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
        telegram.add_user(PERSON, "Pavel", username="Pavel_Reader")
        telegram.add_chat(OPEN_CHAT, "channel", "Alpha Signals", creator_id=OWNER)
        telegram.add_chat(CLOSED_CHAT, "channel", "Alpha Signals VIP", creator_id=OWNER)
        with fleet_in(tmp_path) as fleet:
            process = fleet.add("run", "run", env)
            await fleet.start_all()
            telegram.user_sends(PERSON, "/status")
            await bot_says(telegram, PERSON, "no subscriptions")
            url = await login_link(telegram)

            async with chromium_page(executable) as browser:
                page, violations = browser.page, browser.violations
                await page.goto(url)
                await page.click("nav >> text=Subscribers")
                await page.wait_for_url("**/dashboard/subscribers")
                await page.fill("input[name=q]", "@pavel_reader")
                await page.click("form.search button")
                await page.wait_for_url("**/dashboard/subscribers?q=*")
                await page.screenshot(path=str(tmp_path / "search.png"), full_page=True)
                # Not subscribed yet: no row, but the person the search named, to open.
                assert "No subscribers found." in await page.inner_text("main")
                await page.click(f"section.named a[href$='/{CHANNEL}/{PERSON}']")
                await page.wait_for_url(f"**/dashboard/subscribers/{CHANNEL}/{PERSON}")
                assert "@pavel_reader" in await page.inner_text("h1")

                await page.fill("form[action$='/grant'] input[name=days]", "7")
                await page.fill("form[action$='/grant'] input[name=reason]", "a week on us")
                await page.click("text=Grant or extend")
                await page.wait_for_url("**?notice=granted")
                assert "active" in await page.inner_text("section.subscription")
                invite = await bot_says(telegram, PERSON, "link is yours")

                await page.reload()
                trail = await page.inner_text("section.audit")
                await page.screenshot(path=str(tmp_path / "granted.png"), full_page=True)
                await page.goto(f"{emulated.url}/dashboard/subscribers?q=%40pavel_reader")
                found = await page.inner_text("table.subscribers")
                await page.screenshot(path=str(tmp_path / "found.png"), full_page=True)
            async with opened_store(config) as store, store.uow() as tx:
                sub = await tx.subscriptions.find(UserId(PERSON), CHANNEL)
            codes = await fleet.stop_all()
    assert codes == {"run": 0}, process.tail()
    assert "Alpha Signals" in invite
    assert "subscription.comp" in trail and "a week on us" in trail and f"user:{OWNER}" in trail
    assert str(PERSON) in found and "@pavel_reader" in found
    assert sub is not None and sub.status is SubscriptionStatus.ACTIVE
    assert violations == []
    assert (tmp_path / "granted.png").stat().st_size > 0
