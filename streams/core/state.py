"""The escalation state of one partition: per-key stores of immutable pieces, and its JSON form.

`PartitionState` is what `streams.core.escalation.step` takes and returns. It is a handful of `PMap` stores,
each keyed the way a faust table would be, plus a tiny `Clock`:

========== ===================== ======================================================================
store      key                   value
========== ===================== ======================================================================
incidents  incident id           `IncidentState`: the latest Incident message plus what the rules need
aliases    merged incident id    `Alias`: the survivor (a disposition to a merged incident follows it)
grids      grid code             `GridIndex`: recent alarms/reports (merging) and openings (repeats)
townships  township code         `TownshipIndex`: recent openings per category (clusters)
pending    incident id           `Pending`: dispositions waiting for an incident not seen yet
seen       event id              its dedup generation (`streams.core.dedup.SeenSet`, redelivered input)
timers     epoch minute          timers due in that minute (`streams.core.timers`)
========== ===================== ======================================================================

The values are immutable, each with a JSON form (`streams.core.pieces`). For the checkpoint chain
(`streams.core.chain`): `PartitionState.changes_since` lists the keys a step set or removed in each store
(cheap, since unchanged parts are shared), `PartitionState.piece` and ``encode_value`` give one value's
JSON form and ``clock_json`` the tiny per-partition piece. ``to_json``/``from_json`` carry the whole state
at once (snapshots, tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, NamedTuple
from uuid import UUID

import orjson

from streams.core.dedup import SeenSet
from streams.core.pieces import (
    ACTIVE,
    TERMINAL,
    AlarmMark,
    Alias,
    EvidenceMark,
    GridIndex,
    IncidentState,
    Opening,
    Pending,
    PendingDisposition,
    TownAlarm,
    TownshipIndex,
    Windows,
    opt_dt,
    window_get,
    window_put,
)
from streams.core.pmap import PMap
from streams.core.timers import Timer, TimerWheel

__all__ = [
    "ACTIVE",
    "STORE_NAMES",
    "TERMINAL",
    "AlarmMark",
    "Alias",
    "Clock",
    "EvidenceMark",
    "GridIndex",
    "IncidentState",
    "Opening",
    "PartitionState",
    "Pending",
    "PendingDisposition",
    "StateChanges",
    "TownAlarm",
    "TownshipIndex",
    "Windows",
    "window_get",
    "window_put",
]

# ---- the partition -----------------------------------------------------------------------------


class Clock(NamedTuple):
    """Event-time progress of the partition.

    ``max_event_time`` is the latest event (or clock tick) time seen; the watermark trails it by the
    policy's allowed lateness and never moves back. Timers fire when the watermark reaches them.
    """

    max_event_time: datetime | None = None
    watermark: datetime | None = None

    def to_json_obj(self) -> dict[str, Any]:
        return {"max_event_time": self.max_event_time, "watermark": self.watermark}

    @classmethod
    def from_json_obj(cls, obj: dict[str, Any]) -> Clock:
        return cls(opt_dt(obj["max_event_time"]), opt_dt(obj["watermark"]))


@dataclass(frozen=True, slots=True)
class StateChanges:
    """Keys set and removed per store since an older state (see `PartitionState.changes_since`)."""

    clock: bool
    changed: dict[str, list[Any]]
    removed: dict[str, list[Any]]

    @property
    def empty(self) -> bool:
        return not self.clock and not any(self.changed.values()) and not any(self.removed.values())


def _codec(
    encode: Callable[[Any], Any], decode: Callable[[Any], Any], key_in: Callable[[str], Any]
) -> tuple[Callable[[Any], Any], Callable[[Any], Any], Callable[[str], Any]]:
    return encode, decode, key_in


def _timer_bucket_from_json(obj: list[list[Any]]) -> Any:
    bucket = TimerWheel.empty().add_many([Timer.from_list(item) for item in obj]).buckets
    return next(iter(bucket.values()))


# Keyed stores: name → (value to JSON object, JSON object to value, key from its string form)
_MAPS: Final = {
    "incidents": _codec(lambda v: v.to_json_obj(), IncidentState.from_json_obj, UUID),
    "aliases": _codec(lambda v: v.to_json_obj(), Alias.from_json_obj, UUID),
    "grids": _codec(lambda v: v.to_json_obj(), GridIndex.from_json_obj, str),
    "townships": _codec(lambda v: v.to_json_obj(), TownshipIndex.from_json_obj, str),
    "pending": _codec(lambda v: v.to_json_obj(), Pending.from_json_obj, UUID),
}
_STORES: Final = {
    **_MAPS,
    "seen": _codec(int, int, UUID),  # event id → its dedup generation
    "timers": _codec(TimerWheel.bucket_to_json, _timer_bucket_from_json, int),  # epoch minute → timers
}

STORE_NAMES: Final = tuple(_STORES)
"""The keyed stores, in the order `PartitionState.to_json_obj` writes them."""

DEFAULT_DEDUP_WINDOW: Final = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class PartitionState:
    """All escalation state of one partition; see the module docstring for the stores.

    The clock piece (``clock_json``) also carries the timer wheel's scan position and the dedup span.
    """

    clock: Clock = field(default_factory=Clock)
    incidents: PMap[UUID, IncidentState] = field(default_factory=PMap)
    aliases: PMap[UUID, Alias] = field(default_factory=PMap)
    grids: PMap[str, GridIndex] = field(default_factory=PMap)
    townships: PMap[str, TownshipIndex] = field(default_factory=PMap)
    pending: PMap[UUID, Pending] = field(default_factory=PMap)
    seen: SeenSet = field(default_factory=lambda: SeenSet.empty(DEFAULT_DEDUP_WINDOW))
    timers: TimerWheel = field(default_factory=TimerWheel.empty)

    def size(self) -> dict[str, int]:
        """Entries per store (for metrics and for tests that state stays bounded)."""
        return {name: len(getattr(self, name)) for name in _STORES}

    def entries(self, store: str) -> Iterable[tuple[Any, Any]]:
        """Every (key, value) pair of one store, as `piece` gives them one at a time."""
        if store == "seen":
            return ((event_id, number) for number, ids in self.seen.generations for event_id in ids)
        if store == "timers":
            return self.timers.buckets.items()
        store_map: PMap[Any, Any] = getattr(self, store)
        return store_map.items()

    def piece(self, store: str, key: Any) -> Any:
        """The value one store holds under ``key`` (None if absent), as a per-key table would."""
        if store == "seen":
            return self.seen.generation_of(key)
        if store == "timers":
            return self.timers.buckets.get(key)
        return getattr(self, store).get(key)

    def changes_since(self, older: PartitionState) -> StateChanges:
        """Keys each store set or removed since ``older`` (cheap: unchanged parts are shared)."""
        changed: dict[str, list[Any]] = {}
        removed: dict[str, list[Any]] = {}
        for name in _MAPS:
            changed[name], removed[name] = getattr(self, name).diff(getattr(older, name))
        changed["seen"], removed["seen"] = self.seen.diff(older.seen)
        changed["timers"], removed["timers"] = self.timers.diff(older.timers)
        return StateChanges(self.clock_json() != older.clock_json(), changed, removed)

    @staticmethod
    def encode_value(store: str, value: Any) -> Any:
        """One store value as an object for ``orjson.dumps`` (for a per-key changelog table)."""
        return _STORES[store][0](value)

    def clock_json(self) -> dict[str, Any]:
        """The tiny per-partition piece: watermark, timer scan position, dedup span."""
        return {
            **self.clock.to_json_obj(),
            "timers_floor": self.timers.floor,
            "timers_scanned": self.timers.scanned,
            "seen_span": self.seen.span,
        }

    def to_json_obj(self) -> dict[str, Any]:
        out: dict[str, Any] = {"clock": self.clock_json()}
        for name, (encode, _, _) in _STORES.items():
            keys: Iterable[Any] = (
                self.timers.buckets
                if name == "timers"
                else self.seen
                if name == "seen"
                else getattr(self, name)
            )
            out[name] = {str(k): encode(self.piece(name, k)) for k in sorted(keys, key=str)}
        return out

    @classmethod
    def from_json_obj(cls, obj: dict[str, Any]) -> PartitionState:
        pieces = {
            name: {key_in(k): decode(v) for k, v in obj[name].items()}
            for name, (_, decode, key_in) in _STORES.items()
        }
        clock = obj["clock"]
        buckets: PMap[int, Any] = PMap(pieces["timers"].items())
        return cls(
            clock=Clock.from_json_obj(clock),
            seen=SeenSet.from_generations(clock["seen_span"], pieces["seen"]),
            timers=TimerWheel(buckets, clock["timers_floor"], clock["timers_scanned"]),
            **{name: PMap(pieces[name].items()) for name in _MAPS},
        )

    def to_json(self) -> bytes:
        """The whole state as JSON, keys sorted (equal states give equal bytes)."""
        # Parsed once more so the keys inside embedded message encodings are sorted too: not a hot path.
        return orjson.dumps(orjson.loads(orjson.dumps(self.to_json_obj())), option=orjson.OPT_SORT_KEYS)

    @classmethod
    def from_json(cls, raw: bytes | str) -> PartitionState:
        return cls.from_json_obj(orjson.loads(raw))
