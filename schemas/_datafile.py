"""Shared helpers for loading the bundled data files (geography, taxonomy, policy).

Each loader validates a file's raw content with a small pydantic model and turns any failure into a
:class:`~schemas.errors.DataFileError` naming the file, the entry and the field, so a bad edit to a data file
is reported precisely at start-up instead of surfacing later as a confusing stream failure.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

from pydantic import BeforeValidator, Field, ValidationError

from schemas.enums import Level
from schemas.errors import DataFileError

DATA_DIR = Path(__file__).resolve().parent / "data"

_DURATION_UNITS = frozenset({"weeks", "days", "hours", "minutes", "seconds"})
_LEVEL_NAMES = {level.name.lower(): level for level in Level}


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, mapping I/O and syntax errors to DataFileError."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise DataFileError(path, "(file)", "(file)", f"cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DataFileError(path, "(file)", "(syntax)", f"invalid TOML: {exc}") from exc


def read_json(path: Path) -> Any:
    """Parse a JSON file, mapping I/O, encoding and syntax errors to DataFileError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataFileError(path, "(file)", "(file)", f"cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise DataFileError(path, "(file)", "(encoding)", f"not UTF-8: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFileError(path, "(file)", "(syntax)", f"invalid JSON: {exc}") from exc


def _to_duration(value: object) -> object:
    """Turn a TOML table such as ``{ hours = 4 }`` into a timedelta; leave anything else to pydantic."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, dict) or not value:
        raise ValueError("expected a table of durations such as { minutes = 10 } or { hours = 4 }")
    unknown = set(value) - _DURATION_UNITS
    if unknown:
        raise ValueError(f"unknown duration unit(s) {sorted(unknown)}; use {sorted(_DURATION_UNITS)}")
    for unit, amount in value.items():
        # bool is an int subclass; "true hours" is a typo, not a duration
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0:
            raise ValueError(f"{unit} must be a non-negative number, got {amount!r}")
    return timedelta(**value)


def _to_level_map(value: object) -> object:
    """Turn ``{ grid = ..., village = ... }`` (level names) into ``{Level.GRID: ...}``."""
    if not isinstance(value, dict):
        raise ValueError("expected a table keyed by level name (grid, village, township, county, city)")
    out: dict[Level, object] = {}
    for key, item in value.items():
        level = _LEVEL_NAMES.get(key) if isinstance(key, str) else key if isinstance(key, Level) else None
        if level is None:
            raise ValueError(f"unknown level {key!r}; use one of {list(_LEVEL_NAMES)}")
        out[level] = item
    return out


Duration = Annotated[timedelta, BeforeValidator(_to_duration), Field(gt=timedelta(0))]
"""A strictly positive duration written in a data file as a table of units, e.g. ``{ minutes = 10 }``."""

LevelDurations = Annotated[dict[Level, Duration], BeforeValidator(_to_level_map)]
"""Durations per level, written as a table keyed by level name."""


def raise_data_error(
    path: Path,
    exc: ValidationError,
    describe_entry: Callable[[Sequence[int | str]], tuple[str, str]],
) -> NoReturn:
    """Raise DataFileError for the first error of ``exc``; ``describe_entry`` maps a loc to (entry, field)."""
    first = exc.errors(include_url=False)[0]
    entry, field = describe_entry(first["loc"])
    extra = f" ({exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    raise DataFileError(path, entry, field, f"{first['msg']} (got {first['input']!r:.80}){extra}") from exc


def split_loc(loc: Sequence[int | str], list_key: str, name_of: Callable[[int], str]) -> tuple[str, str]:
    """Default loc splitter: ``(list_key, i, field...)`` → ``("list_key[i] (name)", "field.sub")``."""
    if len(loc) >= 2 and loc[0] == list_key and isinstance(loc[1], int):
        entry = f"{list_key}[{loc[1]}]{name_of(loc[1])}"
        return entry, ".".join(str(p) for p in loc[2:]) or "(entry)"
    if len(loc) >= 2:
        return str(loc[0]), ".".join(str(p) for p in loc[1:])
    if len(loc) == 1:
        return "(top level)", str(loc[0])
    return "(top level)", "(document)"
