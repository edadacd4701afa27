"""Trend charts drawn as inline SVG on the server: no script, no library. The viewBox
scales with the page and the text with it, so a phone gets its own narrow drawing
(`narrow=True`, shown by the stylesheet below 600 px): the wide one's 14-unit labels
would shrink to about 7 px there."""
from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from dispatch.queries import DayFigures
from web.pages.labels import DAILY_BAR_HOVER, DAILY_BARS_TITLE, RATE_DOT_HOVER, RATE_LINE_TITLE, percent

WIDTH, HEIGHT = 720, 260
NARROW_WIDTH = 360      # about a phone's width in CSS pixels: labels stay near 14 px
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 16, 34


def _nice_max(value: int) -> int:
    """The top of the axis: four equal whole, round steps reaching the value."""
    need = max(1, math.ceil(value / 4))
    magnitude = 10 ** int(math.log10(need))
    step = next(m * magnitude for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)
                if m * magnitude >= need and float(m * magnitude).is_integer())
    return int(step) * 4


def _svg_open(width: int, title: str, narrow: bool) -> list[str]:
    kind = "chart narrow" if narrow else "chart wide"
    return [f'<svg class="{kind}" viewBox="0 0 {width} {HEIGHT}" role="img" aria-label="{escape(title)}">',
            f"<title>{escape(title)}</title>"]


def _label_every(days: int, narrow: bool) -> int:
    return max(1, math.ceil(days / (4 if narrow else 10)))


def _x_labels(days: Sequence[DayFigures], x_of, every: int) -> list[str]:  # type: ignore[no-untyped-def]
    parts = []
    for i, day in enumerate(days):
        if i % every == 0 or i == len(days) - 1:
            parts.append(f'<text x="{x_of(i):.1f}" y="{HEIGHT - 12}" text-anchor="middle" class="axis">'
                         f'{day.day.month}-{day.day.day:02d}</text>')
    return parts


def daily_bars(days: Sequence[DayFigures], *, title: str = DAILY_BARS_TITLE, narrow: bool = False) -> Markup:
    """Bars of tickets received per day, with how many of them are resolved drawn inside."""
    if not days:
        return Markup("")
    width = NARROW_WIDTH if narrow else WIDTH
    top = _nice_max(max(d.received for d in days))
    plot_w, plot_h = width - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(days)
    bar = max(2.0, slot * 0.7)

    def x_of(i: int) -> float:
        return LEFT + slot * i + slot / 2

    def y_of(v: float) -> float:
        return TOP + plot_h - plot_h * v / top

    parts = _svg_open(width, title, narrow)
    for k in range(5):
        value = top * k / 4
        y = y_of(value)
        parts.append(f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 5:.1f}" text-anchor="end" class="axis">{value:g}</text>')
    for i, d in enumerate(days):
        x = x_of(i) - bar / 2
        parts.append(f'<rect x="{x:.1f}" y="{y_of(d.received):.1f}" width="{bar:.1f}" '
                     f'height="{TOP + plot_h - y_of(d.received):.1f}" class="bar-received">'
                     f"<title>{DAILY_BAR_HOVER.format(day=d.day.isoformat(), received=d.received, resolved=d.resolved)}"
                     "</title></rect>")
        if d.resolved:
            parts.append(f'<rect x="{x + bar * 0.15:.1f}" y="{y_of(d.resolved):.1f}" width="{bar * 0.7:.1f}" '
                         f'height="{TOP + plot_h - y_of(d.resolved):.1f}" class="bar-resolved"/>')
    parts += _x_labels(days, x_of, _label_every(len(days), narrow))
    parts.append("</svg>")
    return Markup("".join(parts))


def rate_line(days: Sequence[DayFigures], *, title: str = RATE_LINE_TITLE, narrow: bool = False) -> Markup:
    """The resolution rate of each day's tickets, 0..100%; days without tickets leave a gap."""
    if not days:
        return Markup("")
    width = NARROW_WIDTH if narrow else WIDTH
    plot_w, plot_h = width - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(days)

    def x_of(i: int) -> float:
        return LEFT + slot * i + slot / 2

    def y_of(rate: float) -> float:
        return TOP + plot_h - plot_h * rate

    parts = _svg_open(width, title, narrow)
    for k in range(5):
        y = y_of(k / 4)
        parts.append(f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">{k * 25}%</text>')
    segment: list[str] = []
    segments = []
    for i, d in enumerate(days):
        rate = d.resolution_rate
        if rate is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{x_of(i):.1f},{y_of(rate):.1f}")
        parts.append(f'<circle cx="{x_of(i):.1f}" cy="{y_of(rate):.1f}" r="3.5" class="dot">'
                     f"<title>{RATE_DOT_HOVER.format(day=d.day.isoformat(), rate=percent(rate))}</title></circle>")
    if segment:
        segments.append(segment)
    for points in segments:
        parts.append(f'<polyline points="{" ".join(points)}" class="line"/>')
    parts += _x_labels(days, x_of, _label_every(len(days), narrow))
    parts.append("</svg>")
    return Markup("".join(parts))


def hbars(rows: Sequence[tuple[str, int]], *, title: str) -> Markup:
    """Horizontal bars (a category or channel per row) for the supervisor's dashboard."""
    if not rows:
        return Markup("")
    top = max(1, max(n for _, n in rows))
    row_h, label_w, width = 26, 150, WIDTH
    height = row_h * len(rows) + 8
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>"]
    for i, (name, n) in enumerate(rows):
        y = 4 + i * row_h
        w = (width - label_w - 60) * n / top
        parts.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" class="axis">{escape(name[:12])}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row_h - 8}" class="bar-received"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 17}" class="axis">{n}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
