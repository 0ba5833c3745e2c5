"""The escalation state of one partition, as immutable per-key pieces.

`PartitionState` is what `streams.escalation.step` takes and returns. It is a handful of `PMap` stores,
each keyed the way a faust table would be, plus a tiny `Clock`:

========== ===================== ======================================================================
store      key                   value
========== ===================== ======================================================================
incidents  incident id           `IncidentState`: the latest Incident message plus what the rules need
aliases    merged incident id    `Alias`: the survivor (a disposition to a merged incident follows it)
grids      grid code             `GridIndex`: recent alarms/reports (merging) and openings (repeats)
townships  township code         `TownshipIndex`: recent openings per category (clusters)
pending    incident id           `Pending`: dispositions waiting for an incident not seen yet
seen       event id              its dedup generation (`streams.dedup.SeenSet`, redelivered input)
timers     epoch minute          timers due in that minute (`streams.timers`)
========== ===================== ======================================================================

Every value is immutable (a NamedTuple or frozen dataclass of simple fields) with a JSON form: an object for
orjson, which writes its datetimes, UUIDs and enums itself (and embeds messages' own encodings as
fragments), read back by ``from_json_obj``. For a faust
shell keeping one changelog table per store: `PartitionState.changes_since` lists the keys a step set or
removed in each store (cheap, since unchanged parts are shared), `PartitionState.piece` and
``encode_value``/``decode_value`` give each value's JSON form, ``clock_json`` is the tiny per-partition
piece, and `PartitionState.from_pieces` rebuilds the state on recovery. ``to_json``/``from_json`` carry the
whole state at once (snapshots, tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, NamedTuple, TypeVar
from uuid import UUID

import orjson

from schemas.enums import AlertType, IncidentStatus
from schemas.messages import Disposition, Incident
from streams.classify import Source
from streams.dedup import SeenSet
from streams.outputs import SourceRef
from streams.pmap import PMap
from streams.timers import Timer, TimerWheel

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
    "TownshipIndex",
]

# Statuses whose SLA clock runs and that new evidence may merge into.
ACTIVE: Final = frozenset(
    {IncidentStatus.PENDING_VERIFICATION, IncidentStatus.OPEN, IncidentStatus.IN_PROGRESS}
)
# Statuses nothing but a reopen (closed) can leave; evicted after the terminal retention.
TERMINAL: Final = frozenset({IncidentStatus.CLOSED, IncidentStatus.FALSE_ALARM, IncidentStatus.MERGED})

T = TypeVar("T")


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _opt_dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


# The small, hot value types are NamedTuples: immutable like frozen dataclasses, but built several times
# per event, and a tuple is several times cheaper to create than a frozen dataclass instance.

# ---- incidents ---------------------------------------------------------------------------------


class IncidentState(NamedTuple):
    """One incident: the Incident message last emitted, plus facts the rules need that it does not carry.

    ``clock_start`` is when the running SLA clock started (opening, level change, reopen); ``camera_ids``
    and ``alert_types`` list the camera evidence (false alarms count against those cameras);
    ``has_report`` is set once a grid report is part of the incident (it can then not be a false alarm);
    ``corroborated`` once the report-plus-alarm upgrade was granted (it is granted once).
    """

    incident: Incident
    clock_start: datetime
    camera_ids: tuple[str, ...] = ()
    alert_types: tuple[AlertType, ...] = ()
    has_report: bool = False
    corroborated: bool = False

    @property
    def active(self) -> bool:
        return self.incident.status in ACTIVE

    @property
    def terminal(self) -> bool:
        return self.incident.status in TERMINAL

    def to_json_obj(self) -> dict[str, Any]:
        return {
            # The Incident's own wire encoding (pydantic's, in Rust): the largest part of a checkpoint.
            "incident": orjson.Fragment(self.incident.model_dump_json()),
            "clock_start": self.clock_start,
            "camera_ids": self.camera_ids,
            "alert_types": self.alert_types,
            "has_report": self.has_report,
            "corroborated": self.corroborated,
        }

    @classmethod
    def from_json_obj(cls, obj: dict[str, Any]) -> IncidentState:
        return cls(
            # Lax mode only here: our own JSON turns datetimes and UUIDs into strings.
            incident=Incident.model_validate(obj["incident"], strict=False),
            clock_start=_dt(obj["clock_start"]),
            camera_ids=tuple(obj["camera_ids"]),
            alert_types=tuple(AlertType(a) for a in obj["alert_types"]),
            has_report=obj["has_report"],
            corroborated=obj["corroborated"],
        )


class Alias(NamedTuple):
    """A merged incident's survivor, and when the merge happened (aliases expire after a retention)."""

    survivor: UUID
    at: datetime

    def to_json_obj(self) -> list[Any]:
        return [self.survivor, self.at]

    @classmethod
    def from_json_obj(cls, obj: list[str]) -> Alias:
        return cls(UUID(obj[0]), _dt(obj[1]))


# ---- grid and township indexes -----------------------------------------------------------------


class AlarmMark(NamedTuple):
    """The latest alarm of one type in a grid and the incident it went to (camera merging)."""

    alert_type: AlertType
    incident_id: UUID
    at: datetime


class EvidenceMark(NamedTuple):
    """A recent report or alarm in a grid (report/alarm correlation). ``at`` is when it happened."""

    at: datetime
    incident_id: UUID
    source: Source
    category: str


class Opening(NamedTuple):
    """A confirmed incident opening, for repeat and cluster windows."""

    at: datetime
    incident_id: UUID


Windows = tuple[tuple[str, tuple[Opening, ...]], ...]
"""Openings per category; each tuple sorted by time and bounded in length."""


def window_get(windows: Windows, category: str) -> tuple[Opening, ...]:
    for key, openings in windows:
        if key == category:
            return openings
    return ()


def window_put(windows: Windows, category: str, openings: tuple[Opening, ...]) -> Windows:
    """``windows`` with the category's openings replaced (dropped when empty); order is kept."""
    for i, (key, _) in enumerate(windows):
        if key == category:
            if openings:
                return (*windows[:i], (category, openings), *windows[i + 1 :])
            return (*windows[:i], *windows[i + 1 :])
    return (*windows, (category, openings)) if openings else windows


def _windows_to_json(windows: Windows) -> dict[str, list[list[Any]]]:
    return {cat: [[o.at, o.incident_id] for o in items] for cat, items in sorted(windows)}


def _windows_from_json(obj: dict[str, list[list[str]]]) -> Windows:
    return tuple(
        (cat, tuple(Opening(_dt(at), UUID(iid)) for at, iid in items)) for cat, items in sorted(obj.items())
    )


class GridIndex(NamedTuple):
    """What one grid remembers for merging and repeat disputes.

    ``sweep_at`` is the time of the pruning timer already scheduled for this grid (one at a time).
    """

    alarms: tuple[AlarmMark, ...] = ()
    evidence: tuple[EvidenceMark, ...] = ()
    openings: Windows = ()
    sweep_at: datetime | None = None

    @property
    def empty(self) -> bool:
        return not (self.alarms or self.evidence or self.openings)

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "alarms": [[m.alert_type, m.incident_id, m.at] for m in self.alarms],
            "evidence": [[m.at, m.incident_id, m.source, m.category] for m in self.evidence],
            "openings": _windows_to_json(self.openings),
            "sweep_at": self.sweep_at,
        }

    @classmethod
    def from_json_obj(cls, obj: dict[str, Any]) -> GridIndex:
        return cls(
            alarms=tuple(AlarmMark(AlertType(t), UUID(i), _dt(at)) for t, i, at in obj["alarms"]),
            evidence=tuple(EvidenceMark(_dt(at), UUID(i), Source(s), c) for at, i, s, c in obj["evidence"]),
            openings=_windows_from_json(obj["openings"]),
            sweep_at=_opt_dt(obj["sweep_at"]),
        )


class TownshipIndex(NamedTuple):
    """Recent openings per category in one township, and when each category last raised a cluster signal."""

    openings: Windows = ()
    signalled: tuple[tuple[str, datetime], ...] = ()
    sweep_at: datetime | None = None

    @property
    def empty(self) -> bool:
        return not (self.openings or self.signalled)

    def signalled_at(self, category: str) -> datetime | None:
        for key, at in self.signalled:
            if key == category:
                return at
        return None

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "openings": _windows_to_json(self.openings),
            "signalled": dict(self.signalled),
            "sweep_at": self.sweep_at,
        }

    @classmethod
    def from_json_obj(cls, obj: dict[str, Any]) -> TownshipIndex:
        return cls(
            openings=_windows_from_json(obj["openings"]),
            signalled=tuple((cat, _dt(at)) for cat, at in sorted(obj["signalled"].items())),
            sweep_at=_opt_dt(obj["sweep_at"]),
        )


# ---- waiting dispositions ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PendingDisposition:
    """A disposition that arrived before its incident, with where it was read."""

    disposition: Disposition
    ref: SourceRef | None = None


@dataclass(frozen=True, slots=True)
class Pending:
    """Dispositions waiting for one incident id, in arrival order."""

    items: tuple[PendingDisposition, ...] = ()

    def to_json_obj(self) -> list[dict[str, Any]]:
        return [
            {
                "disposition": orjson.Fragment(p.disposition.model_dump_json()),
                "ref": None if p.ref is None else [p.ref.topic, p.ref.partition, p.ref.offset],
            }
            for p in self.items
        ]

    @classmethod
    def from_json_obj(cls, obj: list[dict[str, Any]]) -> Pending:
        return cls(
            tuple(
                PendingDisposition(
                    Disposition.model_validate(item["disposition"], strict=False),
                    None if item["ref"] is None else SourceRef(*item["ref"]),
                )
                for item in obj
            )
        )


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
        return cls(_opt_dt(obj["max_event_time"]), _opt_dt(obj["watermark"]))


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

    @staticmethod
    def decode_value(store: str, obj: Any) -> Any:
        """Inverse of `encode_value`, from the value's JSON parsed again."""
        return _STORES[store][1](obj)

    def clock_json(self) -> dict[str, Any]:
        """The tiny per-partition piece: watermark, timer scan position, dedup span."""
        return {
            **self.clock.to_json_obj(),
            "timers_floor": self.timers.floor,
            "timers_scanned": self.timers.scanned,
            "seen_span": self.seen.span,
        }

    @classmethod
    def from_pieces(cls, clock: dict[str, Any], pieces: dict[str, dict[Any, Any]]) -> PartitionState:
        """Rebuild from the clock piece (its JSON, parsed) and decoded values (``pieces[store][key]``)."""
        maps = {name: PMap(pieces.get(name, {}).items()) for name in _MAPS}
        buckets: PMap[int, Any] = PMap(pieces.get("timers", {}).items())
        return cls(
            clock=Clock.from_json_obj(clock),
            seen=SeenSet.from_generations(clock["seen_span"], pieces.get("seen", {})),
            timers=TimerWheel(buckets, clock["timers_floor"], clock["timers_scanned"]),
            **maps,
        )

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
        return cls.from_pieces(obj["clock"], pieces)

    def to_json(self) -> bytes:
        """The whole state as JSON, keys sorted (equal states give equal bytes)."""
        # Parsed once more so the keys inside embedded message encodings are sorted too: not a hot path.
        return orjson.dumps(orjson.loads(orjson.dumps(self.to_json_obj())), option=orjson.OPT_SORT_KEYS)

    @classmethod
    def from_json(cls, raw: bytes | str) -> PartitionState:
        return cls.from_json_obj(orjson.loads(raw))
