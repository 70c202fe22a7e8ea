"""A payment reaches the subscriber as soon as it is committed, not at the worker's
next poll: the web process's commit wakes the worker's dispatcher, across processes
on Postgres (LISTEN/NOTIFY) and on a shared SQLite file (its commit counter), and
within the monolith directly.

The poll interval is set to a minute, so an access message that arrives in seconds
can only have come by the wake-up. Processes are composed as ``paygate web``,
``paygate worker`` and ``paygate run`` compose them (each with its own containers,
engine and wake-up adapter) in this test's event loop; Telegram and NowPayments are
the emulators.

Also here: the budget for administration calls (an invite link per new subscriber,
so a cap on grants per second) is read from the environment and paces the client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import attrs
import pytest

from adapters.outbound.sqla import upgrade
from adapters.outbound.sqla.tables import DATA_TABLES
from composition.assembly import opened_store
from composition.config import Config, ConfigError, load_config
from composition.processes.process import Process, Roles, start_process
from composition.processes.run import starters_for
from core.domain.ids import ChatId, UserId
from core.domain.money import Money
from core.domain.tier import Tier
from sandbox.nowpayments.emulator import NowPaymentsEmulator, PayPlan
from sandbox.telegram.server import TelegramEmulator
from tests.contract.backends_sql import postgres_url
from tests.e2e.emulated import open_emulators

OWNER = 1001
SUBSCRIBER = 2001
OPEN_CHAT = -1002000000001
CLOSED_CHAT = -1002000000002
POLL_EVERY = "60"
"""Seconds between the dispatcher's polls: far longer than any wait below."""
ARRIVES_WITHIN = 15.0


@attrs.frozen
class Stack:
    telegram: TelegramEmulator
    payments: NowPaymentsEmulator
    config: Config


@pytest.fixture(params=["monolith-sqlite", "split-sqlite", "split-postgres"])
async def stack(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stack]:
    topology, database = str(request.param).split("-")
    async with open_emulators(tmp_path / "paygate.db") as emulated:
        telegram, env = emulated.telegram, emulated.env
        env["PAYGATE_DISPATCH_EVERY_SECONDS"] = POLL_EVERY
        if database == "postgres":
            env["PAYGATE_DATABASE_URL"] = (await postgres_url()).render_as_string(
                hide_password=False
            )
        config = load_config(env, dotenv=tmp_path / "none.env")
        await asyncio.to_thread(upgrade, config.database_url, "head")
        await _empty_database(config)
        telegram.add_user(OWNER, "Olivia")
        telegram.add_user(SUBSCRIBER, "Sam")
        telegram.add_chat(OPEN_CHAT, "channel", "Alpha", creator_id=OWNER)
        telegram.add_chat(CLOSED_CHAT, "channel", "Alpha VIP", creator_id=OWNER)
        roles = (
            [Roles(web=True, worker=True)]
            if topology == "monolith"
            else [Roles(web=True), Roles(worker=True)]
        )
        processes: list[Process] = []
        try:
            for role in roles:
                processes.append(await start_process(config, role, starters=starters_for(role)))
            yield Stack(telegram, emulated.payments, config)
        finally:
            for process in reversed(processes):
                await process.close()


async def _empty_database(config: Config) -> None:
    """The Postgres database is this test run's, shared by the suites: empty it."""
    if not config.database_url.startswith("postgresql"):
        return
    async with opened_store(config) as store, store.engine.begin() as conn:
        tables = ", ".join(f'"{table.name}"' for table in DATA_TABLES)
        await conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY")


async def _invoice_for_subscriber(config: Config) -> str:
    """The owner's channel and the subscriber's hosted invoice, made through the use
    cases by a process of ours that runs nothing else."""
    setup = await start_process(config, Roles())
    try:
        services = setup.services
        channel = await services.register_channel.execute(
            UserId(OWNER), ChatId(OPEN_CHAT), ChatId(CLOSED_CHAT), "Alpha"
        )
        await services.set_tiers.execute(
            UserId(OWNER), channel.id, (Tier(1, Money.of(Decimal(10), "USD"), 30),)
        )
        invoice = await services.checkout.execute(UserId(SUBSCRIBER), channel.id, 1)
    finally:
        await setup.close()
    return parse_qs(urlsplit(invoice.url).query)["iid"][0]


async def test_a_paid_subscriber_gets_the_link_without_waiting_for_a_poll(stack: Stack) -> None:
    invoice_id = await _invoice_for_subscriber(stack.config)
    await asyncio.sleep(0.5)  # the worker is idle, waiting: only a wake-up moves it now
    paid_at = time.monotonic()
    payment = await stack.payments.pay(invoice_id, PayPlan(statuses=("finished",)))
    assert payment.deliveries[-1].response_status == 200
    telegram = stack.telegram
    while time.monotonic() - paid_at < ARRIVES_WITHIN:
        links = [
            m
            for m in telegram.messages(SUBSCRIBER)
            if m.from_id == telegram.bot.id and "Join" in str(m.reply_markup)
        ]
        if links:
            break
        await asyncio.sleep(0.05)
    assert len(links) == 1, f"no access message within {ARRIVES_WITHIN} s"
    (link,) = [link.url for link in telegram.links(CLOSED_CHAT)]
    assert link in str(links[0].reply_markup)


async def test_the_admin_call_budget_comes_from_the_environment(tmp_path: Path) -> None:
    # Each new subscriber costs an invite link: the budget caps grants per second.
    async with open_emulators(tmp_path / "paygate.db") as emulated:
        env = emulated.env
        assert load_config(env, dotenv=tmp_path / "none.env").telegram.admin_calls_per_second == 30
        with pytest.raises(ConfigError, match="PAYGATE_TELEGRAM_ADMIN_CALLS_PER_SECOND"):
            load_config(
                {**env, "PAYGATE_TELEGRAM_ADMIN_CALLS_PER_SECOND": "0"},
                dotenv=tmp_path / "none.env",
            )
        env["PAYGATE_TELEGRAM_ADMIN_CALLS_PER_SECOND"] = "12"
        config = load_config(env, dotenv=tmp_path / "none.env")
        await asyncio.to_thread(upgrade, config.database_url, "head")
        process = await start_process(config, Roles())
        try:
            admin = process.services.telegram.limiter.limits.admin
        finally:
            await process.close()
    assert admin is not None and (admin.count, admin.per) == (12, 1.0)
