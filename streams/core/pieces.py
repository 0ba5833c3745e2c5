"""The immutable values the escalation state's stores hold, each with its JSON form.

Every value is immutable (a NamedTuple or frozen dataclass of simple fields) with a JSON form: an object for
orjson, which writes its datetimes, UUIDs and enums itself (and embeds messages' own encodings as
fragments), read back by ``from_json_obj``. `streams.core.state` keeps them in per-key stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, NamedTuple
from uuid import UUID

import orjson

from schemas.enums import AlertType, IncidentStatus
from schemas.messages import Disposition, Incident
from streams.core.classify import Source
from streams.core.outputs import SourceRef

__all__ = [
    "ACTIVE",
    "TERMINAL",
    "AlarmMark",
    "Alias",
    "EvidenceMark",
    "GridIndex",
    "IncidentState",
    "Opening",
    "Pending",
    "PendingDisposition",
    "TownAlarm",
    "TownshipIndex",
    "Windows",
    "opt_dt",
    "window_get",
    "window_put",
]

# Statuses whose SLA clock runs and that new evidence may merge into.
ACTIVE: Final = frozenset(
    {IncidentStatus.PENDING_VERIFICATION, IncidentStatus.OPEN, IncidentStatus.IN_PROGRESS}
)
# Statuses nothing but a reopen (closed) can leave; evicted after the terminal retention.
TERMINAL: Final = frozenset({IncidentStatus.CLOSED, IncidentStatus.FALSE_ALARM, IncidentStatus.MERGED})


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def opt_dt(value: str | None) -> datetime | None:
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


class TownAlarm(NamedTuple):
    """A recent camera alarm in a township, where it was seen (report/alarm correlation across grids)."""

    at: datetime
    incident_id: UUID
    grid_code: str
    category: str
    lon: float
    lat: float


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
            sweep_at=opt_dt(obj["sweep_at"]),
        )


class TownshipIndex(NamedTuple):
    """Recent openings per category in one township, and when each category last raised a cluster signal."""

    openings: Windows = ()
    signalled: tuple[tuple[str, datetime], ...] = ()
    sweep_at: datetime | None = None
    # Recent camera alarms, sorted by time (a report near one in another grid merges with it).
    alarms: tuple[TownAlarm, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.openings or self.signalled or self.alarms)

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
            "alarms": [[m.at, m.incident_id, m.grid_code, m.category, m.lon, m.lat] for m in self.alarms],
        }

    @classmethod
    def from_json_obj(cls, obj: dict[str, Any]) -> TownshipIndex:
        return cls(
            openings=_windows_from_json(obj["openings"]),
            signalled=tuple((cat, _dt(at)) for cat, at in sorted(obj["signalled"].items())),
            sweep_at=opt_dt(obj["sweep_at"]),
            # Checkpoints written before boundary merging have no alarms.
            alarms=tuple(
                TownAlarm(_dt(at), UUID(i), g, c, lon, lat) for at, i, g, c, lon, lat in obj.get("alarms", ())
            ),
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
