"""The incident taxonomy loaded from ``data/taxonomy.toml``: categories, their severities and SLAs.

A category's ``sla`` is complete — every level present — because the loader fills levels the file does not
override from the policy's ``default_sla``. ``alert_categories`` maps each camera :class:`AlertType` to the
category its alarms open.

Usage::

    from schemas.taxonomy import taxonomy
    tax = taxonomy()
    tax.categories["neighbour"].sla[Level.GRID]   # timedelta(hours=4)
    tax.for_alert(AlertType.FIRE_SMOKE).code      # "fire"
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas._datafile import DATA_DIR, LevelDurations, raise_data_error, read_toml, split_loc
from schemas.enums import AlertType, Level
from schemas.errors import DataFileError
from schemas.policy import Policy, policy

TAXONOMY_FILE = DATA_DIR / "taxonomy.toml"

CategoryCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,47}$")]
Severity = Annotated[int, Field(ge=1, le=5)]
_CONFIG = ConfigDict(frozen=True, extra="forbid", strict=True)


class Category(BaseModel):
    """One incident category; ``sla`` holds a deadline for every level."""

    model_config = _CONFIG

    code: CategoryCode
    name_zh: Annotated[str, Field(min_length=1, max_length=32)]
    name_en: Annotated[str, Field(min_length=1, max_length=64)]
    group: CategoryCode
    base_severity: Severity
    sla: dict[Level, timedelta]


class Taxonomy(BaseModel):
    """All categories by code, the group names, and the camera alarm → category map."""

    model_config = _CONFIG

    version: str
    groups: dict[str, str]
    categories: dict[str, Category]
    alert_categories: dict[AlertType, str]
    # Pairs of categories of different groups that may describe one situation (report + alarm).
    correlated: frozenset[frozenset[str]] = frozenset()

    def category(self, code: str) -> Category:
        """The category with this code; raises KeyError if there is none."""
        return self.categories[code]

    def for_alert(self, alert_type: AlertType) -> Category:
        """The category a camera alarm of this type opens."""
        return self.categories[self.alert_categories[alert_type]]


class _CategoryEntry(BaseModel):
    model_config = _CONFIG
    code: CategoryCode
    name_zh: Annotated[str, Field(min_length=1, max_length=32)]
    name_en: Annotated[str, Field(min_length=1, max_length=64)]
    group: CategoryCode
    base_severity: Severity
    sla: LevelDurations = Field(default_factory=dict)


class _TaxonomyFile(BaseModel):
    model_config = _CONFIG
    version: Annotated[str, Field(min_length=1, max_length=32)]
    groups: dict[CategoryCode, Annotated[str, Field(min_length=1)]]
    categories: Annotated[list[_CategoryEntry], Field(min_length=1)]
    # Keys stay plain strings here so an unknown alarm type is reported by name, not as an enum error.
    alert_categories: dict[str, str]
    correlated: list[Annotated[list[CategoryCode], Field(min_length=2, max_length=2)]] = Field(
        default_factory=list
    )


def load_taxonomy(path: Path | None = None, policy_: Policy | None = None) -> Taxonomy:
    """Load and check a taxonomy file (the bundled one by default), filling SLA gaps from the policy."""
    path = path or TAXONOMY_FILE
    defaults = (policy_ or policy()).default_sla
    raw = read_toml(path)
    try:
        doc = _TaxonomyFile.model_validate(raw)
    except ValidationError as exc:
        entries = raw.get("categories") if isinstance(raw, dict) else None

        def name_of(i: int) -> str:
            item = entries[i] if isinstance(entries, list) and i < len(entries) else None
            return (
                f" ({item['code']})" if isinstance(item, dict) and isinstance(item.get("code"), str) else ""
            )

        def describe(loc: Sequence[int | str]) -> tuple[str, str]:
            return split_loc(loc, "categories", name_of)

        raise_data_error(path, exc, describe)

    categories: dict[str, Category] = {}
    for i, entry in enumerate(doc.categories):
        where = f"categories[{i}] ({entry.code})"
        if entry.code in categories:
            raise DataFileError(path, where, "code", f"duplicate category code {entry.code!r}")
        if entry.group not in doc.groups:
            raise DataFileError(path, where, "group", f"unknown group {entry.group!r}; add it to [groups]")
        categories[entry.code] = Category(
            code=entry.code,
            name_zh=entry.name_zh,
            name_en=entry.name_en,
            group=entry.group,
            base_severity=entry.base_severity,
            sla={level: entry.sla.get(level, defaults[level]) for level in Level},
        )

    alert_categories: dict[AlertType, str] = {}
    known_alerts = {a.value: a for a in AlertType}
    for key, code in doc.alert_categories.items():
        if key not in known_alerts:
            raise DataFileError(
                path, "alert_categories", key, f"unknown alert type; use {sorted(known_alerts)}"
            )
        if code not in categories:
            raise DataFileError(path, "alert_categories", key, f"unknown category {code!r}")
        alert_categories[known_alerts[key]] = code
    missing = sorted(a.value for a in AlertType if a not in alert_categories)
    if missing:
        raise DataFileError(path, "alert_categories", missing[0], "every alert type needs a category")

    for i, pair in enumerate(doc.correlated):
        unknown = [code for code in pair if code not in categories]
        if unknown:
            raise DataFileError(path, f"correlated[{i}]", unknown[0], "unknown category")
    return Taxonomy(
        version=doc.version,
        groups=dict(doc.groups),
        categories=categories,
        alert_categories=alert_categories,
        correlated=frozenset(frozenset(pair) for pair in doc.correlated),
    )


@functools.cache
def taxonomy() -> Taxonomy:
    """The bundled taxonomy, loaded and checked once per process."""
    return load_taxonomy()
