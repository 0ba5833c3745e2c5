"""Named policies for a what-if: ``NAME=FILE`` arguments, what differs between two, and sweep variants.

A policy file is read as TOML and checked with the same loader as everywhere else
(`schemas.policy.load_policy`), so a bad value is one line naming the key, the value and what was expected.
Keys are dotted paths into the file (``default_sla.grid``); ``sla.X`` is accepted for ``default_sla.X``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from infra.errors import ConfigError
from producers.scenario import parse_duration
from schemas._datafile import read_toml
from schemas.policy import Policy, load_policy

_ALIASES = {"sla": "default_sla"}


@dataclass(frozen=True)
class NamedPolicy:
    """A policy under the name a what-if run gives it; ``source`` says where it came from."""

    name: str
    policy: Policy
    source: str
    raw: Mapping[str, Any]


def parse_named(text: str) -> NamedPolicy:
    """``NAME=FILE`` (or just ``FILE``, named after the file) → the checked policy."""
    name, sep, file = text.partition("=")
    if not sep:
        name, file = Path(text).stem, text
    if not name or not file:
        raise ConfigError(f"--policy {text!r}: expected NAME=FILE, e.g. alt=my-policy.toml")
    path = Path(file)
    return NamedPolicy(name, load_policy(path), str(path), read_toml(path))


def _flatten(raw: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in raw.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and not _is_duration(value):
            yield from _flatten(value, path + ".")
        else:
            yield path, value


def _is_duration(value: Mapping[str, Any]) -> bool:
    return bool(value) and set(value) <= {"weeks", "days", "hours", "minutes", "seconds"}


def show(value: Any) -> str:
    """A policy value as a person writes it: durations as 4h / 30m / 7d, the rest as TOML would."""
    if isinstance(value, Mapping) and _is_duration(value):
        return duration_text(timedelta(**value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def duration_text(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def differences(base: NamedPolicy, other: NamedPolicy) -> list[tuple[str, str, str]]:
    """(key, base value, other value) for every key whose value differs (the version too), sorted."""
    old, new = dict(_flatten(base.raw)), dict(_flatten(other.raw))
    rows = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if _normal(a) != _normal(b):
            rows.append((key, "—" if a is None else show(a), "—" if b is None else show(b)))
    return rows


def _normal(value: Any) -> Any:
    if isinstance(value, Mapping) and _is_duration(value):
        return timedelta(**value)
    return value


def _key_path(key: str) -> list[str]:
    parts = key.split(".")
    parts[0] = _ALIASES.get(parts[0], parts[0])
    return parts


def _value(text: str, current: Any) -> Any:
    """A sweep value in the form of the value it replaces: a duration, a number or a string."""
    if isinstance(current, Mapping):
        return {"seconds": int(parse_duration(text).total_seconds())}
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_sweep(text: str) -> tuple[str, list[str]]:
    """``KEY=V1,V2,V3`` → (key, values)."""
    key, sep, values = text.partition("=")
    items = [v.strip() for v in values.split(",") if v.strip()]
    if not sep or not key or not items:
        raise ConfigError(f"--sweep {text!r}: expected KEY=V1,V2,... e.g. sla.grid=2h,4h,8h")
    return key, items


def variant(base: NamedPolicy, key: str, text: str, tmp: Path) -> NamedPolicy:
    """``base`` with ``key`` set to ``text`` (written to ``tmp`` and loaded like any policy file)."""
    raw: dict[str, Any] = _copy(base.raw)
    node: Any = raw
    parts = _key_path(key)
    for part in parts[:-1]:
        if not isinstance(node, dict) or part not in node:
            raise ConfigError(f"--sweep {key}: no such key in {base.source}")
        node = node[part]
    if not isinstance(node, dict) or parts[-1] not in node:
        raise ConfigError(f"--sweep {key}: no such key in {base.source}")
    node[parts[-1]] = _value(text, node[parts[-1]])
    raw["version"] = f"{base.policy.version}+{parts[-1]}={text}"[:32]
    path = tmp / f"{key}={text}.toml"
    path.write_text(_toml(raw), encoding="utf-8")
    return NamedPolicy(f"{key}={text}", load_policy(path), str(path), raw)


def _copy(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _copy(v) if isinstance(v, Mapping) else v for k, v in raw.items()}


def _toml(raw: Mapping[str, Any]) -> str:
    """A small TOML writer for policy files: scalars and inline tables at the top, then tables."""
    lines, tables = [], []
    for key, value in raw.items():
        if isinstance(value, Mapping) and not _is_duration(value):
            tables.append((key, value))
        else:
            lines.append(f"{key} = {_inline(value)}")
    for key, value in tables:
        lines.append(f"\n[{key}]")
        lines.extend(_toml(value).rstrip("\n").replace("\n[", f"\n[{key}.").splitlines())
    return "\n".join(lines) + "\n"


def _inline(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_inline(v)}" for k, v in value.items()) + " }"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return repr(value)
