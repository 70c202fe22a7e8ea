"""The dashboard's Payments, Exports and Alerts sections in a real browser: a real
``paygate web`` process against the emulators, Debian's headless Chromium driven by
Playwright. The owner finds the seeded payment by its id, opens its page, downloads
the payments CSV (a real browser download, its file named by the server) and opens
the Alerts page, with no CSP rule broken. Skipped like the dashboard's own browser
test when Chromium is not installed (run or fail with ``CI=true``)."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

from adapters.outbound.sqla import upgrade
from composition.config import load_config
from tests.e2e.browser import chromium, chromium_page
from tests.e2e.emulated import open_emulators
from tests.e2e.processes import fleet_in
from tests.e2e.test_dashboard_browser import (
    CLOSED_CHAT,
    OPEN_CHAT,
    OWNER,
    login_link,
    seed,
)


async def test_the_owner_finds_a_payment_and_downloads_the_csv(tmp_path: Path) -> None:
    executable = chromium()
    async with open_emulators(tmp_path / "paygate.db") as emulated:
        env = emulated.env | {
            "PAYGATE_PUBLIC_URL": emulated.url,
            "PAYGATE_TELEGRAM_WEBHOOK_SECRET": "dashboard-webhook-secret-" + "x" * 16,
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
            async with chromium_page(executable, accept_downloads=True) as browser:
                page, violations = browser.page, browser.violations
                await page.goto(url)
                await page.click("nav >> text=Payments")
                await page.fill("input[name=q]", "pi-dash-1")
                await page.click("text=Find")
                await page.click("table.found >> text=pi-dash-1")
                await page.wait_for_url("**/dashboard/payments/pi-dash-1")
                status = await page.inner_text("td.status")
                await page.screenshot(path=str(tmp_path / "payment.png"), full_page=True)

                await page.click("nav >> text=Exports")
                async with page.expect_download() as started:
                    await page.click("ul.exports >> text=Payments")
                download = await started.value
                saved = tmp_path / download.suggested_filename
                await download.save_as(saved)

                await page.click("nav >> text=Alerts")
                alerts_heading = await page.inner_text("h1")
            codes = await fleet.stop_all()
    assert codes == {"web": 0}, process.tail()
    assert status == "finished"
    assert download.suggested_filename.startswith("paygate-payments-")
    with saved.open(newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    assert rows[0][:3] == ["intent_id", "channel_id", "channel"]
    assert [(row[0], row[2]) for row in rows[1:]] == [("pi-dash-1", "Alpha Signals")]
    assert alerts_heading == "Alerts"
    assert violations == []
