"""The overview's SVG bar chart: every bar inside the drawing however many there are,
labels that never crowd (a day chart labels every few bars and keeps values in the
tooltips), and text escaped."""

from __future__ import annotations

import re
from decimal import Decimal

from adapters.inbound.http.dashboard.chart import WIDTH, bar_chart


def test_ninety_days_fit_the_drawing_with_a_few_labels() -> None:
    bars = [(f"d{n}", Decimal(n)) for n in range(90)]

    svg = bar_chart("Takings per day in USD", bars)

    rects = [
        tuple(map(float, r))
        for r in re.findall(r'<rect class="bar" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)
    ]
    assert len(rects) == 90
    assert all(x >= 0 and w > 0 and x + w <= WIDTH for x, w in rects)
    labels = re.findall(r'text-anchor="middle">(d\d+)</text>', svg)
    assert labels == [f"d{n}" for n in range(0, 90, 9)]
    assert "<title>d89: 89</title>" in svg


def test_a_year_of_months_labels_every_other_month_shows_every_value_escapes_text() -> None:
    bars: list[tuple[str, Decimal | int]] = [(f"2026-{n:02d}", n) for n in range(1, 13)]

    svg = bar_chart("<Café & co>", bars)

    labels = re.findall(r'text-anchor="middle">(2026-\d\d)</text>', svg)
    assert labels == [f"2026-{n:02d}" for n in range(1, 13, 2)]  # a label is wider than a bar
    assert len(re.findall(r'text-anchor="middle">\d+</text>', svg)) == 12
    assert "&lt;Café &amp; co&gt;" in svg and "<Café" not in svg


def test_no_takings_draw_flat_bars() -> None:
    svg = bar_chart("empty", [("a", Decimal(0)), ("b", Decimal(0))])
    assert re.findall(r'height="([\d.]+)" fill', svg) == ["0.0", "0.0"]
