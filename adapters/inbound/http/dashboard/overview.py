"""The overview page's charts: server-rendered SVG (see ``chart.py``) of the figures
the core adds up (:mod:`core.services.overview`), titled in the page's language."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import attrs
from markupsafe import Markup

from adapters.catalog.language import _
from adapters.inbound.http.dashboard.chart import bar_chart
from core.services.overview import Overview, Tally, series


@attrs.frozen
class Chart:
    title: str
    svg: Markup


def _counts(overview: Overview, count: Callable[[Tally], int]) -> list[tuple[str, Decimal | int]]:
    return [(day.strftime("%m-%d"), count(tally)) for day, tally in overview.by_day]


def _chart(title: str, bars: list[tuple[str, Decimal | int]]) -> Chart:
    # The markup is built by bar_chart, which escapes every text it holds.
    return Chart(title, Markup(bar_chart(title, bars)))  # noqa: S704


def charts(overview: Overview) -> list[Chart]:
    """Takings per day and per month in each currency, then new, renewed and churned
    subscriptions per day."""
    found = []
    days = [(day.strftime("%m-%d"), tally) for day, tally in overview.by_day]
    for currency in overview.currencies:
        daily: list[tuple[str, Decimal | int]] = list(series(days, currency))
        monthly: list[tuple[str, Decimal | int]] = list(series(overview.by_month, currency))
        found.append(_chart(_("Takings per day in %(currency)s", currency=currency), daily))
        found.append(_chart(_("Takings per month in %(currency)s", currency=currency), monthly))
    found.append(_chart(_("New subscriptions per day"), _counts(overview, lambda t: t.new)))
    found.append(_chart(_("Renewals per day"), _counts(overview, lambda t: t.renewed)))
    found.append(_chart(_("Subscriptions ended per day"), _counts(overview, lambda t: t.churned)))
    return found
