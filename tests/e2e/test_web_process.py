"""``paygate web`` as composed for production: config from the environment, SQL
database, optional Redis, real HTTP listener; Telegram and NowPayments are the
emulators. Checks what an operator and a provider see from outside."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy.engine import make_url

from adapters.inbound.http.signed_requests import sign_request
from adapters.outbound.sqla import upgrade
from composition.config import load_config
from composition.processes.process import Process, Roles, start_process
from composition.processes.run import starters_for
from core.ports.security import Secret
from tests.e2e.emulated import open_emulators
from tests.services import REDIS_URL, require_redis

JOB_SECRET = "j" * 40


@pytest.fixture(params=["in-process", "redis"])
async def web(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Process, str]]:
    async with open_emulators(tmp_path / "web.db") as emulated:
        env = emulated.env
        env["PAYGATE_JOB_KEYS"] = f"cron:{JOB_SECRET}"
        if request.param == "redis":
            require_redis()
            env["PAYGATE_REDIS_URL"] = REDIS_URL
        config = load_config(env, dotenv=tmp_path / "none.env")
        await asyncio.to_thread(upgrade, config.database_url, "head")
        process = await start_process(
            config, Roles(web=True), starters=starters_for(Roles(web=True))
        )
        try:
            yield process, emulated.url
        finally:
            await process.close()


async def test_probes_answer_and_readiness_checks_every_store(web: tuple[Process, str]) -> None:
    process, base = web
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/healthz") as live:
            assert live.status == 200
        async with http.get(f"{base}/readyz") as ready:
            body = await ready.json()
            assert ready.status == 200, body
    expected = {"database", "schema", "telegram"} | (
        {"redis"} if process.services.redis is not None else set()
    )
    assert set(body["checks"]) == expected
    assert set(body["checks"].values()) == {"ok"}


async def test_a_database_migrated_under_a_running_process_makes_it_not_ready(
    web: tuple[Process, str],
) -> None:
    process, base = web
    # What a newer release's `paygate db upgrade` leaves behind, as far as this
    # release can tell: a revision it does not know.
    path = make_url(process.config.database_url).database
    assert path is not None
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099_newer'")
    conn.close()
    async with aiohttp.ClientSession() as http, http.get(f"{base}/readyz") as ready:
        body = await ready.json()
    assert ready.status == 503
    assert body["checks"]["schema"] == "unavailable"
    assert body["checks"]["database"] == "ok"


async def test_an_unsigned_payment_notification_is_refused_and_changes_nothing(
    web: tuple[Process, str],
) -> None:
    process, base = web
    forged = json.dumps({"payment_id": 1, "payment_status": "finished", "order_id": "x"})
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base}/webhooks/nowpayments",
            data=forged,
            headers={"Content-Type": "application/json", "x-nowpayments-sig": "00" * 64},
        ) as response,
    ):
        assert response.status == 401
        assert "Server" not in response.headers or "Python" not in response.headers["Server"]
    async with process.services.uow() as tx:
        assert await tx.outbox.pending_count() == 0


async def test_a_signed_scheduler_request_runs_a_job_once_and_is_audited(
    web: tuple[Process, str],
) -> None:
    process, base = web
    path = "/api/v1/jobs/sweep/run"
    headers = sign_request(
        "cron", Secret(JOB_SECRET), "POST", path, b"", timestamp=int(time.time())
    )
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}{path}", headers=headers) as response:
            body = await response.json()
            assert response.status == 200, body
        assert body["job"] == "sweep"
        assert "SweepReport" in body["report"]
        async with http.post(f"{base}{path}", headers=headers) as replay:
            assert replay.status == 401
        async with http.post(f"{base}/api/v1/jobs/sweep/run") as unsigned:
            assert unsigned.status == 401
    async with process.services.uow() as tx:
        actions = [(e.actor, e.action) for e in await tx.audit.all()]
    assert actions.count(("scheduler:cron", "job.triggered")) == 1


async def test_an_unknown_job_is_a_clear_404(web: tuple[Process, str]) -> None:
    _, base = web
    path = "/api/v1/jobs/nope/run"
    headers = sign_request(
        "cron", Secret(JOB_SECRET), "POST", path, b"", timestamp=int(time.time())
    )
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{base}{path}", headers=headers) as response,
    ):
        assert response.status == 404
        assert "sweep" in (await response.json())["error"]


async def test_with_a_public_url_telegram_pushes_updates_to_the_web_process(
    tmp_path: Path,
) -> None:
    async with open_emulators(tmp_path / "hook.db") as emulated:
        telegram, env = emulated.telegram, emulated.env
        env["PAYGATE_PUBLIC_URL"] = emulated.url
        env["PAYGATE_TELEGRAM_WEBHOOK_SECRET"] = "hook-secret-" + "x" * 20
        config = load_config(env, dotenv=tmp_path / "none.env")
        await asyncio.to_thread(upgrade, config.database_url, "head")
        roles = Roles(web=True, bot=True)
        process = await start_process(config, roles, starters=starters_for(roles))
        try:
            assert telegram.calls_to("setWebhook"), "the web process set the webhook"
            assert not telegram.calls_to("getUpdates"), "and does not poll"
            telegram.add_user(5005, "Wendy")
            telegram.user_sends(5005, "/help")
            for _ in range(100):
                replies = [m for m in telegram.messages(5005) if m.from_id == telegram.bot.id]
                if replies:
                    break
                await asyncio.sleep(0.05)
            assert replies, "the bot answered an update that came by webhook"
        finally:
            await process.close()
