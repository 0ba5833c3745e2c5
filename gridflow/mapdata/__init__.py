"""Map data of Bayannur: county boundaries (real) and township cells (drawn), ready for SVG.

``shapes()`` gives every unit's outline; ``Projection`` turns outlines into SVG path strings, so a page or
a report can colour the counties by any figure::

    from gridflow.mapdata import Projection, counties
    proj = Projection(width=600, height=400)
    paths = {code: proj.path(shape) for code, shape in counties().items()}

Where the outlines come from is in ``SOURCE`` (and ``bayannur.geojson`` says it too); the file is rebuilt
by ``scripts/build_mapdata.py``.
"""

from gridflow.mapdata.shapes import SOURCE, Projection, Shape, counties, geojson, shapes, townships

__all__ = ["SOURCE", "Projection", "Shape", "counties", "geojson", "shapes", "townships"]
