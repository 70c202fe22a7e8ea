"""Scaling out (issue #6): two ``web`` and three ``worker`` processes on one Postgres
database serve 1,000 payments, their renewals, reminders and expiries, and every
grant, reminder and removal happens exactly once.

The provider posts every IPN to a load balancer in front of both web processes, some
twice, some out of order, and a share of them is replayed to both web processes at
once. The three workers share one outbox (claims under ``SKIP LOCKED``) and each
sweeps for reminders and expiries. Time moves for the whole fleet through the shared
clock file, so a subscription's 30 days pass in seconds.

The timeline, for 500 subscribers in 25 channels:

* day 0: all 500 subscribe (500 payments), then half of them renew at once (250);
* day 28 and 29: the other half is reminded 72 h and 24 h before its end;
* day 30: that half is removed, and comes back at once with a new payment (250);
* day 59: everyone is a day from their end (day 60): both reminders are due at
  once, and each subscriber gets one (the more urgent), not two;
* day 60: everyone is removed.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.outbound.sqla import tables as t
from core.domain.grant import GrantStatus
from core.domain.intent_state import IntentStatus
from core.domain.subscription import SubscriptionStatus
from sandbox.nowpayments.emulator import EmulatedPayment, PayPlan
from tests.e2e.shop import TERM, Kind, Sent, Shop, Stopwatch, open_shop, report
from tests.services import require_postgres

CHANNELS = 25
SUBSCRIBERS = 500
LIFE = ("waiting", "finished")


def plan_for(user: int) -> PayPlan:
    """Half the payments are reported once, as finished (the provider may skip any
    status); the rest rehearse what else it may do: report in order, out of order,
    twice, or with a status never sent."""
    match user % 10:
        case 0:
            return PayPlan(statuses=LIFE, order=(1, 0))
        case 1:
            return PayPlan(statuses=LIFE, duplicate=frozenset({"finished"}))
        case 2:
            return PayPlan(
                statuses=("waiting", "confirming", "confirmed", "sending", "finished"),
                drop=frozenset({"confirming"}),
            )
        case 3 | 4:
            return PayPlan(statuses=LIFE)
        case _:
            return PayPlan(statuses=("finished",))


def join_with_latest_links(shop: Shop) -> None:
    """Every subscriber outside their closed channel opens the latest link they got."""
    latest = {s.chat_id: s.link for s in shop.sent_to_users() if s.kind is Kind.INVITE}
    for user, link in latest.items():
        if link is not None and not shop.is_member(user):
            shop.admit(user, link)


async def replay_some(shop: Shop, paid: list[EmulatedPayment], share: int) -> Counter[str]:
    """Every ``share``-th payment's notifications again, to both web processes at once."""
    deliveries = [d for p in paid[::share] for d in p.deliveries]
    return await shop.replay_to_every_web(deliveries)


@pytest.mark.postgres
async def test_two_web_and_three_worker_processes_do_everything_exactly_once(
    tmp_path: Path,
) -> None:
    require_postgres()
    watch = Stopwatch("fleet")
    cpu_before = sum(os.times()[:2])
    async with open_shop(tmp_path, web=2, workers=3, ipn_retries=10, ipn_retry_delay=0.2) as shop:
        await shop.set_up_channels(CHANNELS)
        users = shop.add_subscribers(SUBSCRIBERS)
        renewing, returning = users[: SUBSCRIBERS // 2], users[SUBSCRIBERS // 2 :]
        await shop.start_fleet()
        watch.lap("set-up and start")

        paid = await shop.buy_all(users, plan_for)
        watch.lap("500 payments notified")
        await shop.drained("500 grants", {Kind.INVITE: 500, Kind.OWNER_NEW: 500})
        join_with_latest_links(shop)
        paid += await shop.buy_all(renewing, plan_for)
        await shop.drained("250 renewals", {Kind.RENEWED: 250, Kind.OWNER_RENEWAL: 250})
        watch.lap("750 payments, day 0")
        replays = await replay_some(shop, paid, share=20)
        watch.lap("replays")

        shop.move_clock(timedelta(days=28, hours=1))
        await shop.drained("72 h reminders", {Kind.REMINDER: 250})
        shop.move_clock(timedelta(days=29, hours=1))
        await shop.drained("24 h reminders", {Kind.REMINDER: 500})
        shop.move_clock(timedelta(days=30, hours=1))
        await shop.drained("first removals", {Kind.ENDED: 250})
        assert [u for u in users if shop.is_member(u)] == renewing, "exactly the ended left"
        watch.lap("reminders and removals, days 28-30")

        comeback = await shop.buy_all(returning, plan_for)
        paid += comeback
        await shop.drained("250 comebacks", {Kind.INVITE: 750, Kind.OWNER_RENEWAL: 500})
        join_with_latest_links(shop)
        replays += await replay_some(shop, comeback, share=10)
        watch.lap("250 comeback payments, day 30")

        shop.move_clock(timedelta(days=59, hours=2))
        await shop.drained("last reminders", {Kind.REMINDER: 1000})
        shop.move_clock(timedelta(days=60, hours=2))
        await shop.drained("last removals", {Kind.ENDED: 750})
        watch.lap("reminders and removals, days 59-60")

        cpu = {p.name: p.cpu_seconds() for p in shop.fleet.processes}
        codes = await shop.fleet.stop_all()
        assert codes == {p.name: 0 for p in shop.fleet.processes}, shop.fleet.logs()

        await assert_every_payment_kept(shop, paid, users, renewing)
        assert_people_saw_everything_once(shop, users, renewing)
        assert not shop.unacknowledged(), "the provider was left without a 2xx"
        assert set(replays) == {"200 duplicate"}, replays
        assert [u for u in users if shop.is_member(u)] == []
        assert shop.secrets_in_logs() == []

        by_worker = Counter(c.caller.process for c in shop.tap.calls if c.caller.process)
        assert all(by_worker[w.name] > 0 for w in shop.workers), by_worker
        report(
            "fleet: 2 web + 3 worker processes, Postgres",
            {
                "payments": len(paid),
                "IPN deliveries (incl. provider duplicates)": len(shop.payments.deliveries),
                "replayed to both web processes": sum(replays.values()),
                "IPNs per web process": dict(shop.balancer.forwarded),
                "Bot API calls per process": dict(sorted(by_worker.items())),
                "messages sent": len(shop.sent()),
                "outbox rows": dict(await shop.outbox_by_status()),
                "offer messages shown per open channel": dict(
                    Counter(shop.offers_shown().values())
                ),
                "CPU seconds per process": cpu,
                "CPU seconds of this test process": round(sum(os.times()[:2]) - cpu_before, 1),
                **watch.total(),
            },
        )


async def assert_every_payment_kept(
    shop: Shop, paid: list[EmulatedPayment], users: list[int], renewing: list[int]
) -> None:
    intents = await shop.rows(t.payment_intents)
    assert len(intents) == len(paid) == 1000
    assert {(i.status, i.fulfilled_at is not None) for i in intents} == {
        (IntentStatus.FINISHED.value, True)
    }
    # Every status the provider reported is recorded once: nothing lost, nothing doubled.
    reported = {(str(d.payment_id), d.status) for p in paid for d in p.deliveries}
    events = await shop.rows(t.payment_events)
    assert sorted((e.payment_id, e.status) for e in events) == sorted(reported)

    subscriptions = {s.user_id: s for s in await shop.rows(t.subscriptions)}
    assert sorted(subscriptions) == users
    renewed = set(renewing)
    for user, sub in subscriptions.items():
        assert sub.status == SubscriptionStatus.EXPIRED.value
        # Renewed while active: one term of twice the length. Came back after the end:
        # a second term (period 2) of one length.
        if user in renewed:
            assert (sub.period, sub.expires_at - sub.starts_at) == (1, 2 * TERM), user
        else:
            assert (sub.period, sub.expires_at - sub.starts_at) == (2, TERM), user

    grants = await shop.rows(t.access_grants)
    assert Counter(g.status for g in grants) == {GrantStatus.LINK_ISSUED.value: 750}
    assert Counter(g.user_id for g in grants) == {u: 1 if u in renewed else 2 for u in users}
    assert set(await shop.outbox_by_status()) == {"done"}, "nothing pending, nothing dead"
    assert await shop.audit_chain_holds()


def assert_people_saw_everything_once(shop: Shop, users: list[int], renewing: list[int]) -> None:
    renewed = set(renewing)
    sent_to: dict[int, list[Sent]] = defaultdict(list)
    for sent in shop.sent():
        sent_to[sent.chat_id].append(sent)

    for user in users:
        kinds = Counter(s.kind for s in sent_to[user])
        texts = Counter((s.kind, s.text) for s in sent_to[user])
        # How often each distinct text came: a term's 72 h and 24 h reminders name the
        # same end; the end notice has no date, so a second term repeats it.
        copies = {
            kind: sorted(n for (k, _), n in texts.items() if k is kind)
            for kind in (Kind.INVITE, Kind.RENEWED, Kind.REMINDER, Kind.ENDED)
        }
        if user in renewed:
            # One term: both reminders due at once on day 59, so one is sent.
            assert kinds == {Kind.INVITE: 1, Kind.RENEWED: 1, Kind.REMINDER: 1, Kind.ENDED: 1}
            assert copies == {
                Kind.INVITE: [1],
                Kind.RENEWED: [1],
                Kind.REMINDER: [1],
                Kind.ENDED: [1],
            }, user
        else:
            # Two terms: the first stepped through both lead times, the second not.
            assert kinds == {Kind.INVITE: 2, Kind.REMINDER: 3, Kind.ENDED: 2}, (user, kinds)
            assert copies == {
                Kind.INVITE: [1, 1],
                Kind.RENEWED: [],
                Kind.REMINDER: [1, 2],
                Kind.ENDED: [2],
            }, user

    owners = {c.owner_id: c for c in shop.channels}
    for owner, channel in owners.items():
        customers = [u for u in users if shop.channel_of(u).id == channel.id]
        notes = Counter(s.text for s in sent_to[owner])
        assert set(notes.values()) == {1}, (owner, notes)
        kinds = Counter(s.kind for s in sent_to[owner])
        assert kinds == {Kind.OWNER_NEW: len(customers), Kind.OWNER_RENEWAL: len(customers)}

    # One link made per grant, and it is the one the subscriber was sent.
    links = shop.calls("createChatInviteLink")
    assert len(links) == 750
    made = Counter(call.result["invite_link"] for call in links)
    assert set(made.values()) == {1}
    invited = {s.link for s in shop.sent() if s.kind is Kind.INVITE}
    assert invited == set(made)

    removed = Counter(int(c.params["user_id"]) for c in shop.removals())
    assert removed == {u: 1 if u in renewed else 2 for u in users}
