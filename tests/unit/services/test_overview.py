"""The overview's arithmetic over the rollup (in memory): windows, months across a
year's end, per-channel lines, the operator's view of everything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest

from adapters.outbound.memory.dashboard import InMemoryChannelFigures
from adapters.outbound.memory.unit_of_work import InMemoryUnitOfWorkFactory
from core.domain.channel import Channel
from core.domain.errors import InvalidChannel
from core.domain.figures import ALL_CHANNELS, DailyFigure, FigureKind, summed
from core.domain.ids import ChannelId
from core.domain.money import Money
from core.ports.dashboard import ChannelName
from core.services.overview import PAGE_SIZE, overview, page_number, window_days
from tests.contract.builders import make_channel

NOW = datetime(2026, 1, 10, 23, 59, tzinfo=UTC)


def named(channel: Channel) -> ChannelName:
    return ChannelName(channel.id, channel.title, channel.owner_id)


async def test_months_run_back_across_the_year_and_the_window_ends_today() -> None:
    uow = InMemoryUnitOfWorkFactory()
    mine, other = make_channel(), attrs.evolve(make_channel(), title="Zebra")
    async with uow() as tx:
        for channel in (mine, other):
            await tx.channels.add(channel)
        await tx.figures.add(
            [
                DailyFigure.money(mine.id, NOW, FigureKind.NEW, Money.of("10", "USD")),
                DailyFigure.money(
                    mine.id, NOW - timedelta(days=29), FigureKind.NEW, Money.of("3", "USD")
                ),
                DailyFigure.money(
                    mine.id, NOW - timedelta(days=30), FigureKind.RENEWED, Money.of("4", "USD")
                ),
                DailyFigure.money(
                    mine.id, NOW - timedelta(days=330), FigureKind.DONATION, Money.of("1", "EUR")
                ),
                DailyFigure.money(
                    mine.id, NOW - timedelta(days=400), FigureKind.NEW, Money.of("99", "USD")
                ),
                DailyFigure.churn(mine.id, NOW),
                DailyFigure.money(other.id, NOW, FigureKind.NEW, Money.of("5", "USD")),
            ]
        )
        await tx.commit()
    figures = InMemoryChannelFigures(uow.store)

    seen = await overview(figures, [named(mine)], NOW, 30)
    everything = await overview(figures, None, NOW, 30)

    assert [month for month, _ in seen.by_month] == [
        "2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-07",
        "2025-08", "2025-09", "2025-10", "2025-11", "2025-12", "2026-01",
    ]  # fmt: skip
    assert seen.by_day[0][0] == NOW.date() - timedelta(days=29)
    assert seen.by_day[-1][0] == NOW.date() and len(seen.by_day) == 30
    assert seen.window.takings == {"USD": Decimal(13)}
    assert (seen.window.new, seen.window.renewed, seen.window.churned) == (2, 0, 1)
    assert dict(seen.by_month)["2025-12"].takings == {"USD": Decimal(7)}  # Dec 11 and 12
    assert dict(seen.by_month)["2025-02"].donated == {"EUR": Decimal(1)}
    assert seen.currencies == ("EUR", "USD")
    assert everything.window.takings == {"USD": Decimal(18)}
    assert [line.tally.takings for line in everything.channels] == [
        {"USD": Decimal(13)},
        {"USD": Decimal(5)},
    ]


async def test_a_viewer_with_no_channels_gets_empty_figures() -> None:
    figures = InMemoryChannelFigures(InMemoryUnitOfWorkFactory().store)

    seen = await overview(figures, [], NOW, 90)

    assert (seen.active, seen.channels, seen.currencies) == (0, (), ())
    assert len(seen.by_day) == 90 and all(not t.takings for _, t in seen.by_day)


@pytest.mark.parametrize("asked", ["7", "abc", "-30", "300"])
def test_a_window_other_than_30_or_90_days_is_refused(asked: str) -> None:
    with pytest.raises(InvalidChannel, match="overview_window"):
        window_days(asked)


def test_no_window_asked_means_30_days() -> None:
    assert (window_days(None), window_days(""), window_days("90")) == (30, 30, 90)


def test_a_batch_is_summed_into_one_row_per_day_kind_and_currency_with_totals() -> None:
    channel, other = make_channel(), make_channel()
    ten = Money.of("10", "USD")
    rows = summed(
        [
            DailyFigure.money(channel.id, NOW, FigureKind.NEW, ten),
            DailyFigure.money(channel.id, NOW + timedelta(minutes=1), FigureKind.NEW, ten),
            DailyFigure.money(other.id, NOW + timedelta(minutes=2), FigureKind.NEW, ten),
            DailyFigure.churn(channel.id, NOW),
        ]
    )

    def of(channel_id: ChannelId) -> list[tuple[object, ...]]:
        return [(r.day, r.kind, r.amount, r.count) for r in rows if r.channel_id == channel_id]

    assert of(channel.id) == [
        (NOW.date(), FigureKind.CHURNED, Decimal(0), 1),
        (NOW.date(), FigureKind.NEW, Decimal(10), 1),
        (NOW.date() + timedelta(days=1), FigureKind.NEW, Decimal(10), 1),  # after midnight
    ]
    assert of(ALL_CHANNELS) == [
        (NOW.date(), FigureKind.CHURNED, Decimal(0), 1),
        (NOW.date(), FigureKind.NEW, Decimal(10), 1),
        (NOW.date() + timedelta(days=1), FigureKind.NEW, Decimal(20), 2),
    ]
    assert len(rows) == 7
    with pytest.raises(ValueError, match="belongs to a channel"):
        summed([DailyFigure.churn(ALL_CHANNELS, NOW)])


async def test_channels_are_listed_by_title_a_page_at_a_time_under_totals_of_all() -> None:
    uow = InMemoryUnitOfWorkFactory()
    channels = [
        attrs.evolve(make_channel(channel_id=f"c{n:03d}"), title=f"Channel {n:03d}")
        for n in range(120)
    ]
    async with uow() as tx:
        for channel in channels:
            await tx.channels.add(channel)
        await tx.figures.add(
            [DailyFigure.money(c.id, NOW, FigureKind.NEW, Money.of("1", "USD")) for c in channels]
        )
        await tx.commit()
    figures = InMemoryChannelFigures(uow.store)

    first = await overview(figures, [named(c) for c in channels[::-1]], NOW, 30)
    last = await overview(figures, None, NOW, 30, page=3)

    assert (first.page, first.pages, last.page, last.pages) == (1, 3, 3, 3)
    assert [line.channel.title for line in first.channels][:2] == ["Channel 000", "Channel 001"]
    assert len(first.channels) == PAGE_SIZE
    assert last.channels[0].channel.title == "Channel 100"
    assert len(last.channels) == 20
    assert last.channels[0].tally.takings == {"USD": Decimal(1)}
    assert first.window.new == last.window.new == 120  # the operator's from the totals
    assert first.active == 0 and last.active is None
    with pytest.raises(InvalidChannel, match="overview_page"):
        await overview(figures, None, NOW, 30, page=4)


@pytest.mark.parametrize("asked", ["0", "x", "-1", "1000001"])
def test_an_odd_page_is_refused(asked: str) -> None:
    with pytest.raises(InvalidChannel, match="overview_page"):
        page_number(asked)
