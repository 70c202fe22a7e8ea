"""The daily rollup (FigureRollup, read through ChannelFigures) on every store: kept by
the write path in the same unit of work as what it counts, so after a mixed sequence
of payments, renewals, a donation, a refund, expiries and replayed or racing
notifications it equals a recount from the raw rows, each counted exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from adapters.outbound.memory.dashboard import InMemoryChannelFigures
from adapters.outbound.memory.unit_of_work import InMemoryUnitOfWorkFactory
from adapters.outbound.sqla import SqlUnitOfWorkFactory
from adapters.outbound.sqla.dashboard import SqlChannelFigures
from core.domain.figures import NO_CURRENCY, DailyFigure, FigureKind
from core.domain.ids import ChannelId, UserId
from core.domain.intent_state import IntentStatus
from core.domain.payment import EventOutcome, Purpose
from core.domain.subscription import SubscriptionStatus
from core.ports.dashboard import ChannelFigures, DayTotal, FigureReads, FigureRows
from core.ports.errors import Conflict, Unavailable
from core.ports.repositories import UnitOfWorkFactory
from core.services.invoicing import IssuedInvoice
from tests.unit.services.world import START, World, build

U1, U2, U3, U4 = (UserId(500 + n) for n in range(4))
DAY0 = START.date()
DAY1 = DAY0 + timedelta(days=1)
USD = "USD"


def figures_of(uow: UnitOfWorkFactory) -> ChannelFigures:
    if isinstance(uow, InMemoryUnitOfWorkFactory):
        return InMemoryChannelFigures(uow.store)
    assert isinstance(uow, SqlUnitOfWorkFactory)
    return SqlChannelFigures(uow.engine)


async def pay_twice(world: World, invoice: IssuedInvoice) -> None:
    """The happy sequence, then its last notification again (a provider's retry)."""
    await world.pay(invoice)
    again = await world.verify.execute(world.notification(invoice, IntentStatus.FINISHED))
    assert again.outcome is EventOutcome.DUPLICATE


async def mixed_sequence(world: World) -> ChannelId:
    channel = await world.channel()
    await pay_twice(world, await world.checkout.execute(U1, channel.id, 1))  # new, 10
    await pay_twice(world, await world.checkout.execute(U2, channel.id, 2))  # new, 25
    world.clock.advance(timedelta(days=1))
    await pay_twice(world, await world.checkout.execute(U1, channel.id, 1))  # renewed, 10
    refunded = await world.checkout.execute(U3, channel.id, 1)
    await pay_twice(world, refunded)  # new, 10
    for _ in range(2):  # refund, churned; once
        await world.verify.execute(world.notification(refunded, IntentStatus.REFUNDED))
    await pay_twice(world, await world.donate.execute(U2, channel.id, Decimal("15")))
    # The same notification into two units of work at once: one grants, once.
    raced = await world.checkout.execute(U4, channel.id, 1)
    for status in (IntentStatus.WAITING, IntentStatus.CONFIRMING):
        await world.verify.execute(world.notification(raced, status))
    finished = world.notification(raced, IntentStatus.FINISHED)
    results = await asyncio.gather(
        world.verify.execute(finished), world.verify.execute(finished), return_exceptions=True
    )
    assert [
        r for r in results if isinstance(r, BaseException) and not isinstance(r, Conflict)
    ] == []
    world.clock.advance(timedelta(days=70))
    assert (await world.expire.execute()).expired == 2  # U1 and U4; U2 has 90 days
    assert (await world.expire.execute()).expired == 0
    return channel.id


async def recount(
    world: World, channel_id: ChannelId
) -> dict[tuple[date, str, FigureKind], Decimal]:
    """From the raw rows: fulfilled payments by day (a payer's first subscription
    payment new, later ones renewed: no lapse in the sequence), refunds by the day
    they were refunded; endings counted from the subscriptions."""
    sums: dict[tuple[date, str, FigureKind], Decimal] = {}
    async with world.uow() as tx:
        for user in (U1, U2, U3, U4):
            intents = sorted(
                (i for i in await tx.people.intents_of(user) if i.fulfilled_at is not None),
                key=lambda i: (i.fulfilled_at, i.id),
            )
            for n, intent in enumerate(i for i in intents if i.purpose is Purpose.SUBSCRIPTION):
                kind = FigureKind.NEW if n == 0 else FigureKind.RENEWED
                _add(sums, intent.fulfilled_at.date(), kind, intent.price.amount)  # type: ignore[union-attr]
            for intent in intents:
                if intent.purpose is Purpose.DONATION:
                    _add(sums, intent.fulfilled_at.date(), FigureKind.DONATION, intent.price.amount)  # type: ignore[union-attr]
                if intent.status is IntentStatus.REFUNDED:
                    _add(sums, intent.updated_at.date(), FigureKind.REFUND, intent.price.amount)
        ended = [
            s
            for s in await tx.subscriptions.for_channel(channel_id)
            if s.status in (SubscriptionStatus.EXPIRED, SubscriptionStatus.REVOKED)
        ]
    sums[(DAY0, NO_CURRENCY, FigureKind.CHURNED)] = Decimal(len(ended))  # the total, see below
    return sums


def _add(
    sums: dict[tuple[date, str, FigureKind], Decimal], day: date, kind: FigureKind, amount: Decimal
) -> None:
    sums[(day, USD, kind)] = sums.get((day, USD, kind), Decimal(0)) + amount


def rolled_up(rows: list[DayTotal]) -> dict[tuple[date, str, FigureKind], Decimal]:
    sums: dict[tuple[date, str, FigureKind], Decimal] = {
        (r.day, r.currency, r.kind): r.amount for r in rows if r.kind is not FigureKind.CHURNED
    }
    sums[(DAY0, NO_CURRENCY, FigureKind.CHURNED)] = Decimal(
        sum(r.count for r in rows if r.kind is FigureKind.CHURNED)
    )
    return sums


async def test_the_rollup_equals_a_recount_of_the_raw_rows_after_a_mixed_sequence(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = build(uow=uow_factory)
    channel_id = await mixed_sequence(world)
    figures = figures_of(uow_factory)

    rows = list(await figures.by_day([channel_id], DAY0))

    assert rolled_up(rows) == await recount(world, channel_id)
    months = await figures.by_month([channel_id], DAY0.replace(day=1))
    assert [(m.month, m.kind, m.amount, m.count) for m in months] == [
        ("2026-03", FigureKind.CHURNED, Decimal(0), 1),
        ("2026-03", FigureKind.DONATION, Decimal(15), 1),
        ("2026-03", FigureKind.NEW, Decimal(55), 4),
        ("2026-03", FigureKind.REFUND, Decimal(10), 1),
        ("2026-03", FigureKind.RENEWED, Decimal(10), 1),
        ("2026-05", FigureKind.CHURNED, Decimal(0), 2),
    ]
    counts = Counter({(r.day, r.kind): r.count for r in rows})
    assert counts == Counter(
        {
            (DAY0, FigureKind.NEW): 2,
            (DAY1, FigureKind.NEW): 2,
            (DAY1, FigureKind.RENEWED): 1,
            (DAY1, FigureKind.REFUND): 1,
            (DAY1, FigureKind.DONATION): 1,
            (DAY1, FigureKind.CHURNED): 1,
            (DAY1 + timedelta(days=70), FigureKind.CHURNED): 2,
        }
    )
    amounts = {(r.day, r.kind): r.amount for r in rows if r.kind is not FigureKind.CHURNED}
    assert amounts == {
        (DAY0, FigureKind.NEW): Decimal(35),
        (DAY1, FigureKind.NEW): Decimal(20),
        (DAY1, FigureKind.RENEWED): Decimal(10),
        (DAY1, FigureKind.REFUND): Decimal(10),
        (DAY1, FigureKind.DONATION): Decimal(15),
    }


async def test_figures_are_read_per_channel_for_the_channels_asked_or_all(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = build(uow=uow_factory)
    channel_id = await mixed_sequence(world)
    async with uow_factory() as tx:
        await tx.figures.add(
            [DailyFigure(ChannelId("elsewhere"), DAY1, "EUR", FigureKind.NEW, Decimal("4.5"), 1)]
        )
        await tx.commit()
    figures = figures_of(uow_factory)

    mine = await figures.by_channel([channel_id], DAY1)
    everyone = await figures.by_channel(None, DAY1)
    none = await figures.by_channel([], DAY0)

    assert {(t.kind, t.amount, t.count) for t in mine if t.currency == USD} == {
        (FigureKind.NEW, Decimal(20), 2),
        (FigureKind.RENEWED, Decimal(10), 1),
        (FigureKind.REFUND, Decimal(10), 1),
        (FigureKind.DONATION, Decimal(15), 1),
    }
    assert {t.channel_id for t in everyone} == {channel_id, ChannelId("elsewhere")}
    assert none == []
    active = await figures.active_subscribers(None, world.clock.now())
    assert active == {channel_id: 1}  # U2's ninety days


async def test_figures_added_in_a_unit_of_work_that_rolls_back_are_not_kept(
    uow_factory: UnitOfWorkFactory,
) -> None:
    figure = DailyFigure(ChannelId("ch1"), DAY0, USD, FigureKind.DONATION, Decimal("2.25"), 1)
    async with uow_factory() as tx:
        await tx.figures.add([figure, figure])
        await tx.commit()
    async with uow_factory() as tx:
        await tx.figures.add([figure])
        await tx.audit.all()  # a statement after the add: held rows go out on Postgres
        await tx.rollback()
    async with uow_factory() as tx:
        await tx.figures.add([figure])
        await tx.commit()

    rows = await figures_of(uow_factory).by_day(None, DAY0)

    assert rows == [DayTotal(DAY0, USD, FigureKind.DONATION, Decimal("6.75"), 3)]


async def test_an_overviews_reads_at_once_equal_each_read_on_its_own(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = build(uow=uow_factory)
    channel_id = await mixed_sequence(world)
    async with uow_factory() as tx:
        await tx.figures.add(
            [DailyFigure(ChannelId("elsewhere"), DAY1, "EUR", FigureKind.NEW, Decimal("4.5"), 1)]
        )
        await tx.commit()
    figures = figures_of(uow_factory)
    now = world.clock.now()
    month = DAY0.replace(day=1)

    for ids, shown, counted in (
        ([channel_id], [channel_id], [channel_id]),
        (None, [channel_id, ChannelId("elsewhere")], [channel_id]),
        (None, [], None),
    ):
        rows = await figures.overview_rows(FigureReads(ids, DAY0, month, shown, counted, now))

        assert rows == FigureRows(
            await figures.by_day(ids, DAY0),
            await figures.by_month(ids, month),
            await figures.by_channel(shown, DAY0),
            await figures.active_subscribers(counted, now),
        )
        assert rows.days and rows.months
    assert (await figures.overview_rows(FigureReads(None, DAY0, month, [], None, now))).lines == []


async def test_a_failed_read_of_the_overview_is_unavailable_not_a_group_of_errors() -> None:
    engine = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none", poolclass=NullPool)
    reads = FigureReads(None, DAY0, DAY0.replace(day=1), [ChannelId("c")], None, START)
    try:
        with pytest.raises(Unavailable):
            await SqlChannelFigures(engine).overview_rows(reads)
    finally:
        await engine.dispose()
