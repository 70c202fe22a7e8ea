"""A real ``paygate web`` process with the per-route allowlists turned on by
configuration: payment notifications only from NowPayments' published addresses, and
``/metrics`` and the job trigger never open to the internet in production.

127.0.0.1 is the test's trusted proxy; the address it forwards (``X-Forwarded-For``)
is the client each allowlist judges, as behind a real load balancer.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.e2e.lone_web import NOWPAYMENTS_SENDER, LoneWeb, lone_web

INTERNET = "203.0.113.7"
"""A documentation address: anyone on the internet."""
BEHIND_PROXY = {"PAYGATE_TRUSTED_PROXIES": "127.0.0.1/32"}


async def _status(web: LoneWeb, method: str, path: str, forwarded_for: str | None) -> int:
    headers = {} if forwarded_for is None else {"X-Forwarded-For": forwarded_for}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, f"{web.url}{path}", headers=headers) as answer,
    ):
        await answer.read()
        return answer.status


async def _ipn_from(web: LoneWeb, sender: str) -> int:
    body, headers = web.signed_ipn()
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{web.url}/webhooks/nowpayments",
            data=body,
            headers={**headers, "X-Forwarded-For": sender},
        ) as answer,
    ):
        await answer.read()
        return answer.status


async def test_with_the_published_allowlist_only_nowpayments_addresses_may_notify(
    tmp_path: Path,
) -> None:
    env = {**BEHIND_PROXY, "PAYGATE_ALLOWLIST_NOWPAYMENTS": "published"}
    async with lone_web(tmp_path, env) as web:
        genuine = await _ipn_from(web, NOWPAYMENTS_SENDER)
        # Correctly signed, but from elsewhere: refused before the signature is read.
        elsewhere = await _ipn_from(web, INTERNET)
    assert (genuine, elsewhere) == (200, 403)
    assert "not in the nowpayments allowlist" in web.process.log()


async def test_without_the_allowlist_a_signed_notification_from_anywhere_is_taken(
    tmp_path: Path,
) -> None:
    async with lone_web(tmp_path, BEHIND_PROXY) as web:
        assert await _ipn_from(web, INTERNET) == 200


async def test_in_production_metrics_and_jobs_answer_this_host_only_by_default(
    tmp_path: Path,
) -> None:
    production = {
        **BEHIND_PROXY,
        "PAYGATE_ENV": "production",
        # The Telegram emulator takes webhooks on loopback only; nothing is delivered.
        "PAYGATE_PUBLIC_URL": "https://127.0.0.1",
        "PAYGATE_TELEGRAM_WEBHOOK_SECRET": "w" * 40,
        "PAYGATE_JOB_KEYS": "cron:" + "k" * 40,
    }
    async with lone_web(tmp_path, production) as web:
        local_metrics = await _status(web, "GET", "/metrics", None)
        internet_metrics = await _status(web, "GET", "/metrics", INTERNET)
        internet_job = await _status(web, "POST", "/api/v1/jobs/sweep/run", INTERNET)
        # Unsigned: past the allowlist, the signature check refuses it.
        local_job = await _status(web, "POST", "/api/v1/jobs/sweep/run", None)
        internet_health = await _status(web, "GET", "/healthz", INTERNET)
    assert (local_metrics, internet_metrics) == (200, 403)
    assert (internet_job, local_job) == (403, 401)
    assert internet_health == 200


async def test_a_private_allowlist_opens_metrics_to_the_named_network_only(
    tmp_path: Path,
) -> None:
    env = {**BEHIND_PROXY, "PAYGATE_PRIVATE_ALLOWLIST": "10.0.0.0/8"}
    async with lone_web(tmp_path, env) as web:
        scraper = await _status(web, "GET", "/metrics", "10.1.2.3")
        internet = await _status(web, "GET", "/metrics", INTERNET)
        this_host = await _status(web, "GET", "/metrics", None)
    assert (scraper, internet, this_host) == (200, 403, 403)
