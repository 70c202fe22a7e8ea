"""The dashboard benchmark (bench/bench_dashboard.py) at a tiny size, so its figures
stay trustworthy: what it seeds is what the payment path would have kept (the rollup
a recount of the rows), every registered measurement runs, and the memory hook sees
what a run allocates. Postgres only, as the benchmark is."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import text

import bench.bench_dashboard as bench
from core.services.overview import Overview
from tests.services import POSTGRES_URL, require_postgres


@pytest.fixture
async def seeded(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[bench.Seeded]:
    require_postgres()
    monkeypatch.setattr(bench, "POSTGRES_URL", POSTGRES_URL)
    async with bench.seeded_database(0.0002, channel_count=12) as seeded:
        yield seeded


async def scalar(seeded: bench.Seeded, query: str) -> object:
    async with seeded.store.engine.connect() as conn:
        return (await conn.execute(text(query))).scalar_one()


async def test_the_seeded_rollup_is_a_recount_of_the_seeded_rows(seeded: bench.Seeded) -> None:
    assert (seeded.subscriptions, seeded.payments) == (200, 1000)
    assert await scalar(seeded, "SELECT count(*) FROM subscriptions") == 200
    assert await scalar(seeded, "SELECT count(*) FROM payment_events") == 1000
    totals = "SELECT coalesce(sum({}), 0) FROM daily_figures WHERE channel_id = '' AND {}"
    per_channel = "SELECT coalesce(sum({}), 0) FROM daily_figures WHERE channel_id <> '' AND {}"
    intents = "SELECT {} FROM payment_intents WHERE fulfilled_at IS NOT NULL AND {}"
    for rollup, raw in (
        ("kind IN ('new', 'renewed')", "purpose = 'subscription'"),
        ("kind = 'donation'", "purpose = 'donation'"),
        ("kind = 'refund'", "status = 'refunded'"),
    ):
        counted = await scalar(seeded, intents.format("count(*)", raw))
        summed = await scalar(seeded, intents.format("coalesce(sum(price), 0)", raw))
        assert await scalar(seeded, totals.format("count", rollup)) == counted
        assert await scalar(seeded, per_channel.format("count", rollup)) == counted
        assert await scalar(seeded, totals.format("amount", rollup)) == summed
    ended = await scalar(seeded, "SELECT count(*) FROM subscriptions WHERE status = 'expired'")
    assert await scalar(seeded, totals.format("count", "kind = 'churned'")) == ended
    assert ended and await scalar(seeded, totals.format("count", "kind = 'refund'"))


async def test_every_measurement_runs_and_the_views_agree(seeded: bench.Seeded) -> None:
    found = [await bench.measure(seeded, each, runs=2) for each in bench.MEASUREMENTS]
    assert [f.name for f in found] == [m.name for m in bench.MEASUREMENTS]
    timed = [f for f in found if f.rss_mb is None]
    assert all(0 < f.p50_ms <= f.p95_ms <= f.max_ms for f in timed)
    assert [f.name for f in found if f.rss_mb is not None] == [
        "CSV export of every subscription, operator",
        "CSV export of every payment, operator",
    ]
    assert {"subscriber search by @username, operator", "a subscriber's page, one owner"} <= {
        f.name for f in timed
    }

    owner = await seeded.dashboard.overview(seeded.owner, 90)
    every = await seeded.dashboard.overview(seeded.operator, 90)
    one = await seeded.dashboard.overview(seeded.operator, 90, owner.channels[0].channel.id)

    assert isinstance(owner, Overview) and len(owner.channels) == 1
    assert owner.window == one.window and owner.active == one.active
    assert len(every.channels) == 12 and every.active is None
    usd = every.window.takings["USD"]
    assert usd == sum(
        (line.tally.takings.get("USD", Decimal(0)) for line in every.channels), Decimal(0)
    )
    assert usd > owner.window.takings.get("USD", Decimal(0)) > 0


async def test_the_searches_find_the_seeded_subscribers_by_id_and_username(
    seeded: bench.Seeded,
) -> None:
    user = seeded.subscriber(3)
    by_id = await seeded.search.find(seeded.owner, str(user))
    by_name = await seeded.search.find(seeded.operator, f"@{bench._username(user)}")
    record = await seeded.search.record(seeded.owner, seeded.channels[0], user)

    assert [r.subscription.user_id for r in by_id.rows] == [user]
    assert [r.subscription.channel_id for r in by_name.rows] == [seeded.channels[0]]
    assert record.username == bench._username(user) and record.intents
    assert await scalar(seeded, "SELECT count(*) FROM person_names") == 200


async def test_the_export_writes_every_subscription_as_csv(seeded: bench.Seeded) -> None:
    subscriptions = await bench._export(seeded)
    payments = await bench._export_payments(seeded)

    assert isinstance(subscriptions, int) and subscriptions > 200 * 50
    assert isinstance(payments, int) and payments > 1000 * 50


async def test_the_memory_hook_sees_what_a_run_keeps(seeded: bench.Seeded) -> None:
    async def allocates(_: bench.Seeded) -> object:
        block = bytearray(64 * 1024 * 1024)
        block[::4096] = b"x" * len(block[::4096])  # every page touched
        return len(block)

    figures = await bench.measure(seeded, bench.Measurement("64 MB", allocates, rss=True), runs=5)

    assert figures.rss_mb is not None and 60 <= figures.rss_mb < 200
    assert "peak RSS growth" in figures.line()
