"""Stacked bar charts drawn on the server as SVG: no chart library, no script, no CDN.

Each chart is an ``<svg role="img">`` with a title and description, and every bar segment has
a ``<title>`` with its day, series and count for pointer users; the page puts the same numbers
in a table for screen readers and keyboard users. Colours are from a palette whose every
entry has at least 3:1 contrast against white (WCAG 2.1 non-text contrast), and the legend
names each colour in text.
"""

from __future__ import annotations

from datetime import date

from markupsafe import Markup, escape

PALETTE = (
    "#1f5fa8",
    "#b3421b",
    "#2e7d32",
    "#7b3fa0",
    "#a05a00",
    "#00707a",
    "#b0225d",
    "#4d5a66",
)
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 40


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _nice_max(value: int) -> int:
    """A round top for the axis, divisible by 4 so that the four grid steps are integers."""
    for step in (4, 8, 12, 20, 40, 80, 100, 200, 400, 800, 1000, 2000, 4000, 8000, 10000):
        if value <= step:
            return step
    return -(-value // 4000) * 4000


def stacked_bars(
    chart_id: str, title: str, days: list[date], series: dict[str, list[int]]
) -> Markup:
    """An SVG stacked bar chart of ``series`` (name -> one count per day)."""
    totals = [sum(values[n] for values in series.values()) for n in range(len(days))]
    top = _nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(days), 1)
    bar_w = max(slot * 0.7, 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="chart" role="img" aria-labelledby="{chart_id}-t {chart_id}-d">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">Staafdiagram per dag; de tabel hieronder bevat dezelfde '
        f"getallen.</desc>",
    ]
    for tick in range(5):
        value = top * tick // 4
        y = TOP + plot_h - plot_h * tick / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">{value}</text>'
        )
    for n, day in enumerate(days):
        x = LEFT + n * slot + (slot - bar_w) / 2
        y = TOP + plot_h
        for index, (name, values) in enumerate(series.items()):
            count = values[n]
            if not count:
                continue
            height = plot_h * count / top
            y -= height
            label = f"{day.strftime('%d-%m')}: {name}: {count}"
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{height:.1f}" '
                f'fill="{colour(index)}"><title>{escape(label)}</title></rect>'
            )
        if len(days) <= 16 or n % 2 == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" class="axis" '
                f'text-anchor="middle">{day.strftime("%d-%m")}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it passed through escape()
