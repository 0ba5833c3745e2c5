"""Named simulator scenarios and data-quality overlays, loaded from ``data/scenarios.toml``.

A :class:`Scenario` is the whole description of a simulated load: base rates, time-of-day and weekday
profiles, the report and alarm mixes, how handling units answer, and surges (extra arrivals confined to some
counties and hours). An :class:`Overlay` says how often to damage messages (duplicates, out-of-order, late,
malformed). Both are data, so a new scenario is a TOML table, not code.

Usage::

    from producers.scenario import scenario, overlay, scenario_names
    sc = scenario("ice_jam_flood")      # ConfigError naming the known scenarios if unknown
    sc.start, sc.duration, sc.surges
"""

from __future__ import annotations

import functools
import re
import tomllib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from infra.errors import ConfigError
from schemas.enums import AlertType
from schemas.geography import geography
from schemas.taxonomy import taxonomy

SCENARIOS_FILE = Path(__file__).parent / "data" / "scenarios.toml"
SHANGHAI = ZoneInfo("Asia/Shanghai")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

Share = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Weight = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
MalformedKind = Literal[
    "bad_json", "not_utf8", "missing_field", "unknown_grid", "bad_value", "unknown_kind", "empty", "too_large"
]
MALFORMED_KINDS: tuple[str, ...] = MalformedKind.__args__  # type: ignore[attr-defined]


def parse_duration(text: str) -> timedelta:
    """``"90s"``, ``"30m"``, ``"6h"``, ``"2d"`` (also ``"1.5h"``) → timedelta; ConfigError otherwise."""
    match = _DURATION.match(text)
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"--duration {text!r}: expected a positive number with s, m, h or d (e.g. 6h, 1d)")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def parse_start(text: str) -> datetime:
    """An ISO date or datetime; naive values are Asia/Shanghai, aware ones are converted to it."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"--start {text!r}: expected an ISO date/time such as 2025-06-17T08:00 (Asia/Shanghai)"
        ) from None
    if value.tzinfo is None:
        return value.replace(tzinfo=SHANGHAI)
    return value.astimezone(SHANGHAI)


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Handling(_Strict):
    """How handling units answer, as shares of incidents (see the TOML file for the meaning)."""

    late: Share
    never: Share
    escalate: Share
    reopen: Share
    ignore_false_alarm: Share


class Surge(_Strict):
    """Extra arrivals on top of the base load, confined to a window, counties and township kinds."""

    stream: Literal["reports", "alarms"]
    per_hour: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    from_hour: Annotated[float, Field(ge=0)] = 0.0
    to_hour: Annotated[float, Field(gt=0)] = 24.0
    counties: tuple[str, ...] = ()
    townships: tuple[str, ...] = ()
    township_kinds: tuple[Literal["街道", "镇", "乡", "苏木"], ...] = ()
    diurnal: Literal["flat", "reports", "alarms"] = "flat"
    false_share: Share = 0.2
    objects: tuple[int, int] | None = None
    mix: dict[str, Weight]

    @field_validator("counties")
    @classmethod
    def _known_counties(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        known = {u.code for u in geography().counties()}
        for code in value:
            if code not in known:
                raise ValueError(f"unknown county code {code!r}; known: {sorted(known)}")
        return value

    @field_validator("townships")
    @classmethod
    def _known_townships(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        known = {u.code for u in geography().townships()}
        for code in value:
            if code not in known:
                raise ValueError(f"unknown township code {code!r}")
        return value


class Scenario(_Strict):
    """One named load. ``start`` is Asia/Shanghai; rates are city-wide per day before profiles."""

    name: str
    description: str
    start: datetime
    duration: timedelta
    tick_interval: timedelta
    reports_per_day: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    alarm_events_per_day: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    false_alarm_share: Share
    low_confidence_true_share: Share
    corroborate_share: Share
    multi_camera: tuple[Weight, ...]
    mix_factors: dict[str, Weight]
    handling: Handling
    surges: tuple[Surge, ...] = ()
    reports_diurnal: tuple[float, ...]
    alarms_diurnal: tuple[float, ...]
    reports_weekday: tuple[float, ...]
    alarms_weekday: tuple[float, ...]
    urban_mix: dict[str, Weight]
    rural_mix: dict[str, Weight]
    alarm_mix: dict[AlertType, Weight]


def _only_bad_json() -> dict[MalformedKind, float]:
    return {"bad_json": 1.0}


class Overlay(_Strict):
    """Shares of generated intake messages to damage, and the mix of malformed kinds."""

    name: str
    duplicate: Share = 0.0
    out_of_order: Share = 0.0
    late: Share = 0.0
    malformed: Share = 0.0
    malformed_kinds: dict[MalformedKind, Weight] = Field(default_factory=_only_bad_json)


def _normalised(values: list[float], what: str, length: int) -> tuple[float, ...]:
    if len(values) != length or any(v < 0 for v in values) or sum(values) <= 0:
        raise ConfigError(f"{SCENARIOS_FILE.name}: profiles.{what}: expected {length} non-negative numbers")
    mean = sum(values) / length
    return tuple(v / mean for v in values)


def _check_categories(mix: dict[str, float], where: str) -> None:
    known = taxonomy().categories
    for code in mix:
        if code not in known:
            raise ConfigError(f"{SCENARIOS_FILE.name}: {where}: unknown category {code!r}")


@functools.cache
def _document() -> dict[str, Any]:
    try:
        return tomllib.loads(SCENARIOS_FILE.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{SCENARIOS_FILE}: {exc}") from None


def scenario_names() -> list[str]:
    """The names of the bundled scenarios, in file order."""
    return list(_document().get("scenarios", {}))


def overlay_names() -> list[str]:
    """The names of the bundled data-quality overlays."""
    return list(_document().get("overlays", {}))


@functools.cache
def scenario(name: str) -> Scenario:
    """The named scenario, checked; ConfigError naming the known ones if there is no such scenario."""
    doc = _document()
    entries = doc.get("scenarios", {})
    if name not in entries:
        raise ConfigError(f"scenario {name!r}: expected one of {', '.join(scenario_names())}")
    merged = dict(doc["defaults"])
    merged.update(entries[name])
    # A scenario may override single handling shares; the rest come from the defaults.
    merged["handling"] = {**doc["defaults"]["handling"], **entries[name].get("handling", {})}
    profiles, mixes = doc["profiles"], doc["mix"]
    try:
        start = parse_start(str(merged.pop("start")))
        duration = parse_duration(str(merged.pop("duration")))
        tick_interval = parse_duration(str(merged.pop("tick_interval")))
        result = Scenario(
            name=name,
            start=start,
            duration=duration,
            tick_interval=tick_interval,
            reports_diurnal=_normalised(profiles["reports_diurnal"], "reports_diurnal", 24),
            alarms_diurnal=_normalised(profiles["alarms_diurnal"], "alarms_diurnal", 24),
            reports_weekday=_normalised(profiles["reports_weekday"], "reports_weekday", 7),
            alarms_weekday=_normalised(profiles["alarms_weekday"], "alarms_weekday", 7),
            urban_mix=mixes["urban"],
            rural_mix=mixes["rural"],
            alarm_mix=mixes["alarms"],
            **merged,
        )
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{SCENARIOS_FILE.name}: scenario {name}: {where}: {first['msg']}") from None
    _check_categories(result.urban_mix, "mix.urban")
    _check_categories(result.rural_mix, "mix.rural")
    _check_categories(result.mix_factors, f"scenarios.{name}.mix_factors")
    for i, surge in enumerate(result.surges):
        if surge.stream == "reports":
            _check_categories(surge.mix, f"scenarios.{name}.surges[{i}].mix")
        else:
            for code in surge.mix:
                if code not in AlertType.__members__.values():
                    where = f"scenarios.{name}.surges[{i}].mix"
                    raise ConfigError(f"{SCENARIOS_FILE.name}: {where}: unknown alert type {code!r}")
    return result


@functools.cache
def overlay(name: str) -> Overlay:
    """The named data-quality overlay; ConfigError naming the known ones if there is no such overlay."""
    entries = _document().get("overlays", {})
    if name not in entries:
        raise ConfigError(f"overlay {name!r}: expected one of {', '.join(overlay_names())}")
    try:
        return Overlay(name=name, **entries[name])
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{SCENARIOS_FILE.name}: overlay {name}: {where}: {first['msg']}") from None
