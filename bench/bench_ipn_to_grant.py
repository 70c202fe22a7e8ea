"""IPN-to-grant latency through the outbox, against the Telegram emulator.

What a paying subscriber waits for: from the moment NowPayments sends the signed
``finished`` notification to the moment Telegram (the emulator) records the message
that carries their personal access link. In between, all of production's path runs:
``POST /webhooks/nowpayments`` verifies and records the payment and queues the grant
in the outbox (one transaction); the worker's dispatcher claims it, creates the
invite link (``createChatInviteLink``), queues and sends the message, paced to
Telegram's limits, alongside the owner's "new subscription" notification, which all
go to ONE owner chat at about one message a second.

PayGate runs as real processes (``paygate run``, or ``paygate web`` + ``paygate
worker``), configured only through the environment as a deployment is, with the
production defaults (dispatch interval included); both emulators run in this
process, the Telegram one enforcing the documented flood limits. Every IPN is for a
subscriber of its own, whose intent and hosted invoice were made beforehand through
the checkout use case. IPNs are sent open loop, at fixed rates, on schedule whether
or not earlier ones were answered; latency counts from the scheduled send time. As
NowPayments does, IPNs come from four addresses in turn (``--senders``; PayGate
limits webhooks per address, 20/s sustained) and one not answered 2xx is sent again
(here up to five times, ten seconds apart); the figures say how many needed that and
what PayGate answered instead.

Besides the latency percentiles, each phase prints where the time went (the IPN's
answer, then the invite link, then the message carrying it) and the CPU time each
PayGate process spent per IPN, which tells a slow design from a busy machine: the
benchmark shares its cores with PayGate, and on a shared machine with everyone
else. ``--profile DIR`` runs the processes under cProfile.

Issue #6 targets, checked and printed per run:

* latency phases (5, 15, 25 IPN/s): p99 <= 500 ms, every IPN granted exactly once;
* backlog phases (above Telegram's 30 messages/s): nothing lost, nothing granted
  twice, and the backlog drains at >= 90% of Telegram's rate (messages the emulator
  accepted per second over the saturated window, owner notifications included).

Prints figures; it is not a test. Postgres: ``--database postgres`` (or ``both``)
uses a database of its own on ``PAYGATE_BENCH_POSTGRES_URL`` (default the test
server), created and dropped here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AsyncExitStack
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import attrs
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from adapters.outbound.sqla import upgrade
from composition.assembly import opened_store
from composition.config import Config, load_config
from composition.demo.environment import demo_environment, free_port
from composition.processes.process import Roles, start_process
from core.domain.ids import ChatId, UserId
from core.domain.money import Money
from core.domain.tier import Tier
from sandbox.nowpayments.emulator import NowPaymentsEmulator, PayPlan
from sandbox.telegram.model import CallRecord
from sandbox.telegram.server import TelegramEmulator

POSTGRES_URL = os.environ.get(
    "PAYGATE_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
OWNER = 1001
OPEN_CHAT = -1001500000001
CLOSED_CHAT = -1001500000002
FIRST_SUBSCRIBER = 3_000_000
TELEGRAM_RATE = 30.0
"""Messages per second Telegram allows a bot overall (Bots FAQ), what a backlog can
drain at, at best."""
P99_TARGET_MS = 500.0
DRAIN_TARGET = 0.90
PAYING = PayPlan(statuses=("finished",))
"""One paying notification per subscriber: the one the grant hangs on."""
GRANT_TEXT = "Payment confirmed. Welcome to"
EMULATORS = "emulators+load (this process)"
"""Shown beside PayGate's processes: the machine's cores are shared with it."""
IPN_TIMEOUT = 3.0
"""NowPayments waits this long for the answer to an IPN."""
IPN_RETRIES = 5
IPN_RETRY_DELAY = 10.0
"""The provider resends an IPN that was not answered 2xx (NowPayments: set in the
merchant dashboard); the figures say how many needed it."""


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# ------------------------------------------------------------------ plan


@attrs.frozen
class Phase:
    rate: float
    seconds: float
    backlog: bool

    @property
    def count(self) -> int:
        return round(self.rate * self.seconds)

    def title(self) -> str:
        kind = "backlog" if self.backlog else "latency"
        return f"{kind} {self.rate:g} IPN/s x {self.seconds:g} s"


@attrs.frozen
class Scenario:
    database: str
    """sqlite or postgres"""
    topology: str
    """monolith (paygate run) or split (paygate web + paygate worker)"""

    def title(self) -> str:
        roles = "paygate run" if self.topology == "monolith" else "paygate web + paygate worker"
        return f"{self.database}, {self.topology} ({roles})"


@attrs.define
class Subscriber:
    user_id: int
    invoice_id: str
    sent_at: float | None = None
    ipn_status: int | None = None
    ipn_attempts: list[int | None] = attrs.Factory(list)
    """Each delivery's HTTP status (None: no answer in the provider's 3 s)."""
    answered_at: float | None = None
    link_at: float | None = None
    """When Telegram made their invite link (the first one)."""
    granted_at: list[float] = attrs.Factory(list)


# ------------------------------------------------------------------ the provider


class SpreadSenders(NowPaymentsEmulator):
    """NowPayments delivers IPNs from several published addresses (four today). This
    emulator's deliveries go out from as many loopback addresses (127.0.0.2, .3, ...)
    in turn, so PayGate's per-IP rate limit on webhooks sees what the provider would
    make it see; one sender puts every IPN on a single address."""

    def __init__(self, *, senders: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._senders = senders
        self._sessions: list[aiohttp.ClientSession] = []
        self._turn = itertools.count()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        url = await super().start(host, port)
        self._sessions = [
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(local_addr=(f"127.0.0.{2 + n}", 0)),
                timeout=aiohttp.ClientTimeout(total=IPN_TIMEOUT),
            )
            for n in range(self._senders)
        ]
        return url

    async def stop(self) -> None:
        for session in self._sessions:
            await session.close()
        await super().stop()

    async def _post_ipn(
        self, url: str, body: bytes, signature: str
    ) -> tuple[int | None, str | None]:
        session = self._sessions[next(self._turn) % len(self._sessions)]
        headers = {"Content-Type": "application/json", "x-nowpayments-sig": signature}
        try:
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                return response.status, None
        except (aiohttp.ClientError, TimeoutError) as exc:
            return None, f"{type(exc).__name__}: {exc}"


# ------------------------------------------------------------------ observing Telegram


class GrantWatch:
    """Reads the emulator's call log as it grows: which subscriber got their access
    message when, and every message the bot got through."""

    def __init__(self, telegram: TelegramEmulator) -> None:
        self._telegram = telegram
        self._seen = 0
        self.subscribers: dict[int, Subscriber] = {}
        self.sent: list[float] = []
        """Times of every message Telegram accepted (any chat)."""
        self.owner_notes: list[float] = []
        self.refused: list[float] = []
        """Times of every 429 Telegram answered."""
        self.refused_by: Counter[str] = Counter()
        """429s by method and recipient, for the whole run."""

    def poll(self) -> None:
        calls = self._telegram.calls
        for call in calls[self._seen :]:
            self._take(call)
        self._seen = len(calls)

    def _take(self, call: CallRecord) -> None:
        if call.error_code == 429:
            self.refused.append(call.at)
            chat = int(str(call.params.get("chat_id", "0")))
            whom = "owner" if chat == OWNER else "subscriber" if chat > 0 else "channel"
            self.refused_by[f"{call.method} to {whom}"] += 1
        if call.method == "createChatInviteLink" and call.ok:
            self._link_made(call)
        if call.method != "sendMessage" or not call.ok:
            return
        self.sent.append(call.at)
        chat = int(str(call.params.get("chat_id", "0")))
        if chat == OWNER:
            self.owner_notes.append(call.at)
            return
        subscriber = self.subscribers.get(chat)
        if subscriber is not None and str(call.params.get("text", "")).startswith(GRANT_TEXT):
            subscriber.granted_at.append(call.at)

    def _link_made(self, call: CallRecord) -> None:
        name = str(call.params.get("name", ""))  # "sub <user id> #<period>"
        user = name.removeprefix("sub ").partition(" ")[0]
        subscriber = self.subscribers.get(int(user)) if user.isdigit() else None
        if subscriber is not None and subscriber.link_at is None:
            subscriber.link_at = call.at

    def granted(self, subscribers: Sequence[Subscriber]) -> int:
        self.poll()
        return sum(1 for s in subscribers if s.granted_at)


def access_messages(telegram: TelegramEmulator, subscriber: Subscriber) -> tuple[int, int]:
    """(access messages carrying a link made for this subscriber, links made for them)."""
    name = f"sub {subscriber.user_id} #1"
    links = {link.url for link in telegram.links(CLOSED_CHAT) if link.name == name}
    carrying = 0
    for message in telegram.messages(subscriber.user_id):
        markup = json.dumps(message.reply_markup or {})
        if message.from_id == telegram.bot.id and any(url in markup for url in links):
            carrying += 1
    return carrying, len(links)


# ------------------------------------------------------------------ figures


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest rank: the smallest value with at least ``fraction`` of them at or below."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


@attrs.frozen
class PhaseResult:
    phase: Phase
    sent: int
    answered_ok: int
    answered_first_time: int
    refused_attempts: Counter[str]
    """IPN deliveries PayGate did not answer 200, by what it answered."""
    once: int
    twice_or_more: int
    lost: int
    latencies_ms: list[float]
    stages_ms: dict[str, list[float]]
    """Where the time went: the IPN's answer, the invite link, the message."""
    drain_per_second: float
    grants_per_second: float
    refusals: int
    owner_notes: int
    cpu_ms_per_ipn: dict[str, float]

    def lines(self) -> Iterator[str]:
        p = self.phase
        yield (
            f"  {p.title()}: {self.sent} IPNs ({self.answered_ok} answered 200, "
            f"{self.sent - self.answered_first_time} only after a retry); "
            f"granted once {self.once}, twice+ {self.twice_or_more}, lost {self.lost}"
        )
        if self.latencies_ms:
            ms = self.latencies_ms
            yield (
                f"    IPN -> access message: p50 {percentile(ms, 0.50):7.1f} ms  "
                f"p95 {percentile(ms, 0.95):7.1f} ms  p99 {percentile(ms, 0.99):7.1f} ms  "
                f"max {max(ms):7.1f} ms  (mean {statistics.fmean(ms):.1f})"
            )
            parts = [
                f"{name} p50 {percentile(v, 0.5):.0f} / p99 {percentile(v, 0.99):.0f} ms"
                for name, v in self.stages_ms.items()
                if v
            ]
            yield "    stages: " + "; ".join(parts)
        if self.cpu_ms_per_ipn:
            yield "    CPU per IPN: " + ", ".join(
                f"{role} {ms:.1f} ms" for role, ms in self.cpu_ms_per_ipn.items()
            )
        if self.refused_attempts:
            yield "    IPN deliveries not answered 200: " + ", ".join(
                f"{what} x{n}" for what, n in self.refused_attempts.most_common()
            )
        exact = self.once == self.sent and self.twice_or_more == 0 and self.lost == 0
        if p.backlog:
            share = self.drain_per_second / TELEGRAM_RATE
            yield (
                f"    drain: {self.drain_per_second:5.1f} msg/s = {share:6.1%} of Telegram's "
                f"{TELEGRAM_RATE:g}/s (grants {self.grants_per_second:.1f}/s, owner notes "
                f"{self.owner_notes}); 429s from Telegram: {self.refusals}"
            )
            verdict = exact and share >= DRAIN_TARGET
            yield f"    target (nothing lost, none twice, drain >= {DRAIN_TARGET:.0%}): " + (
                "MET" if verdict else "MISSED"
            )
        else:
            p99 = percentile(self.latencies_ms, 0.99) if self.latencies_ms else float("inf")
            yield (
                f"    grants {self.grants_per_second:.1f}/s, owner notes sent {self.owner_notes}, "
                f"429s from Telegram: {self.refusals}"
            )
            verdict = exact and p99 <= P99_TARGET_MS
            yield f"    target (exactly once, p99 <= {P99_TARGET_MS:.0f} ms): " + (
                "MET" if verdict else "MISSED"
            )


# ------------------------------------------------------------------ the stack


@attrs.define
class Stack:
    """PayGate's processes for one scenario, and what they need."""

    scenario: Scenario
    env: dict[str, str]
    config: Config
    folder: Path
    profile: Path | None = None
    """Where each process writes its cProfile statistics (``<role>.prof``), if set."""
    processes: list[tuple[str, asyncio.subprocess.Process]] = attrs.Factory(list)

    @property
    def roles(self) -> list[str]:
        return ["run"] if self.scenario.topology == "monolith" else ["web", "worker"]

    async def start(self, telegram: TelegramEmulator) -> None:
        roles = self.roles
        before = len(telegram.calls_to("getMe"))
        for role in roles:
            log = (self.folder / f"{role}.log").open("wb")
            profiling = (
                []
                if self.profile is None
                else [
                    "-m",
                    "cProfile",
                    "-o",
                    str(
                        self.profile / f"{self.scenario.database}-"
                        f"{self.scenario.topology}-{role}.prof"
                    ),
                ]
            )
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                *profiling,
                "-m",
                "composition.cli",
                role,
                env={**os.environ, **self.env},
                cwd=self.folder,  # no stray .env is read
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
            log.close()
            self.processes.append((role, process))
        await self._ready(telegram, before + len(roles))

    async def _ready(self, telegram: TelegramEmulator, get_me: int) -> None:
        url = f"http://127.0.0.1:{self.config.http_port}/readyz"
        deadline = time.monotonic() + 60
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                for role, process in self.processes:
                    if process.returncode is not None:
                        raise RuntimeError(f"paygate {role} exited: {self.log_tail(role)}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(url) as answer:
                        if answer.status == 200 and len(telegram.calls_to("getMe")) >= get_me:
                            # The worker loops start right after the Telegram client.
                            await asyncio.sleep(0.5)
                            return
                await asyncio.sleep(0.1)
        raise RuntimeError("PayGate did not become ready in 60 s")

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time each process has used so far (Linux; empty elsewhere)."""
        used: dict[str, float] = {}
        ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        for role, process in self.processes:
            stat = Path(f"/proc/{process.pid}/stat")
            if not stat.exists():
                continue
            fields = stat.read_text().rsplit(")", 1)[1].split()
            used[role] = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        return used

    def log_tail(self, role: str, lines: int = 30) -> str:
        path = self.folder / f"{role}.log"
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    async def stop(self) -> list[str]:
        """SIGTERM each process (workers finish their runs in flight); their exit codes."""
        outcomes: list[str] = []
        for role, process in reversed(self.processes):
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            try:
                code = await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                code = await process.wait()
                outcomes.append(f"{role}: killed after 30 s")
                continue
            outcomes.append(f"{role}: exit {code}")
        self.processes.clear()
        return outcomes


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    admin_url = make_url(POSTGRES_URL)
    name = f"paygate_bench_{secrets.token_hex(4)}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.dispose()


def environment(
    database_url: str,
    telegram: TelegramEmulator,
    payments: NowPaymentsEmulator,
    np_key: str,
    np_secret: str,
    folder: Path,
) -> dict[str, str]:
    env = demo_environment(
        folder / "unused.db",
        telegram.base_url,
        telegram.token,
        payments.base_url,
        np_key,
        np_secret,
        free_port(),
    )
    env["PAYGATE_DATABASE_URL"] = database_url
    # Production's schedule, not the demo's hurried one: every interval at its default.
    for name in (
        "PAYGATE_DISPATCH_EVERY_SECONDS",
        "PAYGATE_SWEEP_EVERY_SECONDS",
        "PAYGATE_BROADCAST_EVERY_SECONDS",
        "PAYGATE_RECONCILE_EVERY_SECONDS",
    ):
        env.pop(name)
    return env


def prepare_telegram(telegram: TelegramEmulator, users: Sequence[int]) -> None:
    if OWNER not in telegram.users:
        telegram.add_user(OWNER, "Olivia", username="olivia")
        telegram.add_chat(OPEN_CHAT, "channel", "Bench Signals", creator_id=OWNER)
        telegram.add_chat(CLOSED_CHAT, "channel", "Bench Signals VIP", creator_id=OWNER)
    for user in users:
        telegram.add_user(user, f"Subscriber {user}")


async def checkouts(config: Config, users: Sequence[int]) -> list[Subscriber]:
    """The owner's channel and one real intent + hosted invoice per subscriber, made
    through the use cases (as the bot's Confirm button does), in a process of ours
    that runs nothing else."""
    setup = await start_process(config, Roles())
    try:
        services = setup.services
        channel = await services.register_channel.execute(
            UserId(OWNER), ChatId(OPEN_CHAT), ChatId(CLOSED_CHAT), "Bench Signals"
        )
        await services.set_tiers.execute(
            UserId(OWNER), channel.id, (Tier(1, Money.of(Decimal(10), "USD"), 30),)
        )
        gate = asyncio.Semaphore(8)

        async def one(user: int) -> Subscriber:
            async with gate:
                invoice = await services.checkout.execute(UserId(user), channel.id, 1)
            invoice_id = parse_qs(urlsplit(invoice.url).query)["iid"][0]
            return Subscriber(user, invoice_id)

        return list(await asyncio.gather(*(one(u) for u in users)))
    finally:
        await setup.close()


async def outbox_left(config: Config) -> int:
    """Outbox rows not done yet, read through the store the processes open."""
    async with opened_store(config) as store, store.uow() as tx:
        return await tx.outbox.pending_count()


# ------------------------------------------------------------------ running a phase


async def run_phase(
    phase: Phase,
    subscribers: list[Subscriber],
    payments: NowPaymentsEmulator,
    watch: GrantWatch,
    stack: Stack,
    drain_grace: float,
) -> PhaseResult:
    cpu_before = {**stack.cpu_seconds(), EMULATORS: time.process_time()}
    for subscriber in subscribers:
        watch.subscribers[subscriber.user_id] = subscriber
    watch.poll()
    sent_before, owner_before, refused_before = (
        len(watch.sent),
        len(watch.owner_notes),
        len(watch.refused),
    )

    async def send(subscriber: Subscriber) -> None:
        payment = await payments.pay(subscriber.invoice_id, PAYING)
        subscriber.answered_at = time.monotonic()
        subscriber.ipn_status = payment.deliveries[-1].response_status
        subscriber.ipn_attempts = [d.response_status for d in payment.deliveries]

    started = time.monotonic() + 0.1
    tasks: list[asyncio.Task[None]] = []
    for index, subscriber in enumerate(subscribers):
        due = started + index / phase.rate
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        subscriber.sent_at = due
        tasks.append(asyncio.create_task(send(subscriber)))
    await asyncio.gather(*tasks)
    # Long enough for a backlog to drain at Telegram's rate, with room to spare.
    deadline = time.monotonic() + drain_grace + phase.count / (TELEGRAM_RATE * 0.5)
    while time.monotonic() < deadline:
        if watch.granted(subscribers) == len(subscribers):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # a second access message would show up by now
    watch.poll()
    cpu_after = {**stack.cpu_seconds(), EMULATORS: time.process_time()}

    granted = [s for s in subscribers if s.granted_at]
    latencies = [(s.granted_at[0] - (s.sent_at or 0.0)) * 1000 for s in granted]
    firsts = sorted(s.granted_at[0] for s in granted)
    window = (firsts[-1] - firsts[0]) if len(firsts) > 1 else 0.0
    messages = [t for t in watch.sent[sent_before:] if firsts and firsts[0] <= t <= firsts[-1]]
    return PhaseResult(
        phase=phase,
        sent=len(subscribers),
        answered_ok=sum(1 for s in subscribers if s.ipn_status == 200),
        answered_first_time=sum(
            1 for s in subscribers if s.ipn_status == 200 and len(s.ipn_attempts) == 1
        ),
        refused_attempts=Counter(
            "no answer in 3 s" if status is None else f"HTTP {status}"
            for s in subscribers
            for status in s.ipn_attempts
            if status != 200
        ),
        once=sum(1 for s in subscribers if len(s.granted_at) == 1),
        twice_or_more=sum(1 for s in subscribers if len(s.granted_at) > 1),
        lost=sum(1 for s in subscribers if not s.granted_at),
        latencies_ms=latencies,
        stages_ms={
            "IPN answered": [
                (s.answered_at - s.sent_at) * 1000
                for s in subscribers
                if s.answered_at is not None and s.sent_at is not None
            ],
            "answer -> link made": [
                (s.link_at - s.answered_at) * 1000
                for s in granted
                if s.link_at is not None and s.answered_at is not None
            ],
            "link -> message": [
                (s.granted_at[0] - s.link_at) * 1000 for s in granted if s.link_at is not None
            ],
        },
        drain_per_second=len(messages) / window if window else 0.0,
        grants_per_second=(len(firsts) - 1) / window if window else 0.0,
        refusals=len(watch.refused) - refused_before,
        owner_notes=len(watch.owner_notes) - owner_before,
        cpu_ms_per_ipn={
            role: (cpu_after[role] - cpu_before[role]) * 1000 / len(subscribers)
            for role in cpu_after
            if role in cpu_before
        },
    )


async def run_scenario(
    scenario: Scenario,
    phases: Sequence[Phase],
    telegram: TelegramEmulator,
    next_user: int,
    profile: Path | None,
    senders: int,
) -> int:
    say(f"== {scenario.title()}")
    np_key, np_secret = secrets.token_urlsafe(16), secrets.token_urlsafe(24)
    async with AsyncExitStack() as stack:
        payments = await stack.enter_async_context(
            SpreadSenders(
                senders=senders,
                api_key=np_key,
                ipn_secret=np_secret,
                # As NowPayments does: an IPN not answered 2xx is sent again.
                ipn_retries=IPN_RETRIES,
                ipn_retry_delay=IPN_RETRY_DELAY,
                ipn_timeout=IPN_TIMEOUT,
            )
        )
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="paygate-bench-")))
        if scenario.database == "postgres":
            url = await stack.enter_async_context(postgres_database())
        else:
            url = f"sqlite+aiosqlite:///{folder / 'paygate.db'}"
        env = environment(url, telegram, payments, np_key, np_secret, folder)
        config = load_config(env, dotenv=folder / "none.env")
        await asyncio.to_thread(upgrade, config.database_url, "head")

        users = list(range(next_user, next_user + sum(p.count for p in phases)))
        prepare_telegram(telegram, users)
        began = time.monotonic()
        subscribers = await checkouts(config, users)
        say(f"  {len(subscribers)} intents with hosted invoices ({time.monotonic() - began:.0f} s)")

        stack_ = Stack(scenario, env, config, folder, profile)
        watch = GrantWatch(telegram)
        await stack_.start(telegram)
        try:
            cursor = 0
            for phase in phases:
                batch = subscribers[cursor : cursor + phase.count]
                cursor += phase.count
                result = await run_phase(phase, batch, payments, watch, stack_, drain_grace=10.0)
                for line in result.lines():
                    say(line)
                await asyncio.sleep(1.0)
        finally:
            outcomes = await stack_.stop()
        twice = links = 0
        for subscriber in subscribers:
            carrying, made = access_messages(telegram, subscriber)
            twice += carrying > 1
            links += made
        if watch.refused_by:
            refusals = ", ".join(f"{what}: {n}" for what, n in watch.refused_by.most_common())
            say(f"  429s from Telegram over the run: {refusals}")
        say(
            f"  whole run: {len(subscribers)} subscribers, {links} invite links made, "
            f"{twice} with a second access message; outbox rows still pending "
            f"{await outbox_left(config)} (owner notifications at 1/s); "
            f"{', '.join(outcomes)}"
        )
        for role, outcome in zip(stack_.roles, reversed(outcomes), strict=True):
            if not outcome.endswith("exit 0"):
                say(f"  --- the end of paygate {role}'s log:")
                say(stack_.log_tail(role))
    say()
    return next_user + len(users)


def build_phases(args: argparse.Namespace) -> list[Phase]:
    seconds = 6.0 if args.quick else args.seconds
    backlog_seconds = 8.0 if args.quick else args.backlog_seconds
    rates = [5.0, 15.0, 25.0] if args.rates is None else args.rates
    backlog = ([45.0] if args.quick else [40.0, 60.0]) if args.backlog is None else args.backlog
    phases = [Phase(r, seconds, backlog=False) for r in rates]
    phases += [Phase(r, backlog_seconds, backlog=True) for r in backlog]
    return phases


def rates(text: str) -> list[float]:
    if text.strip().lower() == "none":
        return []
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError("comma-separated positive rates (e.g. 5,15,25) or none")
    return values


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "IPN-to-grant latency through the outbox: PayGate's real processes receive "
            "signed NowPayments IPNs at fixed rates (open loop) and the benchmark times "
            "each one until the Telegram emulator records the subscriber's access "
            "message; it checks every IPN is granted exactly once and, above Telegram's "
            "30 msg/s, how fast the backlog drains."
        ),
        epilog="Prints figures and whether issue #6's targets were met; exits 0 either way.",
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres", "both"),
        default="sqlite",
        help="database under PayGate (postgres: a fresh database on "
        "PAYGATE_BENCH_POSTGRES_URL; default: sqlite)",
    )
    parser.add_argument(
        "--topology",
        choices=("monolith", "split", "both"),
        default="both",
        help="one 'paygate run' process, or 'paygate web' + 'paygate worker' (default: both)",
    )
    parser.add_argument(
        "--rates", type=rates, help="latency phases, IPN/s, or none (default: 5,15,25)"
    )
    parser.add_argument(
        "--backlog", type=rates, help="backlog phases, IPN/s above 30, or none (default: 40,60)"
    )
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="length of a latency phase (default: 20)"
    )
    parser.add_argument(
        "--backlog-seconds",
        type=float,
        default=20.0,
        help="length of a backlog phase (default: 20)",
    )
    parser.add_argument(
        "--senders",
        type=int,
        default=4,
        choices=range(1, 9),
        metavar="N",
        help="addresses IPNs come from, in turn, as NowPayments' published ones do "
        "(default: 4; PayGate limits webhooks per address)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run each PayGate process under cProfile, writing DIR/<scenario>-<role>.prof",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="short phases (6 s; one 8 s backlog at 45 IPN/s) for a smoke run",
    )
    return parser.parse_args(argv)


async def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    phases = build_phases(args)
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    topologies = ["monolith", "split"] if args.topology == "both" else [args.topology]
    say(f"PayGate IPN -> grant, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    say(
        "phases: " + ", ".join(p.title() for p in phases) + f"; Telegram emulator at its "
        f"documented limits ({TELEGRAM_RATE:g} msg/s overall, 1/s per chat); IPNs from "
        f"{args.senders} address(es), retried up to {IPN_RETRIES} times {IPN_RETRY_DELAY:g} s "
        "apart"
    )
    say()
    next_user = FIRST_SUBSCRIBER
    async with TelegramEmulator() as telegram:
        for database in databases:
            for topology in topologies:
                next_user = await run_scenario(
                    Scenario(database, topology),
                    phases,
                    telegram,
                    next_user,
                    args.profile,
                    args.senders,
                )


if __name__ == "__main__":
    asyncio.run(main())
