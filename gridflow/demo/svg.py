"""Bar charts as inline SVG strings, built in Python so the HTML report needs no JavaScript and no network.

Four shapes cover the report: :func:`bar_chart` (horizontal bars, one per label), :func:`column_chart`
(vertical bars, e.g. per hour), :func:`grouped_bar_chart` (several series per label, e.g. the funnel) and
:func:`stacked_bar_chart` (one bar per label cut into its series, e.g. a distribution per level). Every bar
is a ``<rect class="bar">`` whose length is proportional to its value over the chart's maximum, so tests
(and the screenshot test) can find and measure them. Text is escaped; labels may be Chinese. Legends wrap
to the chart's width, measured as the labels are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from rich.cells import cell_len

PALETTE = ("#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#d53f8c", "#319795", "#b7791f")
# Ordered buckets (fast → slow, young → old): green through yellow to red.
RAMP = ("#9ae6b4", "#68d391", "#38a169", "#f6e05e", "#f6ad55", "#e53e3e", "#9b2c2c")
FONT = "font-family='Noto Sans CJK SC, WenQuanYi Zen Hei, sans-serif'"


@dataclass(frozen=True, slots=True)
class Series:
    """One named series of a grouped chart: a value per label, drawn in one colour."""

    name: str
    values: Sequence[float]
    color: str


def _number(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.1f}%"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _scale(values: Sequence[float], maximum: float | None) -> float:
    # A chart of zeros still draws (empty bars) rather than dividing by zero.
    top = maximum if maximum is not None else max(values, default=0.0)
    return top if top > 0 else 1.0


def text_width(text: str, font_size: float) -> float:
    """An upper estimate of ``text``'s rendered width: a CJK character is one em (two terminal cells), a
    Latin one at most 0.6 em; so a label column sized by it never clips its longest label."""
    return cell_len(text) * 0.6 * font_size


def _label_column(labels: Sequence[str], at_least: int, font_size: float) -> int:
    return max(at_least, math.ceil(max((text_width(t, font_size) for t in labels), default=0.0)) + 12)


def frame(width: int, height: int, title: str, body: list[str]) -> str:
    """An SVG of ``width`` x ``height`` on a white ground with ``title`` on top and ``body`` below it."""
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-label='{escape(title, quote=True)}'>"
        f"<title>{escape(title)}</title>"
        f"<rect x='0' y='0' width='{width}' height='{height}' fill='#ffffff'/>"
        f"<text x='8' y='20' {FONT} font-size='15' font-weight='bold' fill='#1a202c'>{escape(title)}</text>"
        + "".join(body)
        + "</svg>"
    )


NONE_TEXT = "none in this period"
_NONE = f"<text class='none' x='8' y='{{y}}' {FONT} font-size='12' fill='#4a5568'>{NONE_TEXT}</text>"


def bar_chart(
    title: str,
    items: Sequence[tuple[str, float]],
    *,
    percent: bool = False,
    maximum: float | None = None,
    color: str = PALETTE[0],
    width: int = 560,
    label_width: int = 150,
) -> str:
    """Horizontal bars, one per ``(label, value)``; ``percent`` shows values in [0, 1] as percentages."""
    row, top = 26, 34
    if not items:  # say so, rather than leave a reader wondering whether the chart failed to draw
        return frame(width, top + row + 8, title, [_NONE.format(y=top + 15)])
    label_width = _label_column([label for label, _ in items], label_width, 12)
    plot = max(40, width - label_width - 70)
    top_value = _scale([v for _, v in items], maximum)
    body: list[str] = []
    for i, (label, value) in enumerate(items):
        y = top + i * row
        length = max(0.0, value) / top_value * plot
        body.append(
            f"<text x='{label_width - 6}' y='{y + 15}' text-anchor='end' {FONT} font-size='12' "
            f"fill='#2d3748'>{escape(label)}</text>"
            f"<rect class='bar' x='{label_width}' y='{y + 3}' width='{length:.1f}' height='{row - 8}' "
            f"fill='{color}'/>"
            f"<text x='{label_width + length + 4:.1f}' y='{y + 15}' {FONT} font-size='11' "
            f"fill='#4a5568'>{_number(value, percent)}</text>"
        )
    return frame(width, top + len(items) * row + 8, title, body)


def column_chart(
    title: str,
    items: Sequence[tuple[str, float]],
    *,
    color: str = PALETTE[0],
    width: int = 1100,
    height: int = 260,
) -> str:
    """Vertical bars, one per ``(label, value)``, labels under the axis (e.g. the 24 hours of a day)."""
    top, bottom, left = 34, 40, 50
    plot_h = height - top - bottom
    slot = (width - left - 10) / max(1, len(items))
    top_value = _scale([v for _, v in items], None)
    body = [
        f"<line x1='{left}' y1='{top + plot_h}' x2='{width - 10}' y2='{top + plot_h}' stroke='#a0aec0'/>",
        f"<text x='{left - 6}' y='{top + 10}' text-anchor='end' {FONT} font-size='11' fill='#4a5568'>"
        f"{_number(top_value, False)}</text>",
    ]
    for i, (label, value) in enumerate(items):
        h = max(0.0, value) / top_value * plot_h
        x = left + i * slot
        body.append(
            f"<rect class='bar' x='{x + slot * 0.12:.1f}' y='{top + plot_h - h:.1f}' "
            f"width='{slot * 0.76:.1f}' height='{h:.1f}' fill='{color}'><title>{escape(label)}: "
            f"{_number(value, False)}</title></rect>"
            f"<text x='{x + slot / 2:.1f}' y='{top + plot_h + 16}' text-anchor='middle' {FONT} "
            f"font-size='11' fill='#2d3748'>{escape(label)}</text>"
        )
    return frame(width, height, title, body)


def grouped_bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    width: int = 560,
    label_width: int = 150,
) -> str:
    """Horizontal bars grouped per label, one bar per series, with a legend (e.g. the escalation funnel)."""
    bar, gap = 14, 10
    group = bar * len(series) + gap
    label_width = _label_column(labels, label_width, 12)
    plot = max(40, width - label_width - 70)
    top_value = _scale([v for s in series for v in s.values], None)
    body, legend_h = _legend([(s.name, s.color) for s in series], width)
    top = 34 + legend_h
    for i, label in enumerate(labels):
        y = top + i * group
        body.append(
            f"<text x='{label_width - 6}' y='{y + group / 2:.1f}' text-anchor='end' {FONT} font-size='12' "
            f"fill='#2d3748'>{escape(label)}</text>"
        )
        for j, s in enumerate(series):
            value = s.values[i] if i < len(s.values) else 0.0
            length = max(0.0, value) / top_value * plot
            by = y + j * bar
            body.append(
                f"<rect class='bar' x='{label_width}' y='{by}' width='{length:.1f}' height='{bar - 2}' "
                f"fill='{s.color}'/>"
                f"<text x='{label_width + length + 4:.1f}' y='{by + bar - 3}' {FONT} font-size='10' "
                f"fill='#4a5568'>{_number(value, False)}</text>"
            )
    return frame(width, top + len(labels) * group + 8, title, body)


def _legend(items: Sequence[tuple[str, str]], width: int, y: int = 30) -> tuple[list[str], int]:
    """Swatch-and-name legend items, wrapped to ``width``; returns the SVG parts and the height used."""
    parts: list[str] = []
    x, line = 8.0, 0
    for name, color in items:
        size = 16 + text_width(name, 12) + 14
        if x > 8 and x + size > width - 8:
            x, line = 8.0, line + 1
        top = y + line * 18
        parts.append(
            f"<rect x='{x:.0f}' y='{top}' width='12' height='12' fill='{color}'/>"
            f"<text x='{x + 16:.0f}' y='{top + 10}' {FONT} font-size='12' "
            f"fill='#2d3748'>{escape(name)}</text>"
        )
        x += size
    return parts, (line + 1) * 18 + 4


def _ink(color: str) -> str:
    """Dark or white text, whichever reads on ``color``."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return "#1a202c" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "#ffffff"


def stacked_bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    shares: bool = False,
    width: int = 620,
    label_width: int = 120,
) -> str:
    """One horizontal bar per label, cut into one segment per series, with the total after it.

    ``shares``: every bar is as long as the plot and its segments are shares of the label's total (a
    distribution); else bars are scaled to the largest total (counts). A segment wide enough says its
    share or count; every segment's tooltip does.
    """
    row = 24
    label_width = _label_column(labels, label_width, 12)
    plot = max(40, width - label_width - 70)
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top_value = _scale(totals, None)
    body, legend_h = _legend([(s.name, s.color) for s in series], width)
    top = 34 + legend_h
    for i, label in enumerate(labels):
        y = top + i * row
        total = totals[i]
        length = plot if shares and total > 0 else total / top_value * plot
        body.append(
            f"<text x='{label_width - 6}' y='{y + 15}' text-anchor='end' {FONT} font-size='12' "
            f"fill='#2d3748'>{escape(label)}</text>"
        )
        x = float(label_width)
        for s in series:
            value = s.values[i]
            if value <= 0 or total <= 0:
                continue
            w = value / total * length
            text = f"{value / total * 100:.0f}%" if shares else _number(value, False)
            body.append(
                f"<rect class='bar' x='{x:.1f}' y='{y + 3}' width='{w:.1f}' height='{row - 6}' "
                f"fill='{s.color}'><title>{escape(label)}, {escape(s.name)}: {_number(value, False)} "
                f"({value / total * 100:.1f}%)</title></rect>"
            )
            if w >= text_width(text, 10) + 4:
                body.append(
                    f"<text x='{x + w / 2:.1f}' y='{y + 16}' text-anchor='middle' {FONT} font-size='10' "
                    f"fill='{_ink(s.color)}'>{text}</text>"
                )
            x += w
        after = f"n = {_number(total, False)}" if shares else _number(total, False)
        body.append(
            f"<text x='{label_width + length + 4:.1f}' y='{y + 16}' {FONT} font-size='11' "
            f"fill='#4a5568'>{after}</text>"
        )
    return frame(width, top + len(labels) * row + 8, title, body)
