"""``paygate demo``: the emulators, the monolith on a fresh SQLite file built from the
production containers (only the clock overridden, by a :class:`DemoClock`), and the
journey played against them."""

from __future__ import annotations

import asyncio
import secrets
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import attrs
from dependency_injector import providers

from adapters.inbound.http.dashboard import LOGIN_PATH
from adapters.outbound.sqla import upgrade
from composition.config import load_config
from composition.containers import Infrastructure
from composition.demo.clock import DemoClock
from composition.demo.environment import demo_environment, free_port
from composition.demo.journey import Demo
from composition.demo.people import OWNER, set_up_world
from composition.demo.stage import DemoFailed
from composition.demo.transcript import Transcript
from composition.processes.process import MONOLITH, start_process
from composition.processes.run import starters_for
from sandbox.nowpayments.emulator import NowPaymentsEmulator
from sandbox.telegram.login import signed_login_url
from sandbox.telegram.server import TelegramEmulator
from sandbox.telegram.world import World

DEMO_ACCOUNT_EMAIL = "owner@paygate.demo"


@attrs.frozen
class Listening:
    telegram: str
    payments: str
    http: str
    database: str

    def lines(self) -> Iterator[str]:
        rows = (
            ("Telegram emulator", self.telegram, "control API under /_emulator/"),
            ("NowPayments emulator", self.payments, "pay pages under /payment/"),
            ("PayGate HTTP", self.http, "/healthz /readyz /metrics /webhooks/..."),
            ("Database", self.database, "SQLite, removed when the demo stops"),
        )
        for name, where, what in rows:
            yield f"{name:<21} {where}  ({what})"


def dashboard_link(telegram: World, port: int, clock: DemoClock) -> str:
    """The owner's dashboard login, as the bot's /dashboard button opens it: signed by
    Telegram (the emulator) on the demo's clock, good for five minutes and once."""
    url = signed_login_url(
        f"http://127.0.0.1:{port}{LOGIN_PATH}",
        telegram.users[OWNER],
        telegram.token,
        int(clock.now().timestamp()),
    )
    return f"{'Dashboard (Olivia)':<21} {url}  (good for 5 minutes, once)"


async def run_demo(keep_running: bool = False, out: TextIO = sys.stdout) -> int:
    clock = DemoClock()
    say = Transcript(out, clock)
    with tempfile.TemporaryDirectory(prefix="paygate-demo-") as tmp:
        db = Path(tmp) / "paygate.db"
        async with TelegramEmulator() as telegram:
            # Fresh throwaway credentials each run: the emulator and PayGate share them.
            np_key, np_secret = secrets.token_urlsafe(16), secrets.token_urlsafe(24)
            np_login = (DEMO_ACCOUNT_EMAIL, secrets.token_urlsafe(16))
            payments = NowPaymentsEmulator(
                api_key=np_key,
                ipn_secret=np_secret,
                account_email=np_login[0],
                account_password=np_login[1],
            )
            async with payments:
                port = free_port()
                env = demo_environment(
                    db,
                    telegram.base_url,
                    telegram.token,
                    payments.base_url,
                    np_key,
                    np_secret,
                    port,
                    np_login,
                )
                config = load_config(env, dotenv=Path(tmp) / "no.env")
                await asyncio.to_thread(upgrade, config.database_url, "head")
                infra = Infrastructure(config=config)
                infra.clock.override(providers.Object(clock))
                set_up_world(telegram, say)
                process = await start_process(
                    config, MONOLITH, infra=infra, starters=starters_for(MONOLITH)
                )
                demo = Demo(telegram, payments, clock, say, process.services.uow)
                say.say(
                    "paygate",
                    f"monolith up: HTTP on 127.0.0.1:{port}, bot polling, workers running",
                )
                try:
                    await demo.play()
                    say.say("demo", "the whole journey ran: exit 0")
                    if keep_running:
                        for line in Listening(
                            telegram.base_url,
                            payments.base_url,
                            f"http://127.0.0.1:{port}",
                            str(db),
                        ).lines():
                            out.write(line + "\n")
                        out.write(dashboard_link(telegram, port, clock) + "\n")
                        out.write("Ctrl-C to stop.\n")
                        out.flush()
                        loop = asyncio.get_running_loop()
                        for sig in (signal.SIGINT, signal.SIGTERM):
                            loop.add_signal_handler(sig, process.stop)
                        await process.stopped.wait()
                        say.say("demo", "stopping")
                except DemoFailed as exc:
                    say.say("demo", f"FAILED: {exc}")
                    return 1
                finally:
                    await process.close()
    return 0
