"""The soak (issue #23): the fleet (2 ``web`` + 2 ``worker`` processes on a Postgres
database of the run's own and a ``redis-server`` the run starts) under a realistic mix
for ``--minutes`` (60 by ``make soak``), with random process kills and Redis restarts,
watched for leaks.

Every cycle (30 s; a twentieth of the run, at least 3 s, in shorter runs) the run
checks out a batch and pays it at ``--rate`` a second through the NowPayments
emulator (the reliability battery's :class:`LoadDriver`: each IPN resent until
answered 2xx): new subscribers (about 80 %), renewals of earlier subscribers (15 %; a
comeback where their term has ended) and donations (5 %, each payer at most once).
Then it waits for the batch's grants, lets the new subscribers join with their invite
links, waits for the outbox to settle, and moves the fleet's shared clock on (at most
3 days a step), so that terms meet their reminders and their end (75 days over the
whole run, fewer if steps are capped). The workers' broadcast job (every 20 s) keeps
the channels' offer and Donate posts fresh as the clock moves. Meanwhile one ``web``
or ``worker`` process is SIGKILLed and started again at once every ``minutes / 12``
(jittered), and Redis is killed and restarted a second later every ``minutes / 6``.

Every process is sampled every 15 s (fewer seconds in short runs): resident memory
(``VmRSS``), open descriptors, sockets, and established connections to Postgres and
to Redis, from ``/proc``. A killed and restarted process starts a new series. A
series' growth is the mean of its last three samples less the mean of its first three
after the warm-up (the first 10 % of the run, at most 5 minutes, from that start);
a series with fewer than six samples after its warm-up is "short" and not judged.

At the end the load stops, the fleet drains and stops, and the exactly-once audit of
the fleet test runs, with the crash test's one allowance (a message or Telegram
action may repeat only where the start that did it first was SIGKILLed before it
could record it): every status the provider reported stored once, every intent
fulfilled, no IPN left unacknowledged; per user one invite link per grant and one
renewal notice per renewal, one thank-you per donation; each link made and sent once;
at most one removal and one end notice per ended term, every ended subscriber out of
the closed channel and every paying one in it; the outbox done; the audit chain whole.
IPN->invite is timed from a new subscriber's first 2xx IPN answer to the invite
Telegram accepted (the tap's clock).

Exits 1 if the audit fails or a process grew more than 10 MB after its warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import attrs
from sqlalchemy import select
from sqlalchemy.engine import make_url

from adapters.outbound.sqla import tables as t
from core.domain.channel import DonationBounds
from core.domain.ids import UserId
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.domain.subscription import SubscriptionStatus
from core.ports.errors import Unavailable
from tests.e2e.edge import TappedCall
from tests.e2e.processes import PaygateProcess
from tests.e2e.shop import Kind, Purchase, Sent, Shop, open_shop, report
from tests.e2e.test_crash import survivors
from tests.reliability.load import LoadDriver
from tests.reliability.servers import RedisServer, redis_server

GROWTH_LIMIT_MB = 10.0
CLOCK_DAYS = 75.0
"""How far the fleet's clock moves over the whole run: two and a half 30-day terms."""
MAX_STEP_DAYS = 3.0
CHANNELS = 6
BOUNDS = DonationBounds(Money.of(1, "USD"), Money.of(500, "USD"))
DONATION = Decimal(5)
THANKS = "Thank you! Your donation of"
ESTABLISHED = "01"


@attrs.frozen
class Plan:
    """The run's length and rhythm, all derived from ``minutes`` unless given."""

    minutes: float
    rate: float
    seed: int

    @property
    def seconds(self) -> float:
        return self.minutes * 60

    @property
    def cycle(self) -> float:
        return min(30.0, max(3.0, self.seconds / 20))

    @property
    def cycles(self) -> int:
        return max(1, round(self.seconds / self.cycle))

    @property
    def kill_every(self) -> float:
        return self.seconds / 12

    @property
    def redis_every(self) -> float:
        return self.seconds / 6

    @property
    def sample_every(self) -> float:
        return min(15.0, self.seconds / 30)

    @property
    def warm_up(self) -> float:
        return min(300.0, self.seconds / 10)

    @property
    def bucket(self) -> float:
        """The rows of the table over time: 5 minutes in an hour."""
        return self.seconds / 12

    @property
    def clock_step(self) -> timedelta:
        """At most 3 days, so that most terms meet their 72 h reminder on the way."""
        return timedelta(days=min(MAX_STEP_DAYS, CLOCK_DAYS / self.cycles))


@attrs.frozen
class Sample:
    at: float
    """Seconds since the run began."""
    rss_kb: int
    fds: int
    sockets: int
    postgres: int
    redis: int


def _socket_peers(pid: int) -> tuple[int, Counter[int]] | None:
    """How many sockets the process holds, and its established TCP connections by the
    remote port (from ``/proc/<pid>/fd`` and the namespace's ``net/tcp`` tables)."""
    try:
        links = [p.readlink() for p in Path(f"/proc/{pid}/fd").iterdir()]
    except OSError:
        return None
    inodes = {str(link)[len("socket:[") : -1] for link in links if str(link).startswith("socket:[")}
    peers: Counter[int] = Counter()
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[9] in inodes and fields[3] == ESTABLISHED:
                peers[int(fields[2].rsplit(":", 1)[1], 16)] += 1
    return len(links), Counter({-1: len(inodes)}) + peers


def sample(process: PaygateProcess, at: float, postgres: int, redis: int) -> Sample | None:
    """The running process's memory and connections now (None if it is gone)."""
    if not process.running:
        return None
    try:
        status = Path(f"/proc/{process.pid}/status").read_text()
    except OSError:
        return None
    rss = next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")), "0")
    counted = _socket_peers(process.pid)
    if counted is None:
        return None
    fds, peers = counted
    return Sample(at, int(rss), fds, peers[-1], peers[postgres], peers[redis])


@attrs.define
class Soak:
    """One run: the shop, its Redis, the plan, and everything recorded on the way."""

    shop: Shop
    redis: RedisServer
    plan: Plan
    rng: random.Random
    began: float = attrs.Factory(time.monotonic)
    stopping: asyncio.Event = attrs.Factory(asyncio.Event)
    series: dict[str, list[Sample]] = attrs.Factory(dict)
    drivers: list[LoadDriver] = attrs.Factory(list)
    kinds: dict[str, str] = attrs.Factory(dict)
    """Intent id -> "new", "renewal" or "donation"."""
    kills: list[str] = attrs.Factory(list)
    redis_restarts: int = 0
    ran: float = 0.0
    """Seconds the load ran (until the last cycle's payments were granted)."""
    joined_links: set[str] = attrs.Factory(set)
    join_refused: int = 0
    _payers: list[int] = attrs.Factory(list)
    _may_donate: list[int] = attrs.Factory(list)
    """Payers who have not donated yet (each donates at most once: a second thank-you
    would read the same as the first)."""

    def now(self) -> float:
        return time.monotonic() - self.began

    # ------------------------------------------------------------ the mix
    async def _purchase(self, user: int, kind: str) -> Purchase:
        shop = self.shop
        if kind == "donation":
            channel = shop.channel_of(user)
            issued = await shop.seller.services.donate.execute(UserId(user), channel.id, DONATION)
            invoice = parse_qs(urlsplit(issued.url).query)["iid"][0]
            purchase = Purchase(user, channel, issued.intent_id, invoice)
        else:
            purchase = await shop.checkout(user)
        self.kinds[purchase.intent_id] = kind
        return purchase

    async def batch(self) -> list[Purchase]:
        """This cycle's payments: new subscribers, renewals and donations."""
        count = max(3, round(self.plan.rate * self.plan.cycle))
        renewals = min(len(self._payers), round(count * 0.15))
        donations = min(len(self._may_donate), max(1, round(count * 0.05)))
        news = count - renewals - donations
        wanted = [(u, "new") for u in self.shop.add_subscribers(news, more=True)]
        wanted += [(u, "renewal") for u in self.rng.sample(self._payers, renewals)]
        self.rng.shuffle(self._may_donate)
        wanted += [(self._may_donate.pop(), "donation") for _ in range(donations)]
        self.rng.shuffle(wanted)
        gate = asyncio.Semaphore(8)

        async def one(user: int, kind: str) -> Purchase:
            async with gate:
                return await self._purchase(user, kind)

        return list(await asyncio.gather(*(one(u, k) for u, k in wanted)))

    async def cycle(self) -> None:
        purchases = await self.batch()
        driver = LoadDriver(self.shop, purchases, self.plan.rate)
        self.drivers.append(driver)
        driver.start()
        await driver.finish(within=300.0)
        await self.fulfilled([p.intent_id for p in purchases])
        self.join()
        news = [p.user for p in purchases if self.kinds[p.intent_id] == "new"]
        self._payers += news
        self._may_donate += news

    async def quiet(self, within: float = 30.0) -> None:
        """Until the outbox is empty, or what is left in it has not moved for 3 s (the
        leases of killed workers, which a clock jump may pass): the clock never jumps
        while a live worker holds a claim, as a deployment's never does."""
        deadline = time.monotonic() + within
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            try:
                pending = await self.shop.pending()
            except Unavailable:
                pending = -1
            if pending == 0:
                return
            if pending != last:
                last, since = pending, time.monotonic()
            elif time.monotonic() - since >= 3.0:
                return
            await asyncio.sleep(0.25)

    async def fulfilled(self, intents: Sequence[str], within: float = 300.0) -> None:
        """Until every one of ``intents`` is fulfilled (its grant or renewal done)."""
        deadline = time.monotonic() + within
        query = select(t.payment_intents.c.id).where(
            t.payment_intents.c.id.in_(list(intents)), t.payment_intents.c.fulfilled_at.is_(None)
        )
        while True:
            async with self.shop.engine.connect() as conn:
                left = list(await conn.execute(query))
            if not left:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(left)} paid intents never fulfilled")
            await asyncio.sleep(0.5)

    def join(self) -> None:
        """Every subscriber with an invite link not used yet opens it and is let in."""
        latest = {s.chat_id: s.link for s in self.shop.sent_to_users() if s.kind is Kind.INVITE}
        for user, link in latest.items():
            if link is None or link in self.joined_links or self.shop.is_member(user):
                continue
            self.joined_links.add(link)
            try:
                self.shop.admit(user, link)
            except AssertionError:
                self.join_refused += 1

    # ------------------------------------------------------------ the chaos
    async def kill_now_and_then(self) -> None:
        while not self.stopping.is_set():
            await self._pause(self.plan.kill_every * self.rng.uniform(0.6, 1.4))
            if self.stopping.is_set():
                return
            victim = self.rng.choice(self.shop.fleet.processes)
            await victim.kill()
            self.kills.append(f"{victim.name} at {self.now():.0f} s")
            await self.shop.start(victim)
            await victim.wait_started()

    async def restart_redis(self) -> None:
        while not self.stopping.is_set():
            await self._pause(self.plan.redis_every)
            if self.stopping.is_set():
                return
            self.redis.kill()
            await asyncio.sleep(1.0)
            self.redis.start()
            await self.redis.started()
            self.redis_restarts += 1

    async def watch(self) -> None:
        url = make_url(self.shop.fleet.processes[0].env["PAYGATE_DATABASE_URL"])
        postgres = url.port or 5432
        while True:
            for process in self.shop.fleet.processes:
                taken = sample(process, self.now(), postgres, self.redis.port)
                if taken is not None:
                    key = f"{process.name}#{process.starts}"
                    self.series.setdefault(key, []).append(taken)
            if self.stopping.is_set():
                return
            await self._pause(self.plan.sample_every)

    async def _pause(self, seconds: float) -> None:
        """``seconds``, or less if the run is stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)

    # ------------------------------------------------------------ the run
    async def run(self) -> None:
        chaos = [
            asyncio.create_task(self.kill_now_and_then()),
            asyncio.create_task(self.restart_redis()),
        ]
        watcher = asyncio.create_task(self.watch())
        offset = timedelta()
        try:
            for _ in range(self.plan.cycles):
                if self.now() >= self.plan.seconds:
                    break
                await self.cycle()
                await self.quiet()
                offset += self.plan.clock_step
                self.shop.move_clock(offset)
        finally:
            self.ran = self.now()
            self.stopping.set()
            await asyncio.gather(*chaos)
        # The last step's reminders and ends (the sweeps run every second), then
        # nothing pending.
        await asyncio.sleep(3.0)
        await self.shop.drained("the last cycle", {}, within=300.0)
        self.join()
        await watcher


def growth(samples: list[Sample], warm_up: float) -> float | None:
    """MB grown after the warm-up (from the series' start), or None if the series is too
    short after it to tell (fewer than six samples)."""
    after = [s for s in samples if s.at - samples[0].at >= warm_up]
    if len(after) < 6:
        return None
    first = statistics.mean(s.rss_kb for s in after[:3])
    last = statistics.mean(s.rss_kb for s in after[-3:])
    return (last - first) / 1024


def table(soak: Soak) -> str:
    """Per bucket of time and per process (whichever of its starts ran then): RSS
    min-max (MB), the most sockets, and the most connections to Postgres / Redis;
    ``*`` marks a bucket in which the process was started again."""
    bucket = soak.plan.bucket
    names = [p.name for p in soak.shop.fleet.processes]
    rows = [["m:ss", *names]]
    last = max((s.at for series in soak.series.values() for s in series), default=0.0)
    for n in range(int(last // bucket) + 1):
        row = [f"{int(n * bucket) // 60}:{int(n * bucket) % 60:02d}"]
        for name in names:
            starts = {
                key: [s for s in series if n * bucket <= s.at < (n + 1) * bucket]
                for key, series in soak.series.items()
                if key.split("#")[0] == name
            }
            inside = [s for series in starts.values() for s in series]
            if not inside:
                row.append("-")
                continue
            low = min(s.rss_kb for s in inside) / 1024
            high = max(s.rss_kb for s in inside) / 1024
            again = "*" if sum(1 for series in starts.values() if series) > 1 else ""
            row.append(
                f"{low:.0f}-{high:.0f} MB{again} sock {max(s.sockets for s in inside)}"
                f" pg {max(s.postgres for s in inside)} redis {max(s.redis for s in inside)}"
            )
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def latencies(soak: Soak) -> list[float]:
    """Seconds from each new subscriber's first 2xx IPN answer to their invite."""
    invited: dict[int, float] = {}
    for call in soak.shop.tap.calls:
        if call.method == "sendMessage" and call.ok:
            chat, text = call.result["chat"]["id"], call.result["text"]
            if text.startswith("Payment confirmed. Welcome to") and chat not in invited:
                invited[chat] = call.at
    took: list[float] = []
    for driver in soak.drivers:
        answered: dict[int, float] = {}
        for answer in driver.answers:
            if answer.ok:
                answered.setdefault(answer.payment_id, answer.sent_at + answer.took)
        for purchase in driver.purchases:
            if soak.kinds[purchase.intent_id] != "new":
                continue
            payment = driver.payment_of.get(purchase.intent_id)
            if payment in answered and purchase.user in invited:
                took.append(invited[purchase.user] - answered[payment])
    return sorted(took)


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(len(values) * share))]


async def audit(soak: Soak) -> tuple[list[str], Counter[str]]:
    """The exactly-once audit of the fleet test, with the crash test's one allowance:
    a message or Telegram action may repeat only where the start that did it first was
    SIGKILLed before it could record it (the Bot API has no idempotency key). Returns
    what failed (nothing, when all holds) and the allowed repeats by kind."""
    shop = soak.shop
    failed: list[str] = []
    lived = survivors(shop)
    purchases = [p for d in soak.drivers for p in d.purchases]
    intents = await shop.rows(t.payment_intents)
    states = Counter((i.status, i.fulfilled_at is not None) for i in intents)
    if len(intents) != len(purchases) or set(states) != {(IntentStatus.FINISHED.value, True)}:
        failed.append(f"intents: {len(intents)} for {len(purchases)} payments, {dict(states)}")
    reported = sorted({(str(d.payment_id), d.status) for d in shop.payments.deliveries})
    events = sorted((e.payment_id, e.status) for e in await shop.rows(t.payment_events))
    if events != reported:
        failed.append(f"payment events: {len(events)} stored for {len(reported)} reported")
    if shop.unacknowledged():
        failed.append(f"{len(shop.unacknowledged())} IPNs never answered 2xx")

    # Copies of each message to a person, and of each link made or user removed.
    repeats: Counter[str] = Counter()
    copies: dict[tuple[int, str, str | None], list[Sent]] = defaultdict(list)
    for s in shop.sent_to_users():
        copies[(s.chat_id, s.text, s.link)].append(s)
    distinct: dict[int, Counter[Kind | str]] = defaultdict(Counter)
    for (chat, text, _), same in copies.items():
        kind: Kind | str = "thanks" if text.startswith(THANKS) else same[0].kind
        distinct[chat][kind] += 1
        if kind in {Kind.INVITE, Kind.RENEWED, "thanks"}:
            if sum(c.caller in lived for c in same) > 1:
                failed.append(f"{kind} sent twice to {chat} by processes that lived on")
            repeats[str(kind)] += len(same) - 1
    for method, key in (("createChatInviteLink", "name"), ("unbanChatMember", "user_id")):
        calls: dict[str, list[TappedCall]] = defaultdict(list)
        for call in shop.calls(method):
            calls[call.params[key]].append(call)
        for made in calls.values():
            repeats[method] += len(made) - 1
            if method == "createChatInviteLink" and sum(c.caller in lived for c in made) > 1:
                failed.append(f"{method} done twice by processes that lived on: {made[0].params}")

    paid: Counter[int] = Counter()
    donated: Counter[int] = Counter()
    for p in purchases:
        (donated if soak.kinds[p.intent_id] == "donation" else paid)[p.user] += 1
    grants = Counter(g.user_id for g in await shop.rows(t.access_grants))
    told = Counter({u: k[Kind.INVITE] for u, k in distinct.items() if k[Kind.INVITE]})
    if grants != told:
        failed.append(f"{grants.total()} grants but {told.total()} invite links sent")
    renewed = Counter({u: k[Kind.RENEWED] for u, k in distinct.items() if k[Kind.RENEWED]})
    if +(paid - grants) != renewed or any(grants[u] > paid[u] for u in grants):
        failed.append(f"{renewed.total()} renewal notices for {(paid - grants).total()} renewals")
    thanked = Counter({u: k["thanks"] for u, k in distinct.items() if k["thanks"]})
    if thanked != donated or len(await shop.rows(t.donations)) != donated.total():
        failed.append(f"{thanked.total()} thank-yous for {donated.total()} donations")

    # Each ended term: at most one removal and one notice by processes that lived on
    # (a comeback paid before its removal ran needs neither); whoever's subscription
    # ended is out of the closed channel, removed and told, and whoever's runs is in.
    ended: Counter[int] = Counter()
    expired: set[int] = set()
    for sub in await shop.rows(t.subscriptions):
        gone = sub.status == SubscriptionStatus.EXPIRED.value
        ended[sub.user_id] = sub.period - (not gone)
        if gone:
            expired.add(sub.user_id)
        elif sub.status == SubscriptionStatus.ACTIVE.value and not shop.is_member(sub.user_id):
            failed.append(f"{sub.user_id} pays and is not in the closed channel")
    removals: dict[int, list[TappedCall]] = defaultdict(list)
    for call in shop.removals():
        removals[int(call.params["user_id"])].append(call)
    notices: dict[int, list[Sent]] = defaultdict(list)
    for s in shop.sent_to_users():
        if s.kind is Kind.ENDED:
            notices[s.chat_id].append(s)
    for user in set(ended) | set(removals) | set(notices):
        for what, done in (("removed", removals[user]), ("told it ended", notices[user])):
            by_survivors = sum(c.caller in lived for c in done)
            if by_survivors > ended[user] or (user in expired and not done):
                failed.append(
                    f"{user} {what} {len(done)} times ({by_survivors} by survivors) "
                    f"for {ended[user]} ended terms"
                )
        if user in expired and shop.is_member(user):
            failed.append(f"{user}'s subscription ended and they are still in the channel")
    outbox = await shop.outbox_by_status()
    if set(outbox) != {"done"}:
        failed.append(f"outbox not all done: {dict(outbox)}")
    if not await shop.audit_chain_holds():
        failed.append("the audit chain is broken")
    return failed, +repeats


async def soak_run(directory: Path, plan: Plan) -> int:
    """Run the soak; print its figures; 0 if it held, 1 if not."""
    with redis_server(directory) as redis:
        redis.start()
        await redis.started()
        env = {"PAYGATE_REDIS_URL": redis.url, "PAYGATE_BROADCAST_EVERY_SECONDS": "20"}
        async with open_shop(
            directory, web=2, workers=2, ipn_retries=3, ipn_retry_delay=0.5, env=env
        ) as shop:
            await shop.set_up_channels(CHANNELS)
            for channel in shop.channels:
                await shop.seller.services.set_donations.execute(
                    channel.owner_id, channel.id, BOUNDS
                )
            await shop.start_fleet()
            soak = Soak(shop, redis, plan, random.Random(plan.seed))  # noqa: S311 - not secrets
            await soak.run()
            codes = await shop.fleet.stop_all()
            soak.join()
            failed, repeats = await audit(soak)
    return judge(soak, codes, failed, repeats)


def judge(soak: Soak, codes: dict[str, int], failed: list[str], repeats: Counter[str]) -> int:
    grown = {
        name: growth(samples, soak.plan.warm_up) for name, samples in sorted(soak.series.items())
    }
    leaking = {n: g for n, g in grown.items() if g is not None and g > GROWTH_LIMIT_MB}
    took = latencies(soak)
    kinds = Counter(soak.kinds.values())
    sys.stdout.write(f"\nRSS and connections over time (per process start):\n{table(soak)}\n")
    posts = [
        c
        for c in soak.shop.tap.calls
        if c.method in {"sendMessage", "editMessageText"} and int(c.params.get("chat_id", 0)) < 0
    ]
    report(
        f"soak: {soak.plan.minutes:g} min, 2 web + 2 worker, Postgres + Redis",
        {
            "payments (new / renewals / donations)": (
                f"{len(soak.kinds)} ({kinds['new']} / {kinds['renewal']} / {kinds['donation']})"
            ),
            "IPN rate asked / over the whole run (per second)": (
                f"{soak.plan.rate:g} / {len(soak.kinds) / max(1.0, soak.ran):.1f}"
            ),
            "IPN answers by status": dict(
                sorted(Counter(a.status for d in soak.drivers for a in d.answers).items())
            ),
            "processes killed": len(soak.kills),
            "Redis restarts": soak.redis_restarts,
            "joins (refused)": f"{len(soak.joined_links)} ({soak.join_refused})",
            "reminders / ends sent": (
                f"{sum(s.kind is Kind.REMINDER for s in soak.shop.sent_to_users())} / "
                f"{sum(s.kind is Kind.ENDED for s in soak.shop.sent_to_users())}"
            ),
            "channel post calls (offer/Donate posts)": len(posts),
            "IPN->invite p50 / p95 / p99 (s)": (
                f"{percentile(took, 0.5):.2f} / {percentile(took, 0.95):.2f} / "
                f"{percentile(took, 0.99):.2f} (of {len(took)})"
                if took
                else "none measured"
            ),
            "RSS growth after warm-up (MB)": {
                n: "short" if g is None else round(g, 1) for n, g in grown.items()
            },
            "exit codes at the stop": codes,
            "repeats by killed starts (allowed)": dict(repeats) or "none",
            "exactly-once audit": "holds" if not failed else "; ".join(failed[:10]),
            "kills": ", ".join(soak.kills) or "none",
        },
    )
    bad = bool(failed) or bool(leaking) or set(codes.values()) != {0}
    if leaking:
        sys.stdout.write(f"grew more than {GROWTH_LIMIT_MB:g} MB: {leaking}\n")
    return 1 if bad else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_soak",
        description="Run the fleet under a realistic mix with kills and Redis restarts; "
        "print RSS and connections over time, IPN->invite latency and the exactly-once "
        "audit. Exits 1 if the audit fails or a process grew more than 10 MB after warm-up.",
    )
    parser.add_argument("--minutes", type=float, default=60.0, help="length (default 60)")
    parser.add_argument("--rate", type=float, default=5.0, help="payments a second (default 5)")
    parser.add_argument("--seed", type=int, default=23, help="random seed of kills and picks")
    args = parser.parse_args(argv)
    if not 0.5 <= args.minutes <= 24 * 60:
        parser.error("--minutes is between 0.5 and 1440")
    if not 0.5 <= args.rate <= 50:
        parser.error("--rate is between 0.5 and 50")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="paygate-soak-") as directory:
        code = asyncio.run(soak_run(Path(directory), Plan(args.minutes, args.rate, args.seed)))
    sys.stdout.write(f"({time.monotonic() - started:.0f} s)\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
