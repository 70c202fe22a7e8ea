"""Log in with Telegram in a real browser: a ``paygate web`` process configured with
an OpenID Connect client of the Telegram emulator's provider, and Debian's headless
Chromium driven by Playwright. The logged-out owner opening /dashboard is shown the
sign-in page, clicks "Log in with Telegram", the emulated Telegram (where the owner
is logged in) approves, and the browser lands on the overview; no CSP rule is
broken. Skipped like the dashboard's browser test when Chromium is missing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from adapters.outbound.sqla import upgrade
from composition.config import load_config
from tests.e2e.browser import chromium, chromium_page
from tests.e2e.emulated import open_emulators
from tests.e2e.processes import fleet_in
from tests.e2e.test_dashboard_browser import CLOSED_CHAT, OPEN_CHAT, OWNER, seed

CLIENT_SECRET = "oidc-browser-secret-" + "s" * 20


async def test_the_owner_logs_in_with_telegram_in_a_real_browser(tmp_path: Path) -> None:
    executable = chromium()
    async with open_emulators(tmp_path / "paygate.db") as emulated:
        telegram = emulated.telegram
        client_id = str(telegram.bot.id)
        env = emulated.env | {
            "PAYGATE_DASHBOARD": "on",
            "PAYGATE_OIDC_CLIENT_ID": client_id,
            "PAYGATE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "PAYGATE_OIDC_ISSUER": telegram.base_url,
        }
        config = load_config(env, dotenv=tmp_path / "none.env")
        await asyncio.to_thread(upgrade, config.database_url, "head")
        await seed(config)
        telegram.add_user(OWNER, "Olivia", username="olivia")
        telegram.add_chat(OPEN_CHAT, "channel", "Alpha Signals", creator_id=OWNER)
        telegram.add_chat(CLOSED_CHAT, "channel", "Alpha Signals VIP", creator_id=OWNER)
        telegram.oidc.register_client(
            client_id, CLIENT_SECRET, [f"{emulated.url}/dashboard/oidc/callback"]
        )
        telegram.oidc.sign_in(OWNER)
        with fleet_in(tmp_path) as fleet:
            process = fleet.add("web", "web", env)
            await fleet.start_all()
            async with chromium_page(executable) as browser:
                page, violations = browser.page, browser.violations
                await page.goto(f"{emulated.url}/dashboard")
                assert page.url == f"{emulated.url}/dashboard/signin"
                await page.screenshot(path=str(tmp_path / "signin.png"), full_page=True)
                await page.click("text=Log in with Telegram")
                await page.wait_for_url(f"{emulated.url}/dashboard")
                await page.locator("figure.chart svg").first.wait_for()
                assert "Alpha Signals" in await page.inner_text("main")
                await page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
                cookies = {c["name"] for c in await page.context.cookies()}
            codes = await fleet.stop_all()
    assert codes == {"web": 0}, process.tail()
    assert "paygate" in cookies and "paygate-oidc" not in cookies
    assert telegram.oidc.exchanges == [("ok", 200)]
    assert violations == []
