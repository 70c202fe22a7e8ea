"""A shop served by a fleet of real PayGate processes, for the fleet and crash tests.

Everything a deployment has around it, on loopback: the Telegram emulator (behind a
tap that knows which process start made each call), the NowPayments emulator
(posting signed IPNs to a load balancer in front of the ``web`` processes, retrying
what got no 2xx), a Postgres database of the test's own, and one clock for the whole
fleet (a shared offset file). The test process sets up the channels through the use
cases and starts checkouts as the bot would (a user confirmed a tier); everything
after that (IPNs, grants, reminders, removals) is the fleet's work.

What people saw is read back from the tap (every Bot API call, with the caller and
Telegram's answer) and the emulators' worlds; what is kept, from the database.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import attrs
import pytest
from sqlalchemy import Row, select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.outbound.sqla import tables as t
from adapters.outbound.sqla import upgrade
from adapters.outbound.system.clock import OffsetFileClock
from composition.config import load_config
from composition.demo.environment import free_port
from composition.processes.process import Process, Roles, start_process
from core.domain.audit import verify_chain
from core.domain.channel import Channel
from core.domain.ids import ChatId, UserId
from core.domain.money import Money
from core.domain.tier import Tier
from core.ports.errors import Unavailable
from sandbox.nowpayments.emulator import EmulatedPayment, IpnDelivery, NowPaymentsEmulator, PayPlan
from sandbox.telegram.flood import FloodLimits
from sandbox.telegram.server import TelegramEmulator
from sandbox.telegram.world import JoinOutcome
from tests.contract.backends_sql import blank_postgres_database
from tests.e2e.edge import NOWPAYMENTS_SENDERS, Caller, IpnBalancer, TappedCall, TelegramTap
from tests.e2e.emulated import NP_KEY, NP_LOGIN, NP_SECRET, open_emulators
from tests.e2e.faults import FAULT_LOG_MARK
from tests.e2e.faulty_process import FAULTS_VARIABLE
from tests.e2e.processes import CLI, Fleet, PaygateProcess, fleet_in

TIER = Tier(1, Money.of(10, "USD"), 30)
TERM = timedelta(days=TIER.duration_days)
OWNER_BASE = 41_000_000
USER_BASE = 52_000_000
CHAT_BASE = -1_003_000_000_000


class Kind(StrEnum):
    """What a message the bot sent is, by its wording (core.services.notices)."""

    INVITE = "invite"
    RENEWED = "renewed"
    REMINDER = "reminder"
    ENDED = "ended"
    OWNER_NEW = "owner: new subscription"
    OWNER_RENEWAL = "owner: renewal"
    OTHER = "other"


def kind_of(text: str) -> Kind:
    if text.startswith("Payment confirmed. Welcome to"):
        return Kind.INVITE
    if text.startswith("Payment confirmed. Your subscription to"):
        return Kind.RENEWED
    if text.endswith("Renew to keep your access."):
        return Kind.REMINDER
    if " has ended." in text:
        return Kind.ENDED
    if text.startswith("New subscription in"):
        return Kind.OWNER_NEW
    if text.startswith("Renewal in"):
        return Kind.OWNER_RENEWAL
    return Kind.OTHER


@attrs.frozen
class Sent:
    """A message Telegram accepted from the fleet."""

    chat_id: int
    text: str
    link: str | None
    """The URL of its first button, if it has one."""
    caller: Caller

    @property
    def kind(self) -> Kind:
        return kind_of(self.text)


@attrs.frozen
class Purchase:
    user: int
    channel: Channel
    intent_id: str
    invoice_id: str


@attrs.define
class Shop:
    directory: Path
    telegram: TelegramEmulator
    payments: NowPaymentsEmulator
    balancer: IpnBalancer
    tap: TelegramTap
    fleet: Fleet
    web: list[PaygateProcess]
    workers: list[PaygateProcess]
    seller: Process
    """The test process's own object graph (no role): checkouts and channel set-up."""
    engine: AsyncEngine
    """The fleet's database, for reading what it keeps (the seller's own engine)."""
    clock_path: Path
    channels: list[Channel] = attrs.Factory(list)
    resent: list[IpnDelivery] = attrs.Factory(list)
    """Notifications this test sent again for the provider, each acknowledged."""
    _sent: list[Sent] = attrs.Factory(list)
    _read: int = 0
    """How many of the tap's calls ``_sent`` has taken in."""

    # ------------------------------------------------------------ the fleet
    async def start(self, process: PaygateProcess, faults: str | None = None) -> None:
        """Start (or restart) a process with its own tap port and, for crash tests (a
        fleet run by the fault test root), the rules it dies by."""
        overrides = {
            "PAYGATE_TELEGRAM_API_URL": await self.tap.url_for(process.name, process.starts + 1)
        }
        if faults:
            overrides[FAULTS_VARIABLE] = faults
        process.start(overrides)

    async def start_fleet(self) -> None:
        for process in self.fleet.processes:
            await self.start(process)
        await asyncio.gather(*(p.wait_started() for p in self.fleet.processes))

    def move_clock(self, offset: timedelta) -> None:
        """Every process's clock (and the test's) to real time plus ``offset``."""
        OffsetFileClock.write(self.clock_path, offset)

    async def drained(self, what: str, done: Mapping[Kind, int], within: float = 240.0) -> None:
        """Until the bot has sent at least ``done`` of each kind and the outbox holds
        nothing pending (a claimed message stays pending until it is settled, so
        nothing is in flight either)."""
        deadline = time.monotonic() + within
        while True:
            counts = Counter(s.kind for s in self.sent())
            try:
                pending = await self.pending()
            except Unavailable:
                # The store is busy with the fleet's writes (a SQLite file shared by
                # several processes) or still coming back: ask again at the next look.
                pending = -1
            if pending == 0 and all(counts[kind] >= n for kind, n in done.items()):
                return
            if time.monotonic() > deadline:
                pytest.fail(
                    f"timed out waiting for {what}: sent {dict(counts)}, {pending} pending\n"
                    f"{self.fleet.logs()}",
                    pytrace=False,
                )
            await asyncio.sleep(0.2)

    # ------------------------------------------------------------ people
    async def set_up_channels(self, count: int) -> None:
        """``count`` channel pairs, each its own owner's, registered and priced through
        the use cases (the bot checks its rights in both chats)."""
        services = self.seller.services
        for i in range(count):
            owner = OWNER_BASE + i
            open_chat, closed_chat = CHAT_BASE - 2 * i, CHAT_BASE - 2 * i - 1
            self.telegram.add_user(owner, f"Owner {i}")
            self.telegram.add_chat(open_chat, "channel", f"Shop {i}", creator_id=owner)
            self.telegram.add_chat(closed_chat, "channel", f"Shop {i} VIP", creator_id=owner)
            channel = await services.register_channel.execute(
                UserId(owner), ChatId(open_chat), ChatId(closed_chat), f"Shop {i}"
            )
            self.channels.append(
                await services.set_tiers.execute(UserId(owner), channel.id, (TIER,))
            )

    def add_subscribers(self, count: int, *, more: bool = False) -> list[int]:
        """``count`` subscribers from the first id on; with ``more``, after those the
        emulator knows already (a test that adds people as it goes)."""
        first = sum(1 for user in self.telegram.users if user >= USER_BASE) if more else 0
        users = [USER_BASE + first + i for i in range(count)]
        for user in users:
            self.telegram.add_user(user, f"Subscriber {user}")
        return users

    def channel_of(self, user: int) -> Channel:
        return self.channels[(user - USER_BASE) % len(self.channels)]

    async def checkout(self, user: int) -> Purchase:
        """The user confirmed tier 1 of their channel: an intent and its invoice. Like a
        user whose tap met a busy moment, this tries again after a "try later"."""
        channel = self.channel_of(user)
        for attempt in range(1, 6):
            try:
                issued = await self.seller.services.checkout.execute(
                    UserId(user), channel.id, TIER.number
                )
                break
            except Unavailable:
                # The database server is shared with other test runs and may be out of
                # connections for a moment; the fleet retries the same way.
                if attempt == 5:
                    raise
                await asyncio.sleep(0.5 * attempt)
        invoice_id = parse_qs(urlsplit(issued.url).query)["iid"][0]
        return Purchase(user, channel, issued.intent_id, invoice_id)

    async def buy_all(
        self, users: Iterable[int], plan_for: Callable[[int], PayPlan], concurrency: int = 16
    ) -> list[EmulatedPayment]:
        """Each user checks out and pays; the provider notifies (and retries) as it does."""
        gate = asyncio.Semaphore(concurrency)

        async def buy(user: int) -> EmulatedPayment:
            async with gate:
                purchase = await self.checkout(user)
                return await self.payments.pay(purchase.invoice_id, plan_for(user))

        return list(await asyncio.gather(*(buy(u) for u in users)))

    def admit(self, user: int, link: str) -> None:
        """The user opens their personal link and is let in (what the bot process does
        with the join request; none runs in these tests)."""
        channel = self.channel_of(user)
        outcome = self.telegram.user_opens_link(user, link)
        assert outcome is JoinOutcome.REQUESTED, f"{user}'s link {link}: {outcome}"
        chat = self.telegram.chat(channel.closed_chat_id)
        invite = chat.links[link]
        self.telegram.join(chat, self.telegram.users[user], invite, actor=self.telegram.bot)

    def is_member(self, user: int) -> bool:
        status = self.telegram.status_of(self.channel_of(user).closed_chat_id, user)
        return str(status) == "member"

    # ------------------------------------------------------------ the provider's side
    def unacknowledged(self) -> list[IpnDelivery]:
        """The last try of every (payment, status) notification the fleet never
        answered with a 2xx (neither to the provider nor to this test's resends)."""
        last: dict[tuple[int, str, bytes], IpnDelivery] = {}
        acknowledged: set[tuple[int, str, bytes]] = set()
        for delivery in self.payments.deliveries:
            key = (delivery.payment_id, delivery.status, delivery.body)
            last[key] = delivery
            if delivery.response_status is not None and 200 <= delivery.response_status < 300:
                acknowledged.add(key)
        acknowledged |= {(d.payment_id, d.status, d.body) for d in self.resent}
        return [d for k, d in last.items() if k not in acknowledged]

    async def post_ipn(self, url: str, delivery: IpnDelivery, sender: str) -> tuple[int, str]:
        """Send a recorded notification again, as the provider would; the answer's
        status and the outcome the fleet reported (or the error)."""
        headers = {
            "Content-Type": "application/json",
            "x-nowpayments-sig": delivery.signature,
            "X-Forwarded-For": sender,
        }
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
                http.post(url, data=delivery.body, headers=headers) as answer,
            ):
                text = await answer.text()
                status = answer.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            return 0, type(exc).__name__
        try:
            body = json.loads(text)
        except ValueError:
            return status, text[:80]
        return status, str(body.get("outcome", body.get("error")))

    async def resend_until_acknowledged(self, within: float = 90.0) -> int:
        """What the provider does for a notification it never got a 2xx for (its
        retries ran out while no web process answered): send it again, through the
        balancer, until one is answered. Returns how many were sent again."""
        waiting = self.unacknowledged()
        deadline = time.monotonic() + within

        async def resend(delivery: IpnDelivery) -> None:
            while time.monotonic() < deadline:
                status, _ = await self.post_ipn(
                    f"{self.balancer.url}/webhooks/nowpayments", delivery, NOWPAYMENTS_SENDERS[0]
                )
                if 200 <= status < 300:
                    self.resent.append(delivery)
                    return
                await asyncio.sleep(0.5)
            pytest.fail(f"no web process took payment {delivery.payment_id}", pytrace=False)

        await asyncio.gather(*(resend(d) for d in waiting))
        return len(waiting)

    async def replay_to_every_web(self, deliveries: list[IpnDelivery]) -> Counter[str]:
        """Each notification again, to every web process at once (a provider retry that
        meets a retry of the balancer); returns the outcomes the fleet answered."""
        posts = [
            self.post_ipn(
                f"http://127.0.0.1:{p.env['PAYGATE_HTTP_PORT']}/webhooks/nowpayments",
                delivery,
                NOWPAYMENTS_SENDERS[n % len(NOWPAYMENTS_SENDERS)],
            )
            for n, delivery in enumerate(deliveries)
            for p in self.web
        ]
        return Counter(f"{status} {outcome}" for status, outcome in await asyncio.gather(*posts))

    # ------------------------------------------------------------ what people saw
    def sent(self) -> list[Sent]:
        """Every message Telegram accepted from the fleet, oldest first; a digest of
        owner notices counts as each notice it holds (what the owner read)."""
        calls = self.tap.calls
        for call in calls[self._read :]:
            if call.method != "sendMessage" or not call.ok:
                continue
            buttons = (call.result.get("reply_markup") or {}).get("inline_keyboard", [])
            first = buttons[0][0] if buttons and buttons[0] else {}
            chat, text = call.result["chat"]["id"], call.result["text"]
            lines = text.splitlines()
            if " updates since " in lines[0] and lines[0].endswith(":"):
                self._sent += [
                    Sent(chat, line.removeprefix("• "), None, call.caller) for line in lines[2:]
                ]
                continue
            self._sent.append(Sent(chat, text, first.get("url"), call.caller))
        self._read = len(calls)
        return list(self._sent)

    def sent_to_users(self) -> list[Sent]:
        return [s for s in self.sent() if s.chat_id >= USER_BASE]

    def offers_shown(self) -> dict[str, int]:
        """How many offer messages each open channel shows now (the bot keeps one)."""
        return {
            channel.title: sum(
                m.text.startswith("Subscribe to")
                for m in self.telegram.messages(channel.open_chat_id)
            )
            for channel in self.channels
        }

    def calls(self, method: str) -> list[TappedCall]:
        return self.tap.by(method)

    def removals(self) -> list[TappedCall]:
        return [c for c in self.calls("unbanChatMember") if int(c.params["user_id"]) >= USER_BASE]

    # ------------------------------------------------------------ what is kept
    async def rows(self, table: Any) -> list[Row[Any]]:
        async with self.engine.connect() as conn:
            return list(await conn.execute(select(table)))

    async def pending(self) -> int:
        async with self.seller.services.uow() as tx:
            return await tx.outbox.pending_count()

    async def outbox_by_status(self) -> Counter[str]:
        return Counter(row.status for row in await self.rows(t.outbox))

    async def audit_chain_holds(self) -> bool:
        async with self.seller.services.uow() as tx:
            return verify_chain(await tx.audit.all())

    def faults_fired(self) -> Counter[str]:
        """Injected crashes by point, from the processes' own last words."""
        fired: Counter[str] = Counter()
        for process in self.fleet.processes:
            for line in process.log().splitlines():
                if FAULT_LOG_MARK in line:
                    point = line.split(f"{FAULT_LOG_MARK} at ", 1)[1].split(" ", 1)[0]
                    fired[point] += 1
        return fired

    def secrets_in_logs(self) -> list[str]:
        """Which of the fleet's secrets appear in a process log (none may)."""
        env = self.fleet.processes[0].env
        named = {
            "bot token": self.telegram.token,
            "NowPayments API key": NP_KEY,
            "IPN secret": NP_SECRET,
            "NowPayments account password": NP_LOGIN[1],
            "MAC keys": env["PAYGATE_MAC_KEYS"],
            "encryption keys": env["PAYGATE_ENCRYPTION_KEYS"],
        }
        return [
            f"{what} in {p.name}"
            for p in self.fleet.processes
            for what, value in named.items()
            if value in p.log()
        ]


@attrs.define
class Stopwatch:
    """Wall time of a test's phases, each written out as it ends (``pytest -s``)."""

    title: str
    began: float = attrs.Factory(time.monotonic)
    laps: dict[str, str] = attrs.Factory(dict)
    _last: float = attrs.Factory(time.monotonic)

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.laps[f"wall: {name}"] = f"{now - self._last:.1f} s"
        self._last = now
        sys.stdout.write(f"[{self.title}] {name}: {self.laps[f'wall: {name}']}\n")

    def total(self) -> dict[str, str]:
        return {**self.laps, "wall: total": f"{time.monotonic() - self.began:.1f} s"}


def report(title: str, figures: Mapping[str, object]) -> None:
    """Figures for the person running the suite (shown with ``pytest -s``)."""
    width = max(len(name) for name in figures)
    lines = [f"\n== {title}"] + [
        f"   {name.ljust(width)}  {value}" for name, value in figures.items()
    ]
    sys.stdout.write("\n".join(lines) + "\n")


@asynccontextmanager
async def _fleet_database(given: URL | None) -> AsyncIterator[URL]:
    """``given``, or a blank database of this test's own on the suite's Postgres."""
    if given is not None:
        yield given
        return
    async with blank_postgres_database() as url:
        yield url


@asynccontextmanager
async def open_shop(
    directory: Path,
    *,
    web: int,
    workers: int,
    ipn_retries: int,
    ipn_retry_delay: float,
    env: Mapping[str, str] | None = None,
    root: str = CLI,
    database: URL | None = None,
) -> AsyncIterator[Shop]:
    """The emulators, balancer, tap and a migrated Postgres database of this test's own
    (dropped after it), and a fleet of ``web`` and ``workers`` processes, not started,
    each run as ``python -m <root> <role>``. ``database`` replaces the Postgres
    database with one the test owns (a SQLite file, a throwaway server), migrated here.

    Telegram's flood limits are off in the emulator: each process paces itself to them
    already, and what is under test here is what happens, not how fast."""
    web_ports = [free_port() for _ in range(web)]
    async with (
        open_emulators(
            directory / "unused.db",
            web_ports[0],
            flood=FloodLimits.off(),
            ipn_retries=ipn_retries,
            ipn_retry_delay=ipn_retry_delay,
        ) as emulated,
        IpnBalancer([f"http://127.0.0.1:{port}" for port in web_ports]) as balancer,
        TelegramTap(emulated.telegram.base_url) as tap,
        _fleet_database(database) as url,
    ):
        database_url = url.render_as_string(hide_password=False)
        await asyncio.to_thread(upgrade, database_url, "head")
        clock_path = directory / "clock-offset"
        fleet_env = emulated.env | {
            "PAYGATE_DATABASE_URL": database_url,
            # Invoices name the balancer as their callback, as they would name the
            # public address of a real deployment.
            "PAYGATE_PUBLIC_URL": balancer.url,
            "PAYGATE_TRUSTED_PROXIES": "127.0.0.1/32",
            "PAYGATE_CLOCK_OFFSET_FILE": str(clock_path),
            # Commits wake the dispatchers; polling is only their safety net.
            "PAYGATE_DISPATCH_EVERY_SECONDS": "0.5",
            # Sweeps notice a clock jump within a second.
            "PAYGATE_SWEEP_EVERY_SECONDS": "1",
            "PAYGATE_BROADCAST_EVERY_SECONDS": "3600",
            "PAYGATE_RECONCILE_EVERY_SECONDS": "5",
        }
        fleet_env |= dict(env or {})
        seller = await start_process(load_config(fleet_env, dotenv=directory / "none.env"), Roles())
        try:
            with fleet_in(directory) as fleet:
                webs = [
                    fleet.add(f"web-{n}", "web", fleet_env | {"PAYGATE_HTTP_PORT": str(port)}, root)
                    for n, port in enumerate(web_ports, start=1)
                ]
                workers_ = [
                    fleet.add(f"worker-{n}", "worker", fleet_env, root)
                    for n in range(1, workers + 1)
                ]
                yield Shop(
                    directory,
                    emulated.telegram,
                    emulated.payments,
                    balancer,
                    tap,
                    fleet,
                    webs,
                    workers_,
                    seller,
                    seller.services.engine,
                    clock_path,
                )
        finally:
            await seller.close()
