"""The dimension tables: names for the codes the facts carry (migration 0006_names).

``units`` holds every unit of the geography, all five levels, with its Chinese name; ``categories`` the
taxonomy's categories with Chinese and English names. :func:`load_dimensions` fills each table once, from
the project's data files, when it is empty (``gridflow init`` calls it after the migrations), so running
``init`` again changes nothing.
"""

from __future__ import annotations

from schemas.enums import Level
from schemas.geography import geography
from schemas.taxonomy import taxonomy
from sinks.writer import Writer


def _empty(writer: Writer, table: str) -> bool:
    return int(str(writer.query(f"SELECT count() FROM {writer.database}.{table}").scalar())) == 0


def load_dimensions(writer: Writer) -> dict[str, int]:
    """Fill ``units`` and ``categories`` when empty; returns the rows inserted per table."""
    inserted = {"units": 0, "categories": 0}
    if _empty(writer, "units"):
        geo = geography()
        units = [unit for level in Level for unit in geo.at_level(level)]

        def above(code: str, level: Level, own: Level) -> str:
            return geo.ancestor(code, level) if own <= level else ""

        inserted["units"] = writer.insert_block(
            "units",
            {
                "code": [u.code for u in units],
                "level": [int(u.level) for u in units],
                "kind": [u.kind for u in units],
                "name": [u.name for u in units],
                "parent": [u.parent or "" for u in units],
                "county": [above(u.code, Level.COUNTY, u.level) for u in units],
                "township": [above(u.code, Level.TOWNSHIP, u.level) for u in units],
                "simulated": [int(u.simulated) for u in units],
                "lon": [u.centroid.lon for u in units],
                "lat": [u.centroid.lat for u in units],
            },
        )
    if _empty(writer, "categories"):
        cats = list(taxonomy().categories.values())
        inserted["categories"] = writer.insert_block(
            "categories",
            {
                "code": [c.code for c in cats],
                "name_zh": [c.name_zh for c in cats],
                "name_en": [c.name_en for c in cats],
                "category_group": [c.group for c in cats],
                "base_severity": [c.base_severity for c in cats],
            },
        )
    return inserted
