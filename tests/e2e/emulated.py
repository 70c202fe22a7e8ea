"""The outside world of an end-to-end test: the Telegram and NowPayments emulators,
running, and the environment a PayGate process needs to use them (the demo's
settings: fresh keys, fast worker loops, a SQLite file)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import attrs

from composition.demo.environment import demo_environment, free_port
from sandbox.nowpayments.emulator import NowPaymentsEmulator
from sandbox.telegram.flood import FloodLimits
from sandbox.telegram.server import TelegramEmulator

NP_KEY = "np-key-" + "k" * 16
NP_SECRET = "np-ipn-" + "s" * 24
NP_LOGIN = ("owner@paygate.test", "np-password-" + "p" * 16)
"""Recognisable, so a test can tell when one of them leaks into a log."""


@attrs.frozen
class Emulated:
    telegram: TelegramEmulator
    payments: NowPaymentsEmulator
    env: dict[str, str]
    """Each process's configuration; tests add their own settings to it."""
    port: int
    """Where a web process of this environment listens."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@asynccontextmanager
async def open_emulators(
    database: Path,
    port: int | None = None,
    *,
    flood: FloodLimits | None = None,
    ipn_retries: int = 0,
    ipn_retry_delay: float = 0.0,
) -> AsyncIterator[Emulated]:
    """Both emulators started (and stopped after), with ``database`` as the SQLite
    file and ``port`` (a free one unless given) as the HTTP port."""
    port = free_port() if port is None else port
    async with (
        TelegramEmulator(flood=flood) as telegram,
        NowPaymentsEmulator(
            api_key=NP_KEY,
            ipn_secret=NP_SECRET,
            account_email=NP_LOGIN[0],
            account_password=NP_LOGIN[1],
            ipn_retries=ipn_retries,
            ipn_retry_delay=ipn_retry_delay,
        ) as payments,
    ):
        env = demo_environment(
            database,
            telegram.base_url,
            telegram.token,
            payments.base_url,
            NP_KEY,
            NP_SECRET,
            port,
            NP_LOGIN,
        )
        yield Emulated(telegram, payments, env, port)
