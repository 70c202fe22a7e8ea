"""``paygate demo``: the emulators, the monolith on a fresh SQLite file built from the
production containers (only the clock overridden, by a :class:`DemoClock`), and the
journey played against them. With ``--secrets gsm`` the secrets are not in the
environment at all: a Secret Manager emulator holds them, and PayGate reads them from
it with a service-account key, as it would from Google's."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TextIO

import attrs
from dependency_injector import providers

from adapters.inbound.http.dashboard import LOGIN_PATH, SIGNIN_PATH
from adapters.inbound.http.dashboard.signin import CALLBACK_PATH
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
from composition.secret_source import SECRET_VARIABLES, SecretsKind, secret_name
from sandbox.nowpayments.emulator import NowPaymentsEmulator
from sandbox.secretmanager import SecretManagerEmulator
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
    secret_manager: str | None = None

    def lines(self) -> Iterator[str]:
        rows = [
            ("Telegram emulator", self.telegram, "control API under /_emulator/"),
            ("NowPayments emulator", self.payments, "pay pages under /payment/"),
            ("PayGate HTTP", self.http, "/healthz /readyz /metrics /webhooks/..."),
            ("Database", self.database, "SQLite, removed when the demo stops"),
        ]
        if self.secret_manager is not None:
            rows.append(("Secret Manager emul.", self.secret_manager, "PayGate's secrets"))
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


def web_login(telegram: TelegramEmulator, port: int, clock: DemoClock) -> dict[str, str]:
    """Log in with Telegram against the emulator's OpenID Connect provider: our client
    registered there (the bot's id, a fresh secret, the callback), Olivia logged in to
    Telegram in the browser, the provider on the demo's clock; the settings that
    point PayGate at it."""
    secret = secrets.token_urlsafe(24)
    client_id = str(telegram.bot.id)
    telegram.oidc.register_client(client_id, secret, [f"http://127.0.0.1:{port}{CALLBACK_PATH}"])
    telegram.oidc.sign_in(OWNER)
    telegram.oidc.now = lambda: int(clock.now().timestamp())
    return {
        "PAYGATE_OIDC_CLIENT_ID": client_id,
        "PAYGATE_OIDC_CLIENT_SECRET": secret,
        "PAYGATE_OIDC_ISSUER": telegram.base_url,
    }


def sign_in_line(port: int) -> str:
    url = f"http://127.0.0.1:{port}{SIGNIN_PATH}"
    return f"{'Dashboard sign-in':<21} {url}  (Log in with Telegram logs in as Olivia)"


@contextlib.asynccontextmanager
async def _secret_store(kind: SecretsKind) -> AsyncIterator[SecretManagerEmulator | None]:
    if kind is SecretsKind.ENV:
        yield None
        return
    if kind is not SecretsKind.GSM:
        raise ValueError(f"the demo reads its secrets from env or gsm, not {kind.value}")
    async with SecretManagerEmulator() as gsm:
        yield gsm


def _moved_to(env: dict[str, str], gsm: SecretManagerEmulator, key_file: Path) -> dict[str, str]:
    """``env`` with its secrets moved into ``gsm``, and how to read them from there."""
    kept = dict(env)
    for variable in SECRET_VARIABLES:
        if variable in kept:
            gsm.add_version(secret_name(variable), kept.pop(variable))
    key_file.write_text(json.dumps(gsm.service_account_key()))
    key_file.chmod(0o600)
    return kept | {
        "PAYGATE_SECRETS": SecretsKind.GSM.value,
        "PAYGATE_GSM_PROJECT": gsm.project,
        "PAYGATE_GSM_URL": gsm.base_url,
        "PAYGATE_GSM_CREDENTIALS_FILE": str(key_file),
    }


async def run_demo(
    keep_running: bool = False,
    out: TextIO = sys.stdout,
    secrets_from: SecretsKind = SecretsKind.ENV,
) -> int:
    """``secrets_from``: ``env`` (the demo's settings as environment variables) or
    ``gsm`` (from a Secret Manager emulator started beside the others)."""
    clock = DemoClock()
    say = Transcript(out, clock)
    with tempfile.TemporaryDirectory(prefix="paygate-demo-") as tmp:
        db = Path(tmp) / "paygate.db"
        async with _secret_store(secrets_from) as gsm, TelegramEmulator() as telegram:
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
                ) | web_login(telegram, port, clock)
                held = {secret_name(v) for v in SECRET_VARIABLES if v in env}
                if gsm is not None:
                    env = _moved_to(env, gsm, Path(tmp) / "service-account.json")
                # In a thread: reading Secret Manager blocks on the emulator, which
                # serves on this loop.
                config = await asyncio.to_thread(load_config, env, Path(tmp) / "no.env")
                if gsm is not None:
                    # What the emulator served (PayGate also asks for the optional
                    # secrets the demo does not set, and hears they do not exist).
                    read = sorted(held & {access.split("/")[0] for access in gsm.accesses})
                    say.say(
                        "paygate",
                        f"{len(read)} secrets read from the Secret Manager emulator: "
                        + ", ".join(read),
                    )
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
                            None if gsm is None else gsm.base_url,
                        ).lines():
                            out.write(line + "\n")
                        out.write(dashboard_link(telegram, port, clock) + "\n")
                        out.write(sign_in_line(port) + "\n")
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
