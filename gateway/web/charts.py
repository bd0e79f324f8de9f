"""Stacked bar charts drawn on the server as SVG: no chart library, no script, no CDN.

Each chart is an ``<svg role="img">`` with a title and description, and every bar segment has
a ``<title>`` with its day, series and count for pointer users; the page puts the same numbers
in a table for screen readers and keyboard users. Colours are from a palette whose every
entry has at least 3:1 contrast against white (WCAG 2.1 non-text contrast), and the legend
names each colour in text.
"""

from __future__ import annotations

from datetime import date
from textwrap import wrap

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


SMALL = "<5"
"""A count of 1 to 4 as the indicators publish it (``gateway.monitoring.indicators.SMALL``)."""
SMALL_TOP = 4
CHAR_W, LINE_H = 7, 14  # an axis character's width and a label line's height, in pixels
"""The height a "<5" bar is drawn at: the most it can be, so it never looks smaller than it is."""


def _hatch(chart_id: str, index: int) -> str:
    """A diagonal hatch in the series' colour: a suppressed cell, drawn unlike any count."""
    return (
        f'<pattern id="{chart_id}-hatch-{index}" patternUnits="userSpaceOnUse" width="6" '
        f'height="6" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{colour(index)}" stroke-width="3"/>'
        f"</pattern>"
    )


def _cell_text(cell: object) -> str:
    if cell is None:
        return "weggelaten om een klein aantal te beschermen"
    if cell == SMALL:
        return "minder dan 5"
    return str(cell)


def count_bars(
    chart_id: str,
    title: str,
    description: str,
    labels: list[str],
    series: dict[str, list[object]],
    line: tuple[str, list[object]] | None = None,
) -> Markup:
    """An SVG chart of published counts: per label one bar for each series side by side, and
    optionally a ``line`` (a count at each label, such as what is open at the month's end).

    A cell is a number, ``"<5"`` or ``None`` (withheld). A ``"<5"`` cell is a hatched bar up
    to 4 marked "<5" and titled "minder dan 5": never a number, never a solid bar of some
    height. A withheld cell is a dash. The line is broken where its count is not published,
    and a "<5" point of it is a hatched band from 0 to 4."""
    cells = [cell for values in series.values() for cell in values]
    cells += line[1] if line else []
    numbers = [cell for cell in cells if isinstance(cell, int)]
    top = _nice_max(max([*numbers, SMALL_TOP if SMALL in cells else 0], default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)
    bar_w = max(slot * 0.7 / max(len(series), 1), 2)
    base = TOP + plot_h
    names = list(series) + ([line[0]] if line else [])
    # a long label (an advice's name) wraps under its bar; the chart grows to hold it
    wrapped = [wrap(label, max(int(slot / CHAR_W), 6)) or [""] for label in labels]
    height = HEIGHT + LINE_H * (max((len(lines) for lines in wrapped), default=1) - 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'class="chart" role="img" aria-labelledby="{chart_id}-t {chart_id}-d">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(description)} Gearceerd: minder dan 5; een streepje: '
        f"weggelaten. De tabel hieronder bevat dezelfde getallen.</desc>",
        "<defs>" + "".join(_hatch(chart_id, index) for index in range(len(names))) + "</defs>",
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

    def mark(x: float, width: float, cell: object, index: int, label: str, name: str) -> None:
        tip = f"<title>{escape(f'{label}: {name}: {_cell_text(cell)}')}</title>"
        if cell is None:
            parts.append(
                f'<text x="{x + width / 2:.1f}" y="{base - 4}" class="axis withheld" '
                f'text-anchor="middle">–{tip}</text>'
            )
        elif cell == SMALL:
            height = plot_h * SMALL_TOP / top
            parts.append(
                f'<rect x="{x:.1f}" y="{base - height:.1f}" width="{width:.1f}" '
                f'height="{height:.1f}" fill="url(#{chart_id}-hatch-{index})" '
                f'stroke="{colour(index)}" class="small-cell">{tip}</rect>'
            )
            parts.append(
                f'<text x="{x + width / 2:.1f}" y="{base - height - 4:.1f}" class="axis" '
                f'text-anchor="middle">&lt;5</text>'
            )
        elif isinstance(cell, int) and cell > 0:
            height = plot_h * cell / top
            parts.append(
                f'<rect x="{x:.1f}" y="{base - height:.1f}" width="{width:.1f}" '
                f'height="{height:.1f}" fill="{colour(index)}">{tip}</rect>'
            )

    for n, label in enumerate(labels):
        left = LEFT + n * slot + (slot - bar_w * len(series)) / 2
        for index, (name, values) in enumerate(series.items()):
            mark(left + index * bar_w, bar_w, values[n], index, label, name)
        centre = LEFT + n * slot + slot / 2
        parts.append(
            f'<text x="{centre:.1f}" y="{HEIGHT - BOTTOM + 16}" class="axis" '
            f'text-anchor="middle">'
            + "".join(
                f'<tspan x="{centre:.1f}" dy="{0 if row == 0 else LINE_H}">{escape(text)}</tspan>'
                for row, text in enumerate(wrapped[n])
            )
            + "</text>"
        )
    if line:
        name, values = line
        index = len(series)
        run: list[str] = []
        for n, cell in enumerate([*values, None]):
            if isinstance(cell, int):
                x = LEFT + n * slot + slot / 2
                run.append(f"{x:.1f},{base - plot_h * cell / top:.1f}")
                continue
            if len(run) > 1:
                parts.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour(index)}" '
                    f'stroke-width="2"/>'
                )
            run = []
        for n, cell in enumerate(values):
            x = LEFT + n * slot + slot / 2
            if isinstance(cell, int):
                tip = escape(f"{labels[n]}: {name}: {cell}")
                parts.append(
                    f'<circle cx="{x:.1f}" cy="{base - plot_h * cell / top:.1f}" r="3.5" '
                    f'fill="{colour(index)}"><title>{tip}</title></circle>'
                )
            else:
                mark(x - 4, 8, cell, index, labels[n], name)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it passed through escape()
