"""Issue 18, "Degraded, not down", as a payer and an operator live it: real ``paygate``
processes started while Telegram or NowPayments does not answer.

- A payment made while Telegram is down is recorded (the provider's IPNs are
  answered 200) and granted once Telegram is back: the worker creates the invite
  link and sends it to the payer, exactly once.
- With a public URL (webhook mode) the web process starts without Telegram, takes
  IPNs, and sets its webhook once Telegram answers.
- With NowPayments unreachable the web process starts and takes IPNs: nothing at
  start-up calls the provider.

Telegram "down" is a loopback port nothing listens on; "back" is the emulator started
on that very port, so the processes find it at the address they were given.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import attrs

from adapters.outbound.memory.alert_sink import InMemoryAlertSink
from adapters.outbound.memory.chat_access import InMemoryChatAccess
from adapters.outbound.memory.messenger import InMemoryMessenger
from adapters.outbound.sqla import upgrade
from adapters.outbound.system.clock import SystemClock
from composition.assembly import assembled, opened_store
from composition.config import Config, load_config
from composition.containers import Infrastructure
from composition.demo.environment import demo_environment, free_port
from composition.processes.process import resolve
from core.domain.ids import ChatId, UserId
from core.domain.money import Money
from core.domain.rights import BOT_RIGHTS_CLOSED, BOT_RIGHTS_OPEN, ChatRights, MemberStatus
from core.domain.tier import Tier
from sandbox.nowpayments.emulator import NowPaymentsEmulator
from sandbox.telegram.server import TelegramEmulator
from sandbox.telegram.world import new_token
from tests.e2e.emulated import NP_KEY, NP_LOGIN, NP_SECRET
from tests.e2e.lone_web import PROXY, lone_web
from tests.e2e.processes import fleet_in
from tests.e2e.test_degraded_start import USERNAME, closed_port
from tests.e2e.test_journey_processes import WEBHOOK_SECRET, bot_texts

OWNER = 7_418_000_001
PAYER = 7_418_000_002
OPEN, CLOSED = -1_001_741_800_001, -1_001_741_800_002
TIER = Tier(1, Money.of(10, "USD"), 30)


@attrs.frozen
class DownWorld:
    """NowPayments running, Telegram not (yet): its port and token, and the processes'
    configuration pointed at both."""

    payments: NowPaymentsEmulator
    telegram_port: int
    token: str
    env: dict[str, str]
    config: Config


@asynccontextmanager
async def telegram_down(directory: Path) -> AsyncIterator[DownWorld]:
    """The NowPayments emulator, a migrated SQLite file, and the demo's settings with
    Telegram's address a closed port (the bot's username given, so nothing needs
    getMe to start)."""
    telegram_port, token = closed_port(), new_token()
    async with NowPaymentsEmulator(
        api_key=NP_KEY,
        ipn_secret=NP_SECRET,
        account_email=NP_LOGIN[0],
        account_password=NP_LOGIN[1],
    ) as payments:
        env = demo_environment(
            directory / "paygate.db",
            f"http://127.0.0.1:{telegram_port}",
            token,
            payments.base_url,
            NP_KEY,
            NP_SECRET,
            free_port(),
            NP_LOGIN,
        ) | {"PAYGATE_TELEGRAM_BOT_USERNAME": USERNAME}
        config = load_config(env, dotenv=directory / "none.env")
        await asyncio.to_thread(upgrade, config.database_url, "head")
        yield DownWorld(payments, telegram_port, token, env, config)


async def _checkout_while_telegram_is_down(config: Config) -> str:
    """A channel priced and a checkout started through the use cases, over the store
    and the NowPayments gateway a process on ``config`` opens; Telegram's side (the
    bot's rights, checked on registration) is in memory, as Telegram is down. Returns
    the invoice id the provider issued."""
    infra = Infrastructure(config=config)
    chat = InMemoryChatAccess()
    chat.add_chat(ChatId(OPEN), ChatRights(MemberStatus.ADMINISTRATOR, BOT_RIGHTS_OPEN))
    chat.add_chat(ChatId(CLOSED), ChatRights(MemberStatus.ADMINISTRATOR, BOT_RIGHTS_CLOSED))
    for chat_id in (OPEN, CLOSED):
        chat.set_member(ChatId(chat_id), UserId(OWNER), ChatRights(MemberStatus.CREATOR))
    try:
        async with opened_store(config) as store:
            services = assembled(
                clock=SystemClock(),
                uow=store.uow,
                keyring=config.keyring,
                gateway=await resolve(infra.gateway),
                chat=chat,
                messenger=InMemoryMessenger(),
                alerts=InMemoryAlertSink(),
                bot_username=USERNAME,
            )
            channel = await services.register_channel().execute(
                UserId(OWNER), ChatId(OPEN), ChatId(CLOSED), "Alpha Signals"
            )
            await services.set_tiers().execute(UserId(OWNER), channel.id, (TIER,))
            issued = await services.checkout().execute(UserId(PAYER), channel.id, TIER.number)
    finally:
        await infra.shutdown_resources()  # type: ignore[misc]
    return parse_qs(urlsplit(issued.url).query)["iid"][0]


def _welcomes(telegram: TelegramEmulator) -> list[str]:
    """The invite messages the payer got ("Payment confirmed. Welcome to ...")."""
    return [t for t in bot_texts(telegram, PAYER) if t.startswith("Payment confirmed")]


async def test_a_payment_made_while_telegram_is_down_is_granted_once_when_it_is_back(
    tmp_path: Path,
) -> None:
    async with telegram_down(tmp_path) as world:
        invoice_id = await _checkout_while_telegram_is_down(world.config)
        with fleet_in(tmp_path) as fleet:
            web = fleet.add("web", "web", world.env)
            worker = fleet.add("worker", "worker", world.env)
            await fleet.start_all()

            payment = await world.payments.pay(invoice_id)
            answered = [d.response_status for d in payment.deliveries]
            # The worker has tried (and failed) to reach Telegram by now; give it a
            # moment more of the outage before Telegram comes back.
            await asyncio.sleep(2)

            async with TelegramEmulator(world.token, port=world.telegram_port) as telegram:
                telegram.add_user(OWNER, "Olive")
                telegram.add_user(PAYER, "Pat")
                telegram.add_chat(OPEN, "channel", "Alpha Signals", creator_id=OWNER)
                telegram.add_chat(CLOSED, "channel", "Alpha Signals VIP", creator_id=OWNER)
                deadline = time.monotonic() + 90
                while not _welcomes(telegram):
                    assert time.monotonic() < deadline, fleet.logs()
                    await asyncio.sleep(0.2)
                # Long enough for a second grant to show up, were there one.
                await asyncio.sleep(3)
                links = [c for c in telegram.calls_to("createChatInviteLink") if c.ok]
                welcomes = _welcomes(telegram)
                codes = await fleet.stop_all()
        web_log, worker_log = web.log(), worker.log()
    assert answered == [200, 200, 200, 200], web_log
    assert [int(c.params["chat_id"]) for c in links] == [CLOSED], worker_log
    assert len(welcomes) == 1 and "Alpha Signals" in welcomes[0], welcomes
    assert codes == {"web": 0, "worker": 0}, fleet.logs()
    assert "Telegram is unreachable at start" in worker_log
    assert "Traceback" not in web_log + worker_log


async def test_webhook_mode_starts_without_telegram_and_sets_the_webhook_when_it_is_back(
    tmp_path: Path,
) -> None:
    telegram_port, token, port = closed_port(), new_token(), free_port()
    # The emulator delivers to loopback only: the public URL is the process's own.
    public_url = f"http://127.0.0.1:{port}"
    env = {
        "PAYGATE_TELEGRAM_BOT_TOKEN": token,
        "PAYGATE_TELEGRAM_API_URL": f"http://127.0.0.1:{telegram_port}",
        "PAYGATE_TELEGRAM_BOT_USERNAME": USERNAME,
        "PAYGATE_TRUSTED_PROXIES": f"{PROXY}/32",
        "PAYGATE_PUBLIC_URL": public_url,
        "PAYGATE_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    async with lone_web(tmp_path, env, port) as web:
        ipn_status, _ = await web.post_ipn()
        async with TelegramEmulator(token, port=telegram_port) as telegram:
            deadline = time.monotonic() + 60
            while not telegram.calls_to("setWebhook"):
                assert time.monotonic() < deadline, web.process.tail()
                await asyncio.sleep(0.2)
            await asyncio.sleep(1)
            hooks = [c for c in telegram.calls_to("setWebhook") if c.ok]
        log = web.process.current_log()
    assert ipn_status == 200, log
    assert [c.params["url"] for c in hooks] == [f"{public_url}/webhooks/telegram"]
    assert hooks[0].params["secret_token"] == WEBHOOK_SECRET
    assert "Traceback" not in log


async def test_web_starts_and_takes_payments_while_nowpayments_is_unreachable(
    tmp_path: Path,
) -> None:
    env = {
        "PAYGATE_NOWPAYMENTS_API_URL": f"http://127.0.0.1:{closed_port()}",
        "PAYGATE_TRUSTED_PROXIES": f"{PROXY}/32",
    }
    async with lone_web(tmp_path, env) as web:
        ipn_status, _ = await web.post_ipn()
        second_status, _ = await web.post_ipn()
        log = web.process.current_log()
    assert (ipn_status, second_status) == (200, 200), log
    assert "Traceback" not in log
