"""A bar chart as SVG markup, drawn on the server: no script, no inline style, so the
strict CSP holds. Colours are presentation attributes (``fill``), which CSP allows."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

WIDTH, HEIGHT, GAP, LABEL, MARGIN = 480, 160, 6, 18, 16


VALUES_SHOWN = 16
"""Up to this many bars carry their value above them; more (a day chart) carry it in
their tooltip only, and every few an axis label, so the labels never overlap."""


def bar_chart(title: str, bars: Sequence[tuple[str, Decimal | int]]) -> str:
    """``bars``: (label, value) pairs, drawn left to right, scaled to the largest."""
    top = max((value for _, value in bars), default=Decimal(0))
    count = max(len(bars), 1)
    step = max(1, -(-count // 10))
    gap = GAP if count <= 40 else 1
    # Room at both ends for the first and last labels, centred under their bars.
    width = (WIDTH - 2 * MARGIN - gap * (count + 1)) / count
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT + LABEL * 2}" '
        f'width="{WIDTH}" height="{HEIGHT + LABEL * 2}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for index, (label, value) in enumerate(bars):
        height = 0.0 if top <= 0 else float(Decimal(value) / Decimal(top)) * HEIGHT
        x = MARGIN + gap + index * (width + gap)
        y = LABEL + HEIGHT - height
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
            f'height="{height:.1f}" fill="#3b6ea8"><title>{escape(label)}: {value}</title></rect>'
        )
        if index % step == 0:
            parts.append(
                f'<text x="{x + width / 2:.1f}" y="{HEIGHT + LABEL * 2 - 4}" font-size="11" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
        if count <= VALUES_SHOWN:
            parts.append(
                f'<text x="{x + width / 2:.1f}" y="{max(y - 4, 12):.1f}" font-size="11" '
                f'text-anchor="middle">{value}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
