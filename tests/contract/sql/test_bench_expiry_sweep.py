"""The expiry-sweep benchmark (bench/bench_expiry_sweep.py) at a small size, so its
figures stay trustworthy: what it loads in bulk is what the repositories would have
written, and its sweep does exactly the work its data asks for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.outbound.crypto import generate_key
from adapters.outbound.sqla import SqlUnitOfWorkFactory
from bench.bench_expiry_sweep import (
    LOADING,
    Case,
    SweepJob,
    load_subscriptions,
    measure_sweep,
    seed,
    sweep_config,
)
from composition.assembly import opened_store
from core.domain.ids import ChannelId, SubscriptionId, UserId
from core.domain.subscription import Subscription, SubscriptionStatus

NOW = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)


async def test_subscriptions_loaded_in_bulk_read_back_through_the_repository(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    loaded = [
        Subscription(
            id=SubscriptionId("0f3a9c1e5b7d4a2c8e6f1b3d5a7c9e0f"),
            user_id=UserId(7_000_000_001),
            channel_id=ChannelId("ch0bulk"),
            tier=2,
            starts_at=NOW - timedelta(days=90),
            expires_at=NOW + timedelta(hours=5, microseconds=123456),
            period=3,
            reminders_sent=frozenset({72}),
            version=4,
        ),
        Subscription(
            id=SubscriptionId("9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"),
            user_id=UserId(7_000_000_002),
            channel_id=ChannelId("ch0bulk"),
            tier=1,
            starts_at=NOW - timedelta(days=60),
            expires_at=NOW - timedelta(days=30),
            status=SubscriptionStatus.REVOKED,
        ),
    ]
    async with engine.connect() as conn:
        await load_subscriptions(conn, loaded)
        await conn.commit()

    async with uow_factory() as tx:
        read = [await tx.subscriptions.get(sub.id) for sub in loaded]
        due = await tx.subscriptions.active_expiring_before(NOW + timedelta(days=1), None, 10)

    assert read == loaded
    assert [sub.id for sub in due] == [loaded[0].id]


async def test_the_benchmark_sweep_expires_and_reminds_exactly_what_it_seeded(
    engine: AsyncEngine,
) -> None:
    key = generate_key()
    url = engine.url.render_as_string(hide_password=False)
    # As the benchmark does: the store a process on this database opens.
    async with opened_store(sweep_config(url, key, LOADING)) as store:
        seeded = await seed(store, 1500, NOW)
    job = SweepJob(
        url=url,
        now=NOW,
        cipher_key=key,
        page_size=50,
        tracemalloc=False,
        explain=True,
    )

    figures = await measure_sweep(job)

    assert seeded.due > 50 and seeded.remind > 0  # several pages
    assert (figures.expired, figures.reminders) == (seeded.due, seeded.remind)
    assert figures.outbox_rows == 2 * seeded.due + seeded.remind
    assert figures.audit_rows == seeded.due + seeded.remind
    assert (figures.still_due, figures.idle_expired, figures.idle_reminders) == (0, 0, 0)
    assert Case(engine.dialect.name, seeded, figures).problems() == []
    assert [phase for phase, _ in figures.plans] == ["reminders", "expiry"]
    plan_text = " ".join(line for _, lines in figures.plans for line in lines)
    assert "ix_subscriptions_status_expires_at_id" in plan_text
