"""Pacing against Telegram's documented limits: ours beside python-telegram-bot's stock
AIORateLimiter, in the same run (prints figures; not a test).

Each scenario runs twice at once, each side with its own bot against its own local
emulator enforcing 30 msg/s overall, 1 msg/s per private chat, 20 msg/min per
channel and an admin budget of B calls/s, all as sliding windows answered with 429
and ``retry_after``:

- ``paced``: TelegramMessenger / TelegramChatAccess over our PacedRateLimiter
  (the production path), with PacingLimits set to the same figures;
- ``stock``: PTB's ExtBot with ``AIORateLimiter()`` at its defaults (30/s overall,
  20/min per negative chat id, no retries), making the same Bot API calls.

Scenarios: a broadcast to 1,000 users; 30 posts to one channel; 30 posts to each of
3 channels at once; 5 quick messages to one user; 10,000 removals (one
unbanChatMember each) spread over 3 channels. The stock side's removals are cut off
after ``--stock-window`` seconds (at 20/min per channel they would take hours) and
its time for all of them is projected from the rate it reached.

Achieved rate: calls Telegram accepted, divided by the time they took: from the
first to the last accepted call plus one interval of the limit, and never less
than one window of it (a burst that fits in one window is worth that window's
limit, no more). "Peak sent" is the most calls sent (accepted or refused) in any
one window of the limit: above the limit, Telegram refuses the excess.

Processes (``--workers 1,3``): instead of the comparison, the broadcast and the
removals are made by that many worker processes (real OS processes, each with its
own PacedRateLimiter and TelegramBotClient, like ``paygate worker``) against one
emulator, pacing together through Redis (``--redis-url``, loopback only); with
``--alone`` also by as many processes each pacing on its own, as without Redis. Each
line says the rate achieved together as a share of the limit and the 429s.

Run:  .venv/bin/python -m bench.bench_telegram_pacing            (about 6 minutes)
      .venv/bin/python -m bench.bench_telegram_pacing --quick    (under a minute: a
      10 s channel window, 300 users, 1,000 removals, 10 s of stock removals)
      --only broadcast,private   runs a subset; --help lists every knob.
      --workers 1,3 [--alone]    processes sharing the limits through Redis (about 6
      minutes for 1 and 3, 9 with --alone; --quick, about 1.5)
(``-m`` from the repository root: the worker processes import this module by name.)
Exit status 1 if our limiter misses a target.
"""

from __future__ import annotations

import abc
import argparse
import asyncio
import ipaddress
import logging
import multiprocessing
import secrets
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from multiprocessing.synchronize import Barrier
from typing import Any
from urllib.parse import urlsplit

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from adapters.outbound.redis import connect_redis
from adapters.outbound.redis.telegram_pacing import RedisTelegramPacing
from adapters.outbound.telegram import (
    PacedRateLimiter,
    PacingLimits,
    TelegramBotClient,
    TelegramChatAccess,
    TelegramMessenger,
)
from adapters.outbound.telegram import Rate as PacingRate
from core.domain.ids import ChatId, UserId
from core.domain.messages import Verbatim, VerbatimButton
from sandbox.telegram import CallRecord, FloodLimits, Rate, Status, TelegramEmulator

SCENARIOS = ("broadcast", "channel", "channels", "private", "removals")
FIRST_USER = 10_000
FIRST_CHANNEL = -1005000000001
CONCURRENCY = 16
TARGET = 0.90

Job = Callable[[], Coroutine[Any, Any, object]]


@dataclass(frozen=True)
class Settings:
    scenarios: tuple[str, ...]
    time_scale: float
    """Every message window is divided by this."""
    group_window: float
    """The per-channel window before ``time_scale``: Telegram's is a minute."""
    users: int
    posts: int
    removals: int
    admin_budget: int
    stock_window: float
    workers: tuple[int, ...] = ()
    """Process counts of the processes mode; empty runs the comparison."""
    alone: bool = False
    """Processes mode: also run the processes each pacing on its own."""
    redis_url: str = "redis://127.0.0.1:6379/0"

    @property
    def scaled(self) -> bool:
        return self.time_scale != 1 or self.group_window != 60

    def overall(self) -> Rate:
        return Rate(30, 1.0 / self.time_scale)

    def private(self) -> Rate:
        return Rate(1, 1.0 / self.time_scale)

    def group(self) -> Rate:
        return Rate(20, self.group_window / self.time_scale)

    def admin(self) -> Rate:
        return Rate(self.admin_budget, 1.0)

    def pacing(self, processes: int = 1) -> PacingLimits:
        """Our limiter's settings at the emulator's limits."""

        def rate(r: Rate) -> PacingRate:
            return PacingRate(r.count, r.per)

        return PacingLimits(
            overall=rate(self.overall()),
            private_chat=rate(self.private()),
            group_chat=rate(self.group()),
            admin=rate(self.admin()),
            max_concurrency=CONCURRENCY,
            processes=processes,
        )

    def flood(self) -> FloodLimits:
        return FloodLimits(
            overall=self.overall(),
            private_chat=self.private(),
            group_chat=self.group(),
            admin=self.admin(),
        )


# ----------------------------------------------------------------------- sides
class Side(abc.ABC):
    """One bot with one limiter, against its own emulator."""

    name = ""

    def __init__(self, emulator: TelegramEmulator) -> None:
        self.emulator = emulator

    @abc.abstractmethod
    async def start(self) -> None: ...

    @abc.abstractmethod
    async def stop(self) -> None: ...

    @abc.abstractmethod
    def send(self, chat: int, text: str) -> Job:
        """A job that sends ``text`` to ``chat`` with an inline button."""

    @abc.abstractmethod
    def remove(self, chat: int, user: int) -> Job:
        """A job that removes ``user`` from ``chat`` in one unbanChatMember call."""


OFFER_BUTTON = "https://t.me/paygate_test_bot?start=x"


class PacedBot:
    """The production path: TelegramMessenger / TelegramChatAccess over ``limiter``."""

    def __init__(self, base_url: str, token: str, limiter: PacedRateLimiter) -> None:
        self.limiter = limiter
        self.client = TelegramBotClient(token, api_url=base_url, limiter=limiter)
        self.messenger = TelegramMessenger(self.client)
        self.access = TelegramChatAccess(self.client)

    def send(self, chat: int, text: str) -> Job:
        message = Verbatim(text, ((VerbatimButton("Subscribe", url=OFFER_BUTTON),),))
        return lambda: self.messenger.send(ChatId(chat), message)

    def remove(self, chat: int, user: int) -> Job:
        return lambda: self.access.remove_member(ChatId(chat), UserId(user))


class Paced(Side):
    name = "paced"

    def __init__(self, emulator: TelegramEmulator, settings: Settings) -> None:
        super().__init__(emulator)
        self.bot = PacedBot(emulator.base_url, emulator.token, PacedRateLimiter(settings.pacing()))

    async def start(self) -> None:
        await self.bot.client.start()

    async def stop(self) -> None:
        await self.bot.client.stop()

    def send(self, chat: int, text: str) -> Job:
        return self.bot.send(chat, text)

    def remove(self, chat: int, user: int) -> Job:
        return self.bot.remove(chat, user)


class Stock(Side):
    name = "stock"

    def __init__(self, emulator: TelegramEmulator, settings: Settings) -> None:
        super().__init__(emulator)
        limiter = AIORateLimiter(
            overall_max_rate=30,
            overall_time_period=settings.overall().per,
            group_max_rate=20,
            group_time_period=settings.group().per,
        )
        self.bot = ExtBot(
            emulator.token,
            base_url=f"{emulator.base_url}/bot",
            request=HTTPXRequest(connection_pool_size=CONCURRENCY),
            rate_limiter=limiter,
        )
        self.markup = InlineKeyboardMarkup([[InlineKeyboardButton("Subscribe", url=OFFER_BUTTON)]])

    async def start(self) -> None:
        await self.bot.initialize()

    async def stop(self) -> None:
        await self.bot.shutdown()

    def send(self, chat: int, text: str) -> Job:
        return lambda: self.bot.send_message(chat, text, reply_markup=self.markup)

    def remove(self, chat: int, user: int) -> Job:
        return lambda: self.bot.unban_chat_member(chat, user, only_if_banned=False)


# ----------------------------------------------------------------- measuring
@dataclass
class Run:
    side: str
    jobs: int
    lost: int = 0
    """Jobs that ended in an error (cut-off ones are not counted)."""
    wall: float = 0.0


@dataclass
class Line:
    """One limit as one side met it."""

    label: str
    side: str
    delivered: int
    jobs: int
    lost: int
    refused: int
    peak_sent: int
    limit: Rate
    achieved: float
    """Accepted calls per ``limit.per`` seconds."""
    wall: float
    note: str = ""

    @property
    def fraction(self) -> float:
        return self.achieved / self.limit.count


@dataclass
class Report:
    lines: list[Line] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)


def densest(times: Sequence[float], per: float) -> int:
    ordered = sorted(times)
    best = start = 0
    for end, at in enumerate(ordered):
        while ordered[start] <= at - per:
            start += 1
        best = max(best, end - start + 1)
    return best


def achieved(accepted: Sequence[float], limit: Rate) -> float:
    if not accepted:
        return 0.0
    span = max(accepted) - min(accepted) + limit.per / limit.count
    return len(accepted) / max(span, limit.per) * limit.per


def measure(
    label: str,
    run: Run,
    calls: Sequence[CallRecord],
    limit: Rate,
    jobs: int | None = None,
) -> Line:
    accepted = [c.at for c in calls if c.ok]
    refused = [c for c in calls if c.error_code == 429]
    return Line(
        label=label,
        side=run.side,
        delivered=len(accepted),
        jobs=run.jobs if jobs is None else jobs,
        lost=run.lost,
        refused=len(refused),
        peak_sent=densest([c.at for c in calls], limit.per),
        limit=limit,
        achieved=achieved(accepted, limit),
        wall=run.wall,
    )


async def run_jobs(side: Side, jobs: list[Job], cap: float | None = None) -> Run:
    run = Run(side.name, len(jobs))
    started = time.monotonic()
    tasks = [asyncio.ensure_future(job()) for job in jobs]
    done, pending = await asyncio.wait(tasks, timeout=cap)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    run.wall = time.monotonic() - started
    run.lost = sum(1 for t in done if t.exception() is not None)
    return run


async def on_both_sides(
    settings: Settings,
    setup: Callable[[TelegramEmulator], None],
    work: Callable[[Side], Coroutine[Any, Any, Run]],
) -> list[tuple[Side, Run]]:
    """The same work for each limiter, at the same time, each against its own emulator."""
    sides: list[Side] = []
    makers: tuple[Callable[[TelegramEmulator, Settings], Side], ...] = (Paced, Stock)
    for make in makers:
        emulator = TelegramEmulator(flood=settings.flood())
        await emulator.start()
        setup(emulator)
        new = make(emulator, settings)
        await new.start()
        sides.append(new)
    try:
        runs = await asyncio.gather(*(work(side) for side in sides))
    finally:
        for side in sides:
            await side.stop()
            await side.emulator.stop()
    return list(zip(sides, runs, strict=True))


def sends_to(emulator: TelegramEmulator, chats: set[int] | None = None) -> list[CallRecord]:
    return [
        c
        for c in emulator.calls_to("sendMessage")
        if chats is None or int(c.params["chat_id"]) in chats
    ]


# ----------------------------------------------------------------- scenarios
def broadcast_users(settings: Settings) -> list[int]:
    return [FIRST_USER + n for n in range(settings.users)]


def removal_members(settings: Settings) -> tuple[list[int], list[tuple[int, int]]]:
    """Three channels, and the (channel, user) pairs to remove, spread over them."""
    chats = [FIRST_CHANNEL - n for n in range(3)]
    return chats, [(chats[n % 3], FIRST_USER + n) for n in range(settings.removals)]


def setup_broadcast(emu: TelegramEmulator, users: Sequence[int]) -> None:
    for user in users:
        emu.add_user(user)


def setup_removals(
    emu: TelegramEmulator, chats: Sequence[int], members: Sequence[tuple[int, int]]
) -> None:
    for chat in chats:
        emu.add_chat(chat, "channel", "Closed channel")
    for chat, user in members:
        emu.set_member(chat, user)


def removal_outcome(emu: TelegramEmulator, members: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """Members out, and the calls that did it (refused calls were sent again; what a
    removal costs is the calls Telegram accepted)."""
    out = sum(1 for chat, user in members if emu.status_of(chat, user) is Status.LEFT)
    calls = emu.calls_to("unbanChatMember") + emu.calls_to("banChatMember")
    return out, sum(1 for c in calls if c.ok)


async def broadcast(settings: Settings, report: Report) -> None:
    users = broadcast_users(settings)

    def setup(emu: TelegramEmulator) -> None:
        setup_broadcast(emu, users)

    async def work(side: Side) -> Run:
        return await run_jobs(side, [side.send(u, "New tiers are out") for u in users])

    for side, run in await on_both_sides(settings, setup, work):
        line = measure(
            f"broadcast to {len(users):,} users", run, sends_to(side.emulator), settings.overall()
        )
        report.lines.append(line)
        if side.name == "paced":
            expect(report, line, fraction=True)


async def channel_posts(settings: Settings, report: Report, channels: int) -> None:
    chats = [FIRST_CHANNEL - n for n in range(channels)]

    def setup(emu: TelegramEmulator) -> None:
        for chat in chats:
            emu.add_chat(chat, "channel", "Open channel")

    async def work(side: Side) -> Run:
        jobs = [side.send(c, f"Post {n}") for n in range(settings.posts) for c in chats]
        return await run_jobs(side, jobs)

    for side, run in await on_both_sides(settings, setup, work):
        for chat in chats:
            name = f"{settings.posts} posts to 1 channel" + (
                f" (#{chats.index(chat) + 1} of {channels} at once)" if channels > 1 else ""
            )
            calls = sends_to(side.emulator, {chat})
            line = measure(name, run, calls, settings.group(), jobs=settings.posts)
            line.lost = settings.posts - line.delivered
            report.lines.append(line)
            if side.name == "paced":
                expect(report, line, fraction=True)


async def private_burst(settings: Settings, report: Report) -> None:
    user = FIRST_USER

    def setup(emu: TelegramEmulator) -> None:
        emu.add_user(user)

    async def work(side: Side) -> Run:
        return await run_jobs(side, [side.send(user, f"Step {n}") for n in range(1, 6)])

    for side, run in await on_both_sides(settings, setup, work):
        line = measure(
            "5 quick messages to 1 user", run, sends_to(side.emulator), settings.private()
        )
        report.lines.append(line)
        if side.name == "paced":
            expect(report, line, fraction=False)


async def removals(settings: Settings, report: Report) -> None:
    chats, members = removal_members(settings)

    def setup(emu: TelegramEmulator) -> None:
        setup_removals(emu, chats, members)

    async def work(side: Side) -> Run:
        cap = None if isinstance(side, Paced) else settings.stock_window
        return await run_jobs(side, [side.remove(c, u) for c, u in members], cap)

    label = f"{settings.removals:,} removals in 3 channels"
    for side, run in await on_both_sides(settings, setup, work):
        emu = side.emulator
        unbans = emu.calls_to("unbanChatMember")
        line = measure(label, run, unbans, settings.admin())
        out, calls_per_removal = removal_outcome(emu, members)
        if side.name == "paced":
            line.note = f"{calls_per_removal / max(out, 1):.2f} calls per removal, {out:,} out"
            expect(report, line, fraction=True)
            if calls_per_removal != settings.removals or out != settings.removals:
                report.misses.append(f"{label}: {calls_per_removal} calls, {out} removed")
        else:
            line.lost = run.lost
            # Projected from its pace once the opening burst is spent: the second half.
            accepted = sorted(c.at for c in unbans if c.ok)
            half = run.wall / 2
            late = [t for t in accepted if accepted and t >= accepted[0] + half]
            steady = len(late) / half if half else 0.0
            whole = settings.removals / steady if steady else float("inf")
            line.note = (
                f"cut off after {run.wall:.0f} s with {out:,} out; at its steady "
                f"{steady:.1f}/s all {settings.removals:,} would take {duration(whole)}"
            )
        report.lines.append(line)


# ----------------------------------------------------------------- processes
@dataclass(frozen=True)
class WorkerSpec:
    """One worker process's share of the jobs. It paces with the others through
    Redis under ``prefix``, or on its own when ``prefix`` is None."""

    settings: Settings
    base_url: str
    token: str
    prefix: str | None
    processes: int
    sends: tuple[int, ...] = ()
    removals: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class WorkerResult:
    jobs: int
    lost: int
    retry_afters: int
    rebooked: int
    """Slots given up for waking too late for them (PacingStats.rebooked)."""
    fell_back: bool
    """The shared buckets did not answer at some point: it paced alone."""


def worker_process(
    spec: WorkerSpec, ready: Barrier, results: multiprocessing.queues.Queue[WorkerResult]
) -> None:
    """The body of one spawned worker process."""
    results.put(asyncio.run(_work(spec, ready)))


async def _work(spec: WorkerSpec, ready: Barrier) -> WorkerResult:
    # Each 429 is counted in the figures; a line per 429 would bury them.
    logging.getLogger("adapters.outbound.telegram.pacing").setLevel(logging.ERROR)
    redis = None if spec.prefix is None else connect_redis(spec.settings.redis_url)
    shared = None if redis is None else RedisTelegramPacing(redis, prefix=spec.prefix or "")
    limiter = PacedRateLimiter(spec.settings.pacing(spec.processes), shared=shared)
    bot = PacedBot(spec.base_url, spec.token, limiter)
    fell_back = False
    await bot.client.start()
    try:
        await asyncio.to_thread(ready.wait, 120)  # every process is up: start together
        jobs = [bot.send(chat, "New tiers are out") for chat in spec.sends]
        jobs += [bot.remove(chat, user) for chat, user in spec.removals]
        tasks = [asyncio.ensure_future(job()) for job in jobs]
        while not all(task.done() for task in tasks):
            await asyncio.sleep(0.5)
            fell_back = fell_back or limiter.pacing_alone
        lost = sum(1 for task in tasks if task.exception() is not None)
        stats = limiter.stats
        return WorkerResult(len(jobs), lost, stats.retry_afters, stats.rebooked, fell_back)
    finally:
        await bot.client.stop()
        if redis is not None:
            await redis.aclose()


@dataclass
class ProcessLine:
    line: Line
    processes: int
    pacing: str
    retry_afters: int
    fell_back: bool


async def in_processes(
    settings: Settings, scenario: str, processes: int, shared: bool
) -> ProcessLine:
    """``scenario`` (broadcast or removals) made by ``processes`` worker processes."""
    emulator = TelegramEmulator(flood=settings.flood())
    await emulator.start()
    users: list[int] = []
    chats: list[int] = []
    members: list[tuple[int, int]] = []
    if scenario == "broadcast":
        users = broadcast_users(settings)
        setup_broadcast(emulator, users)
    else:
        chats, members = removal_members(settings)
        setup_removals(emulator, chats, members)
    prefix = f"paygate:bench:pacing:{secrets.token_hex(6)}:" if shared else None
    specs = [
        WorkerSpec(
            settings,
            emulator.base_url,
            emulator.token,
            prefix,
            processes,
            sends=tuple(users[n::processes]),
            removals=tuple(members[n::processes]),
        )
        for n in range(processes)
    ]
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(processes + 1)
    results: multiprocessing.queues.Queue[WorkerResult] = context.Queue()
    workers = [
        context.Process(target=worker_process, args=(spec, ready, results), daemon=True)
        for spec in specs
    ]
    for worker in workers:
        worker.start()
    try:
        await asyncio.to_thread(ready.wait, 120)
        started = time.monotonic()
        done = [await asyncio.to_thread(results.get, True, 1800) for _ in workers]
        wall = time.monotonic() - started
    finally:
        for worker in workers:
            await asyncio.to_thread(worker.join, 10)
            if worker.is_alive():
                worker.terminate()
        await emulator.stop()
    run = Run(f"{processes}", sum(r.jobs for r in done), sum(r.lost for r in done), wall=wall)
    if scenario == "broadcast":
        label = f"broadcast to {len(users):,} users"
        line = measure(label, run, sends_to(emulator), settings.overall())
    else:
        label = f"{len(members):,} removals in 3 channels"
        line = measure(label, run, emulator.calls_to("unbanChatMember"), settings.admin())
        out, calls = removal_outcome(emulator, members)
        line.note = f"{calls / max(out, 1):.2f} calls per removal, {out:,} out"
        if out != len(members):
            line.lost = max(line.lost, len(members) - out)
    rebooked = sum(r.rebooked for r in done)
    if rebooked:
        line.note = ", ".join(filter(None, (line.note, f"{rebooked} late slots re-booked")))
    return ProcessLine(
        line,
        processes,
        "shared" if shared else "alone",
        sum(r.retry_afters for r in done),
        any(r.fell_back for r in done),
    )


async def processes_mode(settings: Settings, report: Report) -> list[ProcessLine]:
    lines: list[ProcessLine] = []
    for scenario in (s for s in ("broadcast", "removals") if s in settings.scenarios):
        runs = [(n, True) for n in settings.workers]
        if settings.alone:
            runs += [(n, False) for n in settings.workers if n > 1]
        for processes, shared in runs:
            started = time.monotonic()
            result = await in_processes(settings, scenario, processes, shared)
            lines.append(result)
            if shared:
                expect(report, result.line, fraction=True)
                if result.fell_back:
                    report.misses.append(f"{result.line.label}: Redis did not always answer")
            print(  # noqa: T201
                f"  ({scenario}, {processes} processes {result.pacing}: "
                f"{time.monotonic() - started:.0f} s)",
                flush=True,
            )
    return lines


def render_processes(lines: list[ProcessLine], report: Report, settings: Settings) -> str:
    header = f"{'scenario':<32} {'processes':>9} {'pacing':<7} {FIGURES_HEADER}"
    out = [
        "Worker processes against one Telegram emulator at the documented limits, each "
        "with its own PacedRateLimiter: pacing shared through Redis, or alone",
        f"limits: {limit_label(settings.overall(), 'msg')} overall, "
        f"{limit_label(settings.private(), 'msg')} per private chat, admin budget "
        f"B = {limit_label(settings.admin(), 'calls')}"
        + ("  (scaled down in time)" if settings.time_scale != 1 else ""),
        "",
        header,
        "-" * len(header),
    ]
    out += table([(row.line, f"{row.processes:>9} {row.pacing:<7}") for row in lines], 32)
    out += verdict(
        report,
        "TARGETS MISSED with shared pacing:",
        f"shared: every target met (>= {TARGET:.0%} of each limit together, 0 429s, nothing lost)",
    )
    return "\n".join(out)


FIGURES_HEADER = (
    f"{'delivered':>13} {'lost':>5} {'429s':>5} {'peak sent/window':>17} {'achieved':>14} "
    f"{'of limit':>8} {'wall':>8}"
)


def table(rows: Sequence[tuple[Line, str]], label_width: int) -> list[str]:
    """A line per row: its scenario (once for rows of the same one), ``columns`` (who
    made the calls), then the figures under FIGURES_HEADER."""
    out: list[str] = []
    previous = ""
    for line, columns in rows:
        label = "" if line.label == previous else line.label
        previous = line.label
        out.append(
            f"{label:<{label_width}} {columns} "
            f"{line.delivered:>6,}/{line.jobs:<6,} {line.lost:>5} {line.refused:>5} "
            f"{f'{line.peak_sent} / {line.limit.count}':>17} "
            f"{f'{line.achieved:.1f}/{period(line.limit.per)}':>14} {line.fraction:>8.1%} "
            f"{line.wall:>7.1f}s" + (f"  {line.note}" if line.note else "")
        )
    return out


def verdict(report: Report, missed: str, met: str) -> list[str]:
    if not report.misses:
        return ["", met]
    return ["", missed, *(f"  {miss}" for miss in report.misses)]


def expect(report: Report, line: Line, *, fraction: bool) -> None:
    if line.refused or line.lost or line.delivered != line.jobs:
        report.misses.append(
            f"{line.label}: {line.refused} 429s, {line.lost} lost, {line.delivered}/{line.jobs}"
        )
    if fraction and line.fraction < TARGET:
        report.misses.append(f"{line.label}: {line.fraction:.1%} of the limit")


# ------------------------------------------------------------------- output
def period(per: float) -> str:
    if per == 60:
        return "min"
    return "s" if per == 1 else f"{per:.3g} s"


def limit_label(limit: Rate, what: str) -> str:
    return f"{limit.count} {what}/{period(limit.per)}"


def duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def render(report: Report, settings: Settings) -> str:
    header = f"{'scenario':<44} {'limiter':<7} {FIGURES_HEADER}"
    out = [
        "Pacing against the Telegram emulator at the documented limits: PayGate's "
        "PacedRateLimiter (paced) vs python-telegram-bot's AIORateLimiter (stock)",
        f"limits: {limit_label(settings.overall(), 'msg')} overall, "
        f"{limit_label(settings.private(), 'msg')} per private chat, "
        f"{limit_label(settings.group(), 'msg')} per channel, admin budget "
        f"B = {limit_label(settings.admin(), 'calls')}"
        + ("  (scaled down in time)" if settings.scaled else ""),
        "",
        header,
        "-" * len(header),
    ]
    out += table([(line, f"{line.side:<7}") for line in report.lines], 44)
    out += verdict(
        report,
        "TARGETS MISSED by the paced limiter:",
        f"paced: every target met (>= {TARGET:.0%} of each limit, 0 429s, nothing lost, "
        "one call per removal)",
    )
    return "\n".join(out)


async def main(settings: Settings) -> int:
    # The stock limiter logs every 429 it hands back with a traceback.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    report = Report()
    if settings.workers:
        lines = await processes_mode(settings, report)
        print(render_processes(lines, report, settings))  # noqa: T201
        return 1 if report.misses else 0
    for name in settings.scenarios:
        started = time.monotonic()
        if name == "broadcast":
            await broadcast(settings, report)
        elif name == "channel":
            await channel_posts(settings, report, 1)
        elif name == "channels":
            await channel_posts(settings, report, 3)
        elif name == "private":
            await private_burst(settings, report)
        else:
            await removals(settings, report)
        print(f"  ({name} done in {time.monotonic() - started:.0f} s)", flush=True)  # noqa: T201
    print(render(report, settings))  # noqa: T201 (a benchmark prints its figures)
    return 1 if report.misses else 0


def parse(argv: Sequence[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help=f"comma-separated scenarios to run, of: {', '.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a 10 s channel window instead of a minute, 300 users, 1,000 removals, "
        "10 s of stock removals",
    )
    parser.add_argument(
        "--time-scale", type=float, default=1.0, help="divide every message window by this"
    )
    parser.add_argument("--users", type=int, help="broadcast recipients (default 1,000)")
    parser.add_argument("--posts", type=int, default=30, help="posts per channel")
    parser.add_argument("--removals", type=int, help="removals in all (default 10,000)")
    parser.add_argument(
        "--admin-budget", type=int, default=100, help="B: admin calls per second (default 100)"
    )
    parser.add_argument("--stock-window", type=float, help="seconds of stock removals")
    parser.add_argument(
        "--workers",
        help="comma-separated process counts, e.g. 1,3: the broadcast and the removals "
        "made by that many worker processes pacing together through Redis, instead of "
        "the comparison with the stock limiter",
    )
    parser.add_argument(
        "--alone",
        action="store_true",
        help="with --workers: also run the processes each pacing on its own (no Redis)",
    )
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/0",
        help="the Redis the worker processes share (loopback only; default %(default)s)",
    )
    args = parser.parse_args(argv)
    chosen = tuple(s.strip() for s in str(args.only).split(",") if s.strip())
    unknown = [s for s in chosen if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenarios {unknown}; choose from {', '.join(SCENARIOS)}")
    workers: tuple[int, ...] = ()
    if args.workers:
        try:
            workers = tuple(int(n) for n in str(args.workers).split(",") if n.strip())
        except ValueError:
            parser.error("--workers takes whole numbers, e.g. 1,3")
        if not workers or any(n < 1 for n in workers):
            parser.error("--workers takes process counts of 1 or more, e.g. 1,3")
        if not {"broadcast", "removals"} & set(chosen):
            parser.error("--workers runs the broadcast and removals scenarios only")
    host = urlsplit(str(args.redis_url)).hostname or ""
    if host != "localhost" and not _loopback(host):
        parser.error("--redis-url: the benchmark talks to loopback addresses only")
    return Settings(
        scenarios=chosen,
        time_scale=args.time_scale,
        group_window=10.0 if args.quick else 60.0,
        users=args.users or (300 if args.quick else 1000),
        posts=args.posts,
        removals=args.removals or (1000 if args.quick else 10_000),
        admin_budget=args.admin_budget,
        stock_window=args.stock_window or (10.0 if args.quick else 60.0),
        workers=workers,
        alone=bool(args.alone),
        redis_url=str(args.redis_url),
    )


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))
