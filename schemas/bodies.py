"""多元化解: the directory of handling bodies (``data/bodies.toml``) and who leads a matter (policy rules).

`Directory` holds every body of every unit of the geography, generated from the kinds in the data file:
code ``"<unit>:<kind>"``, Chinese name, role (mediation, litigation, …) and whether it is simulated.
`HandlingTable` resolves the policy's ``handling_rules`` (first match wins) for every (category, level) once,
so the decision core names the lead body and co-handlers of an incident with a dict lookup and two string
joins, and the simulator draws dispositions from the same bodies.

Usage::

    from schemas.bodies import bodies, handling_table
    table = handling_table(policy(), taxonomy())
    table.bodies("150802001001001", "neighbour", Level.GRID)
    # ("150802001001:mediation_committee", (), "H-DSP-001")
    bodies().get("150802:court").name                           # "临河区人民法院"
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas._datafile import DATA_DIR, raise_data_error, read_toml, split_loc
from schemas.enums import Level
from schemas.errors import DataFileError
from schemas.geography import CITY_CODE, Geography, geography
from schemas.policy import HandlingRule, Policy
from schemas.taxonomy import Taxonomy

__all__ = [
    "BODIES_FILE",
    "Body",
    "Directory",
    "HandlingTable",
    "MediationOdds",
    "Role",
    "bodies",
    "body_unit",
    "handling_table",
    "load_bodies",
]

BODIES_FILE: Final = DATA_DIR / "bodies.toml"
Role = Literal["mediation", "litigation", "arbitration", "administrative", "police", "coordination"]
_CONFIG = ConfigDict(frozen=True, extra="forbid", strict=True)
_LEVELS: Final = {level.name.lower(): level for level in Level}


class _Kind(BaseModel):
    model_config = _CONFIG
    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")]
    levels: list[str]
    role: Role
    names: dict[str, Annotated[str, Field(min_length=1, max_length=64)]]
    disputes: list[str] = Field(default_factory=list)
    simulated: bool = True


class MediationOdds(BaseModel):
    """How mediation of one dispute type goes in the simulator (assumptions, not statistics)."""

    model_config = _CONFIG
    success: Annotated[float, Field(ge=0.0, le=1.0)]
    median_hours: Annotated[float, Field(gt=0)]
    court_median_days: Annotated[float, Field(gt=0)]


class _BodiesFile(BaseModel):
    model_config = _CONFIG
    version: Annotated[str, Field(min_length=1, max_length=32)]
    kinds: Annotated[list[_Kind], Field(min_length=1)]
    real_names: dict[str, str] = Field(default_factory=dict)
    mediation: dict[str, MediationOdds] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Body:
    """One handling body of one unit."""

    code: str  # "<unit code>:<kind>"
    kind: str
    unit: str
    level: Level
    name: str
    role: Role
    simulated: bool
    disputes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Directory:
    """Every body by code, the kinds by level, and the simulated mediation odds per dispute type."""

    version: str
    by_code: dict[str, Body]
    kinds: dict[Level, tuple[str, ...]]
    roles: dict[str, Role]
    mediation: dict[str, MediationOdds]

    def get(self, code: str) -> Body | None:
        return self.by_code.get(code)

    def __len__(self) -> int:
        return len(self.by_code)

    def of_unit(self, unit: str) -> tuple[Body, ...]:
        return tuple(b for b in self.by_code.values() if b.unit == unit)


def body_unit(geo: Geography, grid_code: str, level: Level) -> str:
    """The unit whose bodies handle a matter of ``grid_code`` at ``level`` (a grid uses its village's)."""
    if level == Level.CITY:
        return CITY_CODE
    return geo.ancestor(grid_code, Level.VILLAGE if level == Level.GRID else level)


def load_bodies(path: Path | None = None, geo: Geography | None = None) -> Directory:
    """Load and check a bodies file (the bundled one by default) and expand it over the geography."""
    path = path or BODIES_FILE
    geo = geo or geography()
    raw = read_toml(path)
    try:
        doc = _BodiesFile.model_validate(raw)
    except ValidationError as exc:
        raise_data_error(path, exc, lambda loc: split_loc(loc, "kinds", lambda i: ""))
    kinds: dict[Level, list[str]] = {level: [] for level in Level}
    roles: dict[str, Role] = {}
    by_code: dict[str, Body] = {}
    for i, kind in enumerate(doc.kinds):
        where = f"kinds[{i}] ({kind.code})"
        if kind.code in roles:
            raise DataFileError(path, where, "code", f"duplicate kind {kind.code!r}")
        roles[kind.code] = kind.role
        for name in kind.levels:
            level = _LEVELS.get(name)
            if level is None or level == Level.GRID:
                raise DataFileError(path, where, "levels", f"{name!r}: use village, township, county or city")
            if name not in kind.names:
                raise DataFileError(path, where, "names", f"no name template for level {name!r}")
            kinds[level].append(kind.code)
            for unit in geo.at_level(level):
                code = f"{unit.code}:{kind.code}"
                real = doc.real_names.get(code)
                by_code[code] = Body(
                    code=code,
                    kind=kind.code,
                    unit=unit.code,
                    level=level,
                    name=real or kind.names[name].replace("{unit}", unit.name),
                    role=kind.role,
                    simulated=real is None and (kind.simulated or unit.simulated),
                    disputes=tuple(kind.disputes),
                )
    for code in doc.real_names:
        if code not in by_code:
            raise DataFileError(path, "real_names", code, "no such body")
    return Directory(
        version=doc.version,
        by_code=by_code,
        kinds={level: tuple(codes) for level, codes in kinds.items()},
        roles=roles,
        mediation=dict(doc.mediation),
    )


@functools.cache
def bodies() -> Directory:
    """The bundled directory over the bundled geography, loaded once per process."""
    return load_bodies()


@dataclass(frozen=True)
class HandlingTable:
    """The policy's handling rules resolved for every (category, level): (rule id, lead kind, co kinds)."""

    rows: dict[tuple[str, Level], tuple[str, str, tuple[str, ...]]]
    geo: Geography

    def bodies(self, grid_code: str, category: str, level: Level) -> tuple[str, tuple[str, ...], str]:
        """(lead body, co-handlers, rule id) for a matter of ``category`` in ``grid_code`` at ``level``."""
        rule_id, lead, co = self.rows[(category, level)]
        unit = body_unit(self.geo, grid_code, level)
        return f"{unit}:{lead}", tuple(f"{unit}:{kind}" for kind in co), rule_id


def _matches(rule: HandlingRule, category: str, group: str, level: Level) -> bool:
    if level not in rule.levels:
        return False
    if rule.categories or rule.groups:
        return category in rule.categories or group in rule.groups
    return True


def resolve(
    policy: Policy, taxonomy: Taxonomy, directory: Directory
) -> dict[tuple[str, Level], tuple[str, str, tuple[str, ...]]]:
    """Every (category, level) → its first matching rule; raises ValueError naming a gap or a bad kind."""
    rows: dict[tuple[str, Level], tuple[str, str, tuple[str, ...]]] = {}
    for category in taxonomy.categories.values():
        for level in Level:
            rule = next(
                (r for r in policy.handling_rules if _matches(r, category.code, category.group, level)), None
            )
            if rule is None:
                raise ValueError(f"no handling rule for {category.code} at {level.name.lower()}")
            available = directory.kinds[Level.VILLAGE if level == Level.GRID else level]
            for kind in (rule.lead, *rule.co):
                if kind not in available:
                    raise ValueError(f"rule {rule.id}: no {kind!r} body at {level.name.lower()} level")
            rows[(category.code, level)] = (rule.id, rule.lead, tuple(rule.co))
    return rows


def handling_table(policy: Policy, taxonomy: Taxonomy, directory: Directory | None = None) -> HandlingTable:
    """The handling table of a policy over a taxonomy (build once per engine: it checks every rule)."""
    return HandlingTable(resolve(policy, taxonomy, directory or bodies()), geography())
