"""The dashboard's overview figures, from the daily rollup: takings per day (the last
30 or 90 days) and per month (the last 12) by currency, new, renewed and churned
subscriptions, donations and refunds, and the active subscribers, over the channels
a viewer may see (an operator: all of them) and per channel.

A handful of grouped reads whatever the number of rows behind them: the channels'
names, the window's days and the twelve months (for the operator from the rollup's
totals over every channel), the window of one page of channels, and the active
subscriptions of those channels.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

import attrs

from core.domain.errors import InvalidChannel, Why
from core.domain.figures import FigureKind
from core.domain.ids import ChannelId
from core.ports.dashboard import (
    ChannelFigures,
    ChannelName,
    ChannelTotal,
    DayTotal,
    FigureReads,
    MonthTotal,
)

WINDOWS = (30, 90)
"""The day windows an overview can show."""
MONTHS = 12
PAGE_SIZE = 50
"""Channels a page of the overview lists (an operator may see thousands)."""
MAX_PAGE = 100_000

_TAKINGS = (FigureKind.NEW, FigureKind.RENEWED, FigureKind.DONATION)


@attrs.define
class Tally:
    """What a span (a day, a month, a channel's window) added up to."""

    takings: dict[str, Decimal] = attrs.Factory(dict)
    """By currency: subscriptions and donations at the price asked, refunds not taken off."""
    donated: dict[str, Decimal] = attrs.Factory(dict)
    refunded: dict[str, Decimal] = attrs.Factory(dict)
    new: int = 0
    renewed: int = 0
    churned: int = 0
    donations: int = 0
    refunds: int = 0

    def add(self, kind: FigureKind, currency: str, amount: Decimal, count: int) -> None:
        if kind in _TAKINGS:
            self.takings[currency] = self.takings.get(currency, Decimal(0)) + amount
        if kind is FigureKind.NEW:
            self.new += count
        elif kind is FigureKind.RENEWED:
            self.renewed += count
        elif kind is FigureKind.CHURNED:
            self.churned += count
        elif kind is FigureKind.DONATION:
            self.donations += count
            self.donated[currency] = self.donated.get(currency, Decimal(0)) + amount
        else:
            self.refunds += count
            self.refunded[currency] = self.refunded.get(currency, Decimal(0)) + amount


@attrs.frozen
class ChannelLine:
    channel: ChannelName
    active: int
    tally: Tally
    """The window's figures."""


@attrs.frozen
class Overview:
    days: int
    """The window: 30 or 90 days, today included."""
    active: int | None
    """Active subscribers of all the channels; None for the operator's view of every
    channel (see the lines)."""
    window: Tally
    by_day: tuple[tuple[date, Tally], ...]
    """Every day of the window, oldest first, empty days included."""
    by_month: tuple[tuple[str, Tally], ...]
    """``YYYY-MM`` of the last twelve months, oldest first, empty ones included."""
    channels: tuple[ChannelLine, ...]
    """This page's channels, by title."""
    currencies: tuple[str, ...]
    """Every currency with takings or refunds in the twelve months, sorted."""
    page: int = 1
    pages: int = 1


def window_days(text: str | None) -> int:
    """The window asked for (``?days=``): 30 when not given. Raises InvalidChannel."""
    if not text:
        return WINDOWS[0]
    if not text.isdigit() or int(text) not in WINDOWS:
        raise InvalidChannel(Why.OVERVIEW_WINDOW)
    return int(text)


def page_number(text: str | None) -> int:
    """The page of channels asked for (``?page=``): 1 when not given. Raises
    InvalidChannel."""
    if not text:
        return 1
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise InvalidChannel(Why.OVERVIEW_PAGE)
    return int(text)


def _month_starts(today: date, months: int) -> list[date]:
    starts = []
    year, month = today.year, today.month
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


async def overview(
    figures: ChannelFigures,
    channels: Sequence[ChannelName] | None,
    now: datetime,
    days: int,
    page: int = 1,
) -> Overview:
    """The figures of ``channels`` added up, and a line for each of those on ``page``
    (:data:`PAGE_SIZE` a page, by title). ``channels`` None: every channel there is
    (the operator), when the totals are the rollup's own and only the page's channels
    are read by name. Raises InvalidChannel for a page past the last."""
    everything = channels is None
    first = (page - 1) * PAGE_SIZE
    if channels is None:
        count, page_names = await figures.name_page(first, PAGE_SIZE)
        shown = list(page_names)
        listed: list[ChannelName] = []
    else:
        listed = sorted(channels, key=lambda c: (c.title.casefold(), c.id))
        count, shown = len(listed), listed[first : first + PAGE_SIZE]
    pages = max(1, -(-count // PAGE_SIZE))
    if page > pages:
        raise InvalidChannel(Why.OVERVIEW_PAGE)
    today = now.date()
    months = _month_starts(today, MONTHS)
    first_day = today - timedelta(days=days - 1)
    day_rows: list[DayTotal] = []
    month_rows: list[MonthTotal] = []
    channel_rows: list[ChannelTotal] = []
    active: dict[ChannelId, int] = {}
    total_active: int | None = 0
    if count:
        ids = None if everything else [c.id for c in listed]
        shown_ids = [c.id for c in shown]
        # The operator's total would count every active subscription there is (most of
        # a million rows): their page counts only its own lines' channels.
        counted = shown_ids if everything else ids
        rows = await figures.overview_rows(
            FigureReads(ids, first_day, months[0], shown_ids, counted, now)
        )
        day_rows, month_rows = list(rows.days), list(rows.months)
        channel_rows, active = list(rows.lines), dict(rows.active)
        total_active = None if everything else sum(active.values())
    daily = {first_day + timedelta(days=n): Tally() for n in range(days)}
    monthly = {start.strftime("%Y-%m"): Tally() for start in months}
    window = Tally()
    for row in day_rows:
        day = daily.get(row.day)
        if day is not None:
            day.add(row.kind, row.currency, row.amount, row.count)
            window.add(row.kind, row.currency, row.amount, row.count)
    currencies: set[str] = set()
    for total in month_rows:
        if total.kind is not FigureKind.CHURNED:
            currencies.add(total.currency)
        month = monthly.get(total.month)
        if month is not None:
            month.add(total.kind, total.currency, total.amount, total.count)
    per_channel: dict[ChannelId, Tally] = {c.id: Tally() for c in shown}
    for line in channel_rows:
        tally = per_channel.get(line.channel_id)
        if tally is not None:
            tally.add(line.kind, line.currency, line.amount, line.count)
    return Overview(
        days=days,
        active=total_active,
        window=window,
        by_day=tuple(sorted(daily.items())),
        by_month=tuple(monthly.items()),
        channels=tuple(ChannelLine(c, active.get(c.id, 0), per_channel[c.id]) for c in shown),
        currencies=tuple(sorted(currencies)),
        page=page,
        pages=pages,
    )


def series(spans: Iterable[tuple[object, Tally]], currency: str) -> list[tuple[str, Decimal]]:
    """A currency's takings per span, as chart bars: (label, amount)."""
    return [(str(label), tally.takings.get(currency, Decimal(0))) for label, tally in spans]


__all__ = [
    "MONTHS",
    "WINDOWS",
    "ChannelLine",
    "Overview",
    "Tally",
    "overview",
    "series",
    "window_days",
]
