"""Where an incident goes and by when: level by severity, handling unit, SLA deadlines, correlation pairs.

Shared by `streams.core.classify` (initial level) and `streams.core.escalation` (every later move), so the
mapping from severity to level and the SLA arithmetic exist once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from schemas.enums import Level
from schemas.geography import CITY_CODE, Geography
from schemas.policy import Policy
from schemas.taxonomy import Taxonomy

__all__ = [
    "CORRELATED_CATEGORIES",
    "compatible",
    "deadline",
    "handling_unit",
    "level_for_severity",
    "sla",
]

# Initial routing (DESIGN.md §4): severity n is handled at level n — 1 grid … 5 city.
_LEVEL_BY_SEVERITY: Final = {
    1: Level.GRID,
    2: Level.VILLAGE,
    3: Level.TOWNSHIP,
    4: Level.COUNTY,
    5: Level.CITY,
}

# Categories of different taxonomy groups that still describe one situation when a camera alarm and a grid
# report meet in one grid within the report/alarm window: a crowd at the township gate is usually the wage
# dispute or collective petition the grid member reports. Within one group everything is compatible.
CORRELATED_CATEGORIES: Final[frozenset[frozenset[str]]] = frozenset(
    {
        frozenset({"crowd_gathering", "collective_petition"}),
        frozenset({"crowd_gathering", "labour"}),
        frozenset({"crowd_gathering", "land_contract"}),
        frozenset({"fight", "neighbour"}),
        frozenset({"fight", "marriage_family"}),
        frozenset({"traffic_accident", "traffic_accident_dispute"}),
        frozenset({"road_obstruction", "road_damage"}),
        frozenset({"water_level", "irrigation_water"}),
    }
)


def level_for_severity(severity: int) -> Level:
    """The level a matter of this severity is first handled at."""
    return _LEVEL_BY_SEVERITY[severity]


def handling_unit(geo: Geography, grid_code: str, level: Level) -> str:
    """The unit responsible at ``level``: the grid's ancestor there (the city code at city level)."""
    return CITY_CODE if level == Level.CITY else geo.ancestor(grid_code, level)


def sla(taxonomy: Taxonomy, category: str, level: Level) -> timedelta:
    """How long a unit at ``level`` has to resolve a ``category`` matter (the taxonomy fills defaults)."""
    return taxonomy.categories[category].sla[level]


def deadline(
    taxonomy: Taxonomy,
    policy: Policy,
    *,
    category: str,
    severity: int,
    level: Level,
    start: datetime,
    acknowledged: bool,
) -> datetime:
    """The due time of a clock started at ``start``.

    A severity-5 matter must first be acknowledged within ``policy.severity5_ack``; once a unit has
    accepted it, the ordinary SLA of its level runs from the same start.
    """
    if severity >= 5 and not acknowledged:
        return start + policy.severity5_ack
    return start + sla(taxonomy, category, level)


def compatible(taxonomy: Taxonomy, report_category: str, alarm_category: str) -> bool:
    """Whether a grid report and a camera alarm may describe the same situation."""
    if report_category == alarm_category:
        return True
    if frozenset({report_category, alarm_category}) in CORRELATED_CATEGORIES:
        return True
    cats = taxonomy.categories
    left, right = cats.get(report_category), cats.get(alarm_category)
    return left is not None and right is not None and left.group == right.group
