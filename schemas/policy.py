"""The escalation policy (docs/policy.md) loaded from ``data/policy.toml`` into a frozen model.

Thresholds and windows are data so that a what-if run can swap the policy file without touching code.
Durations are written as tables of units in TOML (``{ minutes = 10 }``) and become ``timedelta`` here.

Usage::

    from schemas.policy import policy
    policy().camera_merge_window        # timedelta(minutes=10)
    policy().default_sla[Level.GRID]    # timedelta(hours=4)
    policy_at(Path("my-policy.toml"))   # another policy file, checked the same way (None: the bundled one)
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from schemas._datafile import DATA_DIR, Duration, LevelDurations, raise_data_error, read_toml, split_loc
from schemas.enums import Level

POLICY_FILE = DATA_DIR / "policy.toml"

Ratio = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=1)]
_STRICT = ConfigDict(frozen=True, extra="forbid", strict=True)


class SeverityLevel(BaseModel):
    """One row of the severity → level table: where a matter of ``severity`` is first handled."""

    model_config = _STRICT

    severity: Annotated[int, Field(ge=1, le=5)]
    level: Level
    rule_id: Annotated[str, Field(pattern=r"^[A-Z]+(-[A-Z0-9]+)+$", max_length=32)]
    notify: tuple[Level, ...] = ()

    @field_validator("level", mode="before")
    @classmethod
    def _level_name(cls, value: object) -> object:
        return _level(value)

    @field_validator("notify", mode="before")
    @classmethod
    def _notify_names(cls, value: object) -> object:
        return tuple(_level(v) for v in value) if isinstance(value, list | tuple) else value


class ReportThresholds(BaseModel):
    """What one report's facts say about its severity (``streams.classify``)."""

    model_config = _STRICT

    mass_casualty_injured: Count
    serious_injured: Count
    mass_incident_parties: Count
    many_parties: Count
    mass_gathering_factor: Count
    danger_keywords: tuple[Annotated[str, Field(min_length=1, max_length=16)], ...]

    @field_validator("danger_keywords", mode="before")
    @classmethod
    def _keywords(cls, value: object) -> object:
        return tuple(value) if isinstance(value, list) else value


class HandlingRule(BaseModel):
    """多元化解: for these categories or groups (none: any) at these levels, lead and co-handler kinds."""

    model_config = _STRICT

    id: Annotated[str, Field(pattern=r"^H-[A-Z]+-\d{3}$")]
    levels: tuple[Level, ...]
    lead: Annotated[str, Field(min_length=1, max_length=40)]
    co: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    @field_validator("levels", mode="before")
    @classmethod
    def _level_names(cls, value: object) -> object:
        return tuple(_level(v) for v in value) if isinstance(value, list | tuple) else value

    @field_validator("co", "categories", "groups", mode="before")
    @classmethod
    def _tuples(cls, value: object) -> object:
        return tuple(value) if isinstance(value, list) else value


def _level(value: object) -> object:
    """A level written by name in the file (``"county"``) as a `Level`."""
    if isinstance(value, str):
        try:
            return Level[value.upper()]
        except KeyError:
            raise ValueError(f"unknown level {value!r}; use {[lv.name.lower() for lv in Level]}") from None
    return value


class Policy(BaseModel):
    """Escalation thresholds and windows; field meanings are documented in ``data/policy.toml``."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    name: Annotated[str, Field(pattern=r"^[a-z0-9_-]+$", min_length=1, max_length=32)]
    version: Annotated[str, Field(min_length=1, max_length=32)]
    camera_verify_below: Ratio
    crowd_upgrade_count: Annotated[int, Field(ge=1)]
    fight_upgrade_confidence: Ratio
    camera_merge_window: Duration
    report_alarm_window: Duration
    boundary_merge_window: Duration
    boundary_merge_radius_m: Annotated[int, Field(ge=1)]
    repeat_window: Duration
    repeat_threshold: Annotated[int, Field(ge=2)]
    cluster_window: Duration
    cluster_threshold: Annotated[int, Field(ge=2)]
    severity5_ack: Duration
    unknown_incident_bound: Duration
    allowed_lateness: Duration
    future_event_bound: Duration
    verification_sla: Duration
    default_sla: LevelDurations
    county_cluster_townships: Annotated[int, Field(ge=1)]
    severity_levels: tuple[SeverityLevel, ...]
    report_thresholds: ReportThresholds
    handling_rules: tuple[HandlingRule, ...]

    @field_validator("handling_rules", mode="before")
    @classmethod
    def _rule_rows(cls, value: object) -> object:
        return tuple(value) if isinstance(value, list) else value

    @property
    def label(self) -> str:
        """``name/version``: what every Incident and Transition records as ``policy_version``."""
        return f"{self.name}/{self.version}"

    def routing(self, severity: int) -> SeverityLevel:
        """The severity → level row for ``severity`` (1..5)."""
        return self._by_severity[severity]

    @functools.cached_property
    def _by_severity(self) -> dict[int, SeverityLevel]:
        return {row.severity: row for row in self.severity_levels}

    @field_validator("severity_levels", mode="before")
    @classmethod
    def _rows(cls, value: object) -> object:
        return tuple(value) if isinstance(value, list) else value

    @field_validator("severity_levels")
    @classmethod
    def _every_severity_once(cls, value: tuple[SeverityLevel, ...]) -> tuple[SeverityLevel, ...]:
        severities = sorted(row.severity for row in value)
        if severities != [1, 2, 3, 4, 5]:
            raise ValueError(f"need one row for each severity 1..5, got {severities}")
        levels = [row.level for row in sorted(value, key=lambda r: r.severity)]
        if levels != sorted(levels):
            raise ValueError("a more severe matter may not start at a lower level")
        return value

    @field_validator("default_sla")
    @classmethod
    def _every_level(cls, value: dict[Level, object]) -> dict[Level, object]:
        missing = [level.name.lower() for level in Level if level not in value]
        if missing:
            raise ValueError(f"missing SLA for level(s) {missing}")
        return value


def load_policy(path: Path | None = None) -> Policy:
    """Load and check a policy file (the bundled one by default); raises DataFileError if it is invalid."""
    path = path or POLICY_FILE
    raw = read_toml(path)
    try:
        return Policy.model_validate(raw)
    except ValidationError as exc:
        raise_data_error(path, exc, lambda loc: split_loc(loc, "", lambda i: ""))


@functools.cache
def policy() -> Policy:
    """The bundled policy, loaded and checked once per process."""
    return load_policy()


def policy_at(path: Path | None) -> Policy:
    """The policy in ``path``, or the bundled one when None (what ``--policy``/``GRIDFLOW_POLICY`` name)."""
    return policy() if path is None else load_policy(path)
