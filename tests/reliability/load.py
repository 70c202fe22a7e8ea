"""The load of the reliability battery: valid paying IPNs at a steady rate, for
intents created through the real checkout, each answer recorded with its time; and
the figures every outage prints and is judged by.

The driver plays the provider. Each payment is made at the NowPayments emulator,
which posts its signed ``finished`` IPN once (to the fleet's balancer, as to a real
deployment's public address); what is not answered 2xx the driver posts again every
``RESEND_EVERY`` seconds, as the provider retries, until it is (or the run gives up).
Every attempt is an :class:`Answer`: its status (0: no answer in time: 3 s for the
emulator's first post, the provider's patience; 10 s for a resend), when it was sent
and answered, and in which phase of the outage.

Lengths scale with ``PAYGATE_RELIABILITY_SCALE`` (default 0.3, the CI subset: short
outages, 10 IPNs a second); ``make reliability`` runs them at 1 (10 s outages, 30 a
second).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from enum import StrEnum

import attrs
import pytest

from adapters.outbound.sqla import tables as t
from core.domain.intent_state import IntentStatus
from sandbox.nowpayments.emulator import PayPlan
from tests.e2e.edge import NOWPAYMENTS_SENDERS
from tests.e2e.shop import Kind, Purchase, Shop, report

SCALE_VARIABLE = "PAYGATE_RELIABILITY_SCALE"
RESEND_EVERY = 0.5
"""Seconds between the provider's resends of an unanswered IPN (it backs off more in
production; the battery wants the recovery measured, not waited for)."""


def scale() -> float:
    """``PAYGATE_RELIABILITY_SCALE``: 1 is the full length; the CI subset runs at 0.3."""
    text = os.environ.get(SCALE_VARIABLE, "0.3")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{SCALE_VARIABLE} is a number, not {text!r}") from None
    if not 0.05 <= value <= 10:
        raise ValueError(f"{SCALE_VARIABLE} is between 0.05 and 10, not {value}")
    return value


@attrs.frozen
class Timing:
    """How long each phase of an outage run lasts, and the IPN rate."""

    rate: float
    """IPNs a second."""
    before: float
    outage: float
    after: float

    @classmethod
    def scaled(cls, outage: float = 10.0) -> Timing:
        """At scale 1: 30 IPNs a second, 3 s of steady state, the ``outage``, 6 s after."""
        s = scale()
        return cls(
            rate=max(10.0, round(30 * s)),
            before=max(1.5, 3 * s),
            outage=max(2.0, outage * s),
            after=max(3.0, 6 * s),
        )

    @property
    def payments(self) -> int:
        return round(self.rate * (self.before + self.outage + self.after))


class Phase(StrEnum):
    BEFORE = "before"
    DURING = "during"
    AFTER = "after"


@attrs.frozen
class Answer:
    payment_id: int
    sent_at: float
    """``time.monotonic()`` when the attempt was sent."""
    took: float
    status: int
    """HTTP status; 0 when no answer came."""
    phase: Phase
    """The outage's phase when the attempt was sent."""
    answered_in: Phase
    """Its phase when the answer came (an attempt sent during an outage may wait in
    the process until the outage is over)."""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@attrs.define
class LoadDriver:
    """Pays ``purchases`` one after another at ``rate`` a second (each on its own task)
    and resends each IPN until it is answered 2xx."""

    shop: Shop
    purchases: list[Purchase]
    rate: float
    phase: Phase = Phase.BEFORE
    answers: list[Answer] = attrs.Factory(list)
    payment_of: dict[str, int] = attrs.Factory(dict)
    """Intent id -> the provider's payment id."""
    _tasks: list[asyncio.Task[None]] = attrs.Factory(list)
    _feeder: asyncio.Task[None] | None = None

    @classmethod
    async def checked_out(cls, shop: Shop, count: int, rate: float) -> LoadDriver:
        """``count`` new subscribers, each through the real checkout (an intent and the
        provider's invoice), ready to pay."""
        users = shop.add_subscribers(count, more=True)
        gate = asyncio.Semaphore(8)

        async def one(user: int) -> Purchase:
            async with gate:
                return await shop.checkout(user)

        return cls(shop, list(await asyncio.gather(*(one(u) for u in users))), rate)

    def start(self) -> None:
        self._feeder = asyncio.create_task(self._feed())

    async def _feed(self) -> None:
        began = time.monotonic()
        for n, purchase in enumerate(self.purchases):
            await asyncio.sleep(max(0.0, began + n / self.rate - time.monotonic()))
            self._tasks.append(asyncio.create_task(self._pay(purchase)))

    async def _pay(self, purchase: Purchase) -> None:
        phase, sent = self.phase, time.monotonic()
        payment = await self.shop.payments.pay(purchase.invoice_id, PayPlan(statuses=("finished",)))
        self.payment_of[purchase.intent_id] = payment.payment_id
        first = payment.deliveries[-1]
        answer = Answer(
            payment.payment_id,
            sent,
            time.monotonic() - sent,
            first.response_status or 0,
            phase,
            self.phase,
        )
        self.answers.append(answer)
        url = f"{self.shop.balancer.url}/webhooks/nowpayments"
        while not answer.ok:
            await asyncio.sleep(RESEND_EVERY)
            phase, sent = self.phase, time.monotonic()
            status, _ = await self.shop.post_ipn(url, first, NOWPAYMENTS_SENDERS[0])
            answer = Answer(
                payment.payment_id, sent, time.monotonic() - sent, status, phase, self.phase
            )
            self.answers.append(answer)

    async def finish(self, within: float = 120.0) -> None:
        """Until every payment was made and each IPN answered 2xx."""
        assert self._feeder is not None, "the load was never started"
        await self._feeder
        try:
            async with asyncio.timeout(within):
                await asyncio.gather(*self._tasks)
        except TimeoutError:
            unanswered = len(self.purchases) - len(self.acknowledged())
            pytest.fail(f"{unanswered} IPNs never answered 2xx\n{self.shop.fleet.logs()}")

    def acknowledged(self, before: float | None = None) -> set[int]:
        """Payments answered 2xx (by an attempt sent before ``before``, if given)."""
        return {
            a.payment_id
            for a in self.answers
            if a.ok and (before is None or a.sent_at + a.took <= before)
        }

    def statuses(self, phase: Phase) -> dict[int, int]:
        """Answers by status, of the attempts sent in ``phase``."""
        return dict(sorted(Counter(a.status for a in self.answers if a.phase is phase).items()))

    def answered_during(self) -> dict[int, int]:
        """Answers by status that came while the outage lasted."""
        during = (a.status for a in self.answers if a.answered_in is Phase.DURING)
        return dict(sorted(Counter(during).items()))


ALERT_LINE = re.compile(r"alert (\S+) \[(\w+)\]")


def alerts_raised(shop: Shop) -> Counter[str]:
    """Alert keys logged by the fleet (the log sink is always on), ``process: key``."""
    raised: Counter[str] = Counter()
    for process in shop.fleet.processes:
        for line in process.log().splitlines():
            if (found := ALERT_LINE.search(line)) is not None:
                raised[f"{process.name}: {found.group(1)}"] += 1
    return raised


@attrs.define
class Outcome:
    """What a run left behind, judged from the database and what Telegram delivered."""

    lost: list[int]
    """Payments answered 2xx whose finished event is not stored, or never granted."""
    doubled: dict[int, int]
    """Users granted (or invited) more than once: how many times."""
    granted_once: int
    alerts: Counter[str]
    """``process: alert key`` -> how often, logged during the run."""
    figures: dict[str, object]


async def judge(
    shop: Shop,
    driver: LoadDriver,
    outage: tuple[float, float],
    title: str,
    extra: dict[str, object] | None = None,
    *,
    expect_invites: int | None = None,
    alerts_before: Counter[str] | None = None,
) -> Outcome:
    """Wait until every payment is granted (or time runs out), then count: lost,
    doubled, granted once, answers by phase, time to recover; print the figures.
    ``expect_invites``: how many the shop has sent in all by then (this driver's
    payments, unless earlier runs in the same shop sent some); the alerts counted are
    those logged since ``alerts_before``."""
    users = [p.user for p in driver.purchases]
    await shop.drained(
        "a grant per payment", {Kind.INVITE: expect_invites or len(users)}, within=180.0
    )
    all_granted = time.monotonic()
    alerts = alerts_raised(shop) - (alerts_before or Counter())
    stored = {(int(e.payment_id), e.status) for e in await shop.rows(t.payment_events)}
    finished = {
        i.id for i in await shop.rows(t.payment_intents) if i.status == IntentStatus.FINISHED
    }
    grants = Counter(g.user_id for g in await shop.rows(t.access_grants))
    invites = Counter(s.chat_id for s in shop.sent_to_users() if s.kind is Kind.INVITE)
    acknowledged = driver.acknowledged()
    lost = sorted(
        {p for p in acknowledged if (p, "finished") not in stored}
        | {driver.payment_of[i] for i in driver.payment_of if i not in finished}
    )
    doubled = {u: max(grants[u], invites[u]) for u in users if max(grants[u], invites[u]) > 1}
    granted_once = sum(1 for u in users if grants[u] == 1 and invites[u] == 1)
    down, up = outage
    first_ok_after = min(
        (a.sent_at + a.took for a in driver.answers if a.ok and a.sent_at >= up), default=None
    )
    figures: dict[str, object] = {
        "IPN rate (per second)": driver.rate,
        "payments": len(driver.purchases),
        "outage (s)": round(up - down, 2),
        "answers to IPNs sent before (status: count)": driver.statuses(Phase.BEFORE),
        "answers to IPNs sent during": driver.statuses(Phase.DURING),
        "answers to IPNs sent after": driver.statuses(Phase.AFTER),
        "answers that came during": driver.answered_during(),
        "first 2xx after the outage (s)": (
            "-" if first_ok_after is None else round(first_ok_after - up, 2)
        ),
        "all granted after the outage (s)": round(all_granted - up, 1),
        "lost": len(lost),
        "doubled": len(doubled),
        "granted once": f"{granted_once}/{len(users)}",
        "alerts raised": dict(sorted(alerts.items())) or "none",
        **(extra or {}),
    }
    report(title, figures)
    return Outcome(lost, doubled, granted_once, alerts, figures)


def assert_sound(outcome: Outcome, driver: LoadDriver) -> None:
    """What every outage must leave: nothing lost, nothing doubled, everyone granted."""
    assert outcome.lost == [], f"lost payments: {outcome.lost}"
    assert outcome.doubled == {}, f"granted more than once: {outcome.doubled}"
    assert outcome.granted_once == len(driver.purchases), outcome.figures


async def run_outage(
    driver: LoadDriver,
    timing: Timing,
    begin: Callable[[], Awaitable[object]],
    end: Callable[[], Awaitable[object]],
    during: Callable[[], Awaitable[object]] | None = None,
) -> tuple[float, float]:
    """Load before, during and after the outage ``begin`` starts and ``end`` ends
    (``during``, if given, runs while it lasts); returns when it was in place (``begin``
    returned) and when it was over (``end`` returned). An IPN sent while ``begin`` runs
    counts as before, one sent while ``end`` runs as after."""
    driver.start()
    await asyncio.sleep(timing.before)
    await begin()
    driver.phase = Phase.DURING
    down = time.monotonic()
    if during is not None:
        await during()
    await asyncio.sleep(max(0.0, down + timing.outage - time.monotonic()))
    driver.phase = Phase.AFTER
    await end()
    up = time.monotonic()
    await asyncio.sleep(timing.after)
    await driver.finish()
    return down, up


def keyed(alerts: Counter[str], keys: Iterable[str]) -> Counter[str]:
    """Only the alerts whose key is one of ``keys``."""
    return Counter({k: n for k, n in alerts.items() if k.split(": ", 1)[1] in set(keys)})
