"""Where an incident goes and by when: level by severity, handling unit, SLA deadlines, correlation pairs.

Used by `streams.core.escalation` for every move. The severity → level table is the policy's
(``Policy.severity_levels``), the correlated category pairs the taxonomy's (``Taxonomy.correlated``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from schemas.enums import Level
from schemas.geography import CITY_CODE, Geography
from schemas.policy import Policy
from schemas.taxonomy import Taxonomy

__all__ = [
    "compatible",
    "compatible_pairs",
    "deadline",
    "handling_unit",
    "level_for_severity",
    "lowest_common_level",
    "sla",
]


def level_for_severity(policy: Policy, severity: int) -> Level:
    """The level a matter of this severity is first handled at (the policy's severity → level table)."""
    return policy.routing(severity).level


def handling_unit(geo: Geography, grid_code: str, level: Level) -> str:
    """The unit responsible at ``level``: the grid's ancestor there (the city code at city level)."""
    return CITY_CODE if level == Level.CITY else geo.ancestor(grid_code, level)


def lowest_common_level(geo: Geography, grid_codes: Iterable[str]) -> Level:
    """The level of the lowest unit holding every one of these grids (their lowest common ancestor)."""
    codes = set(grid_codes)
    for level in (Level.GRID, Level.VILLAGE, Level.TOWNSHIP, Level.COUNTY):
        if len({geo.ancestor(code, level) for code in codes}) <= 1:
            return level
    return Level.CITY


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


def compatible_pairs(taxonomy: Taxonomy) -> frozenset[tuple[str, str]]:
    """Every (report category, alarm category) pair `compatible` accepts, besides a category with itself.

    The rules ask this for every alarm in a merge window; a set lookup answers it without building a
    frozenset per question.
    """
    pairs = {(a, b) for pair in taxonomy.correlated for a in pair for b in pair}
    cats = taxonomy.categories
    pairs |= {(a, b) for a in cats for b in cats if cats[a].group == cats[b].group}
    return frozenset(pairs)


def compatible(taxonomy: Taxonomy, report_category: str, alarm_category: str) -> bool:
    """Whether a grid report and a camera alarm may describe the same situation."""
    if report_category == alarm_category:
        return True
    if frozenset({report_category, alarm_category}) in taxonomy.correlated:
        return True
    cats = taxonomy.categories
    left, right = cats.get(report_category), cats.get(alarm_category)
    return left is not None and right is not None and left.group == right.group
