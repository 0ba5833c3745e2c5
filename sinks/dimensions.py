"""The dimension tables: names for the codes the facts carry (migrations 0006_names and 0007_dictionary).

``units`` holds every unit of the geography, all five levels, with its Chinese name and its name in pinyin;
``categories`` the taxonomy's categories with Chinese and English names; ``rules`` what every rule id means
and ``policy_parameters`` the policy's settings, both keyed by policy version. :func:`load_dimensions` fills
each table from the project's data files (``schemas/data``) when it holds nothing yet (for ``rules`` and
``policy_parameters``: nothing of this policy version), and ``gridflow init`` calls it after the migrations,
so running ``init`` again changes nothing.
"""

from __future__ import annotations

import json
from typing import Any, Final

from schemas._datafile import DATA_DIR
from schemas.enums import Level
from schemas.geography import geography
from schemas.taxonomy import taxonomy
from schemas.unit_names import pinyin_names
from sinks.writer import Writer

# Names for codes, no personal data: every role may read them, county users included.
TABLES: Final = ("units", "categories", "rules", "policy_parameters")

CATALOGUE = (
    DATA_DIR / "rule_catalogue.json"
)  # written by gridflow.rule_catalogue (the sink may not import the core)


def _count(writer: Writer, table: str, where: str = "1") -> int:
    return int(str(writer.query(f"SELECT count() FROM {writer.database}.{table} WHERE {where}").scalar()))


def load_dimensions(writer: Writer) -> dict[str, int]:
    """Fill the dimension tables where empty; returns the rows inserted per table."""
    inserted = {"units": 0, "categories": 0, "rules": 0, "policy_parameters": 0}
    if _count(writer, "units") == 0:
        geo = geography()
        pinyin = pinyin_names()
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
                "name_pinyin": [pinyin[u.code] for u in units],
                "parent": [u.parent or "" for u in units],
                "county": [above(u.code, Level.COUNTY, u.level) for u in units],
                "township": [above(u.code, Level.TOWNSHIP, u.level) for u in units],
                "simulated": [int(u.simulated) for u in units],
                "lon": [u.centroid.lon for u in units],
                "lat": [u.centroid.lat for u in units],
            },
        )
    if _count(writer, "categories") == 0:
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
    catalogue: dict[str, Any] = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    version = str(catalogue["policy_version"])
    this_version = "policy_version = '" + version.replace("\\", "\\\\").replace("'", "\\'") + "'"
    for table, key, columns in (
        ("rules", "rules", ("rule_id", "family", "levels", "meaning")),
        ("policy_parameters", "parameters", ("parameter", "value", "seconds", "meaning")),
    ):
        if _count(writer, table, this_version) == 0:
            rows = catalogue[key]
            block = {column: [row[column] for row in rows] for column in columns}
            inserted[table] = writer.insert_block(table, {"policy_version": [version] * len(rows), **block})
    return inserted
