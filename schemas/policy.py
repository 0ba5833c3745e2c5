"""The escalation policy (DESIGN.md §4) loaded from ``data/policy.toml`` into a frozen model.

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


class Policy(BaseModel):
    """Escalation thresholds and windows; field meanings are documented in ``data/policy.toml``."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    version: Annotated[str, Field(min_length=1, max_length=32)]
    camera_verify_below: Ratio
    crowd_upgrade_count: Annotated[int, Field(ge=1)]
    fight_upgrade_confidence: Ratio
    camera_merge_window: Duration
    report_alarm_window: Duration
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


def policy_label(value: Policy, path: Path | None = None) -> str:
    """How a run names its policy: the file's stem (``policy`` for the bundled one) and the version."""
    return f"{(path or POLICY_FILE).stem}@{value.version}"
