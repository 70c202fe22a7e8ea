"""A real ``paygate web`` masks every configured secret wherever it shows up in its
log, not only what looks like a secret: a signed notification whose payment status is
a secret's value is refused with that value quoted in the log line, which must show
``***`` instead."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from adapters.outbound.sqla import upgrade
from sandbox.nowpayments.js_form import sign
from tests.e2e.emulated import NP_KEY, NP_LOGIN, NP_SECRET, open_emulators
from tests.e2e.processes import fleet_in

WEBHOOK_SECRET = "Wh-" + "q7" * 20
JOB_SECRET = "job-" + "z9" * 20


async def test_every_configured_secret_is_masked_in_the_log_of_a_real_process(
    tmp_path: Path,
) -> None:
    async with open_emulators(tmp_path / "paygate.db") as emulated:
        env = emulated.env | {
            "PAYGATE_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "PAYGATE_JOB_KEYS": f"cron:{JOB_SECRET}",
        }
        secrets = {
            "NowPayments API key": NP_KEY,
            "NowPayments account password": NP_LOGIN[1],
            "IPN secret": NP_SECRET,
            "MAC key": env["PAYGATE_MAC_KEYS"],
            "encryption key": env["PAYGATE_ENCRYPTION_KEYS"],
            "webhook secret": WEBHOOK_SECRET,
            "job key": JOB_SECRET,
        }
        with fleet_in(tmp_path) as fleet:
            web = fleet.add("web", "web", env)
            await asyncio.to_thread(upgrade, env["PAYGATE_DATABASE_URL"], "head")
            web.start()
            await web.wait_started()
            async with aiohttp.ClientSession() as http:
                for value in secrets.values():
                    body, signature = sign({"payment_id": 1, "payment_status": value}, NP_SECRET)
                    headers = {"Content-Type": "application/json", "x-nowpayments-sig": signature}
                    async with http.post(
                        f"{emulated.url}/webhooks/nowpayments", data=body, headers=headers
                    ) as answer:
                        assert answer.status == 400
            await web.stop()
            log = web.log()
    refusals = [line for line in log.splitlines() if "unknown status" in line]
    assert len(refusals) == len(secrets), log
    assert all("unknown status '***'" in line for line in refusals), refusals
    leaked = [what for what, value in secrets.items() if value in log]
    assert leaked == [], log
