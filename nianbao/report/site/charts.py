"""Chart geometry: each SVG chart's shapes computed here, in SVG units, and drawn by the macros of
templates/charts.html. Hand-written SVG: no chart library, nothing loaded when the page opens."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from html import escape

# A sequential palette (light to dark blue, colour-blind safe), for a rate from 0 to 1.
PALETTE = ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"]
MISSING = "#eeeeee"


@dataclass(frozen=True)
class Limits:
    titled_dots: int = 300  # above this many bodies a dot has no tooltip of its own (the table has the values)


LIMITS = Limits()


@dataclass
class Histogram:
    """Reports per tenth of a rate: bars of equal width, heights against the largest bin."""

    title: str
    bars: list[dict]
    width: int
    height: int
    median: float | None = None
    median_x: float | None = None
    total: int = 0


def histogram(
    title: str, counts: dict[int, int], bins: int, median: float | None, width: int = 220, height: int = 90
) -> Histogram:
    top = max(counts.values(), default=0) or 1
    plot_h, bar_w = height - 22, width / bins
    bars = []
    for b in range(bins):
        n = counts.get(b, 0)
        h = plot_h * n / top
        bars.append(
            {
                "x": round(b * bar_w + 1, 1),
                "y": round(plot_h - h + 4, 1),
                "w": round(bar_w - 2, 1),
                "h": round(h, 1),
                "n": n,
                "label": f"{100 * b // bins}–{100 * (b + 1) // bins}%",
            }
        )
    x = None if median is None else round(median * width, 1)
    return Histogram(title, bars, width, height, median, x, sum(counts.values()))


@dataclass
class Strip:
    """One row per indicator, one dot per body at its value; the median marked."""

    rows: list[dict]
    width: int
    height: int
    left: int
    plot_w: int
    ticks: list[dict] = field(default_factory=list)


def strip(
    rows: list[tuple[str, list[tuple[str, float, float | None]], float | None]],
    width: int = 760,
    row_h: int = 34,
    left: int = 170,
) -> Strip:
    """rows: (label, [(body name, value, n)], median); values are rates from 0 to 1."""
    plot_w = width - left - 16
    out = []
    for i, (label, dots, median) in enumerate(rows):
        y = 18 + i * row_h + row_h / 2
        out.append(
            {
                "label": label,
                "y": y,
                "count": len(dots),
                "median_x": None if median is None else round(left + median * plot_w, 1),
                "titled": len(dots) <= LIMITS.titled_dots,
                "dots": [
                    {
                        "x": round(left + v * plot_w, 1),
                        "y": round(
                            y + (zlib.crc32(name.encode()) % 9 - 4) * row_h / 16, 1
                        ),  # jitter, the same every build
                        "name": name,
                        "value": v,
                        "n": n,
                    }
                    for name, v, n in dots
                ],
            }
        )
    ticks = [{"x": round(left + t / 100 * plot_w, 1), "label": f"{t}%"} for t in range(0, 101, 25)]
    return Strip(out, width, 18 + len(rows) * row_h + 8, left, plot_w, ticks)


def shade(value: float | None) -> str:
    """The cell's class: q0 (lowest) .. q8 (highest) of PALETTE, qn without a value."""
    return "qn" if value is None else f"q{min(len(PALETTE) - 1, max(0, int(value * len(PALETTE))))}"


def heatmap(
    indicators: list[tuple[str, str]],
    years: list[int],
    bodies: list[tuple[str, str, dict[tuple[str, int], tuple[float | None, float | None]]]],
) -> str:
    """Bodies (rows) × years (columns) for each indicator (a block of columns per indicator), as a
    table of coloured cells, its percentage inside, its n on hover, sortable by year. A table, and
    written as strings: at thousands of bodies a province's heatmap stays a few MB and a second.
    indicators: (id, label); bodies: (name, href, {(indicator, year): (value, n)}); values are rates."""
    head = ['<table class="heatmap sortable">\n<thead><tr><th class="sort" rowspan="2" data-col="0">机关']
    head += [f'<th colspan="{len(years)}">{escape(label)}' for _, label in indicators]
    head.append("</tr>\n<tr>")
    head += [
        f'<th class="sort" data-col="{1 + k * len(years) + j}">{y}'
        for k in range(len(indicators))
        for j, y in enumerate(years)
    ]
    rows = ["".join(head) + "</tr></thead>\n<tbody>\n"]
    for name, href, values in bodies:
        cells = []
        for ind, _ in indicators:
            for year in years:
                value, n = values.get((ind, year), (None, None))
                title = "" if n is None else f' title="n={n:,.0f}"'
                cells.append(f'<td class="{shade(value)}"{title}>{"" if value is None else f"{100 * value:.0f}"}')
        rows.append(f'<tr><td><a href="{escape(href)}">{escape(name)}</a>{"".join(cells)}</tr>\n')
    return "".join(rows) + "</tbody>\n</table>"


def sparkline(
    points: list[tuple[int, float | None, float | None, float | None, float | None]],
    rate: bool,
    text,
    width: int = 160,
    height: int = 44,
) -> str:
    """An indicator's history as SVG: a point per year (its value in a tooltip, `text` formats it),
    its 95% interval as a bar, the peer median as a tick; a rate spans 0..1, a count 0..its largest.
    Written here rather than in a template: an agency page draws fifteen, a province thousands of pages."""
    pad, known = 6, [p for p in points if p[1] is not None]
    top = 1.0 if rate else max([v for p in known for v in (p[1], p[4]) if v is not None], default=0) or 1.0
    step = (width - 2 * pad) / max(1, len(points) - 1)
    y = lambda v: round(height - pad - (height - 2 * pad) * v / top, 1)  # noqa: E731
    bars, dots, path = [], [], []
    for i, (year, value, low, high, median) in enumerate(points):
        x = round(pad + i * step if len(points) > 1 else width / 2, 1)
        if low is not None and high is not None:
            bars.append(f'<line x1="{x}" y1="{y(low)}" x2="{x}" y2="{y(high)}" stroke="#9ecae1" stroke-width="5"/>')
        if median is not None:
            bars.append(
                f'<line x1="{x - 5}" y1="{y(median)}" x2="{x + 5}" y2="{y(median)}" stroke="#c33" stroke-width="1.5"/>'
            )
        if value is None:
            dots.append(f'<text x="{x}" y="{height - 4}" text-anchor="middle" class="nr">–</text>')
            continue
        path.append(f"{'L' if path else 'M'}{x},{y(value)}")
        dots.append(
            f'<circle cx="{x}" cy="{y(value)}" r="3" fill="#08519c"><title>{int(year)}: {escape(text(value))}</title></circle>'
        )
    line = f'<path d="{" ".join(path)}" fill="none" stroke="#08519c" stroke-width="1.5"/>' if path else ""
    return (
        f'<svg class="chart sparkline" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="历年走势">{"".join(bars)}{line}{"".join(dots)}</svg>'
    )
