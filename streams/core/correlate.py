"""Pure operations on the grid and township indexes: merge candidates, repeat and cluster windows, pruning.

Matching always compares event times explicitly, so pruning never changes a decision: an entry is dropped
only once no event the step would still accept (one not older than the watermark minus the dedup window)
could match it. That is what lets pruning run on watermark timers without making outputs depend on when
clock ticks arrive.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar
from uuid import UUID

from schemas.enums import AlertType
from schemas.policy import Policy
from streams.core.state import (
    AlarmMark,
    EvidenceMark,
    GridIndex,
    Opening,
    TownAlarm,
    TownshipIndex,
    Windows,
    window_get,
    window_put,
)

__all__ = [
    "Horizons",
    "add_evidence",
    "add_opening",
    "add_town_alarm",
    "alarms_near",
    "drop_incident",
    "evidence_near",
    "grid_expiry",
    "mark_signalled",
    "metres_between",
    "openings_within",
    "prune_grid",
    "prune_township",
    "set_alarm",
    "township_expiry",
]

_METRES_PER_DEGREE = 111_320.0

IndexT = TypeVar("IndexT", GridIndex, TownshipIndex)

# Openings kept per category beyond the threshold: slack for late (out-of-order) insertions and removals
# of false alarms, so a count near the threshold is still exact.
_SLACK = 3


@dataclass(frozen=True, slots=True)
class Horizons:
    """How long index entries can still matter: the policy windows plus the dedup margin for late events."""

    camera_merge: timedelta
    report_alarm: timedelta
    boundary: timedelta
    repeat: timedelta
    cluster: timedelta
    margin: timedelta
    repeat_keep: int
    cluster_keep: int
    # Prune an index at most this often: a sweep per expiring entry would cost more than it frees.
    sweep_every: timedelta = timedelta(hours=1)

    @property
    def evidence(self) -> timedelta:
        # A report correlates by when the matter occurred, clamped to one window before it was filed
        # (streams.core.escalation), so its mark may lie up to two windows before the event time.
        return 2 * self.report_alarm

    @property
    def town_alarm(self) -> timedelta:
        # A report matches a township's alarm by when the matter occurred (up to one report window
        # before it was filed), within the boundary window of the alarm.
        return self.report_alarm + self.boundary

    @classmethod
    def of(cls, policy: Policy, margin: timedelta) -> Horizons:
        return cls(
            camera_merge=policy.camera_merge_window,
            report_alarm=policy.report_alarm_window,
            boundary=policy.boundary_merge_window,
            repeat=policy.repeat_window,
            cluster=policy.cluster_window,
            margin=margin,
            repeat_keep=policy.repeat_threshold + _SLACK,
            cluster_keep=policy.cluster_threshold + _SLACK,
        )


def add_opening(windows: Windows, category: str, opening: Opening, keep: int) -> Windows:
    """Insert ``opening`` in time order and keep the latest ``keep`` openings of the category."""
    current = window_get(windows, category)
    if not current or current[-1].at <= opening.at:
        openings = (*current, opening)
    else:  # a late opening: keep time order
        openings = tuple(sorted((*current, opening), key=lambda o: (o.at, str(o.incident_id))))
    return window_put(windows, category, openings[-keep:])


def openings_within(windows: Windows, category: str, start: datetime, end: datetime) -> tuple[Opening, ...]:
    """Openings of ``category`` with ``start <= at <= end``."""
    return tuple(o for o in window_get(windows, category) if start <= o.at <= end)


def _drop_from_windows(windows: Windows, incident_id: UUID) -> Windows:
    out = windows
    for category, openings in windows:
        kept = tuple(o for o in openings if o.incident_id != incident_id)
        if len(kept) != len(openings):
            out = window_put(out, category, kept)
    return out


def drop_incident(index: IndexT, incident_id: UUID) -> IndexT:
    """Forget an incident's openings (a false alarm or a merged-away incident is not a new matter)."""
    windows = _drop_from_windows(index.openings, incident_id)
    return index if windows is index.openings else index._replace(openings=windows)


def set_alarm(index: GridIndex, alert_type: AlertType, incident_id: UUID, at: datetime) -> GridIndex:
    """Remember the latest alarm of a type and the incident it went to."""
    marks = tuple(m for m in index.alarms if m.alert_type is not alert_type)
    return GridIndex(
        (*marks, AlarmMark(alert_type, incident_id, at)), index.evidence, index.openings, index.sweep_at
    )


def add_evidence(index: GridIndex, mark: EvidenceMark, watermark: datetime, h: Horizons) -> GridIndex:
    """Remember a report or alarm for correlation (sorted by time); drop marks no event can match."""
    horizon = watermark - h.margin - h.evidence
    kept = index.evidence
    if kept and kept[0].at <= horizon:
        kept = kept[bisect_right(kept, horizon, key=_at) :]
    if not kept or kept[-1].at <= mark.at:
        evidence = (*kept, mark)
    else:  # a late mark: insert in time order
        i = bisect_right(kept, mark.at, key=_at)
        evidence = (*kept[:i], mark, *kept[i:])
    return GridIndex(index.alarms, evidence, index.openings, index.sweep_at)


def evidence_near(index: GridIndex, at: datetime, window: timedelta) -> tuple[EvidenceMark, ...]:
    """The marks with ``at - window <= mark.at <= at + window`` (binary search on the sorted marks)."""
    marks = index.evidence
    return marks[bisect_left(marks, at - window, key=_at) : bisect_right(marks, at + window, key=_at)]


def _at(mark: EvidenceMark) -> datetime:
    return mark.at


def prune_grid(index: GridIndex, watermark: datetime, h: Horizons) -> GridIndex:
    """Drop every entry that no acceptable event could match any more."""
    base = watermark - h.margin
    windows: Windows = ()
    for category, openings in index.openings:
        kept = tuple(o for o in openings if o.at > base - h.repeat)
        windows = window_put(windows, category, kept)
    return GridIndex(
        alarms=tuple(m for m in index.alarms if m.at > base - h.camera_merge),
        evidence=tuple(e for e in index.evidence if e.at > base - h.evidence),
        openings=windows,
        sweep_at=index.sweep_at,
    )


def grid_expiry(index: GridIndex, h: Horizons) -> datetime | None:
    """When the earliest entry can be pruned (time of the next sweep), None if the index is empty."""
    times = [m.at + h.camera_merge for m in index.alarms]
    times += [e.at + h.evidence for e in index.evidence]
    times += [o.at + h.repeat for _, openings in index.openings for o in openings]
    return min(times) + h.margin if times else None


def prune_township(index: TownshipIndex, watermark: datetime, h: Horizons) -> TownshipIndex:
    base = watermark - h.margin - h.cluster
    windows: Windows = ()
    for category, openings in index.openings:
        windows = window_put(windows, category, tuple(o for o in openings if o.at > base))
    return TownshipIndex(
        openings=windows,
        signalled=tuple((cat, at) for cat, at in index.signalled if at > base),
        sweep_at=index.sweep_at,
        alarms=tuple(m for m in index.alarms if m.at > watermark - h.margin - h.town_alarm),
    )


def township_expiry(index: TownshipIndex, h: Horizons) -> datetime | None:
    times = [o.at + h.cluster for _, openings in index.openings for o in openings]
    times += [at + h.cluster for _, at in index.signalled]
    times += [m.at + h.town_alarm for m in index.alarms]
    return min(times) + h.margin if times else None


def mark_signalled(index: TownshipIndex, category: str, at: datetime) -> TownshipIndex:
    rest = tuple(item for item in index.signalled if item[0] != category)
    return index._replace(signalled=(*rest, (category, at)))


def add_town_alarm(index: TownshipIndex, mark: TownAlarm, watermark: datetime, h: Horizons) -> TownshipIndex:
    """Remember a camera alarm (sorted by time); drop alarms no event can match any more."""
    horizon = watermark - h.margin - h.town_alarm
    alarms = index.alarms
    # The alarms are in time order: the expired ones are a prefix.
    kept = (
        alarms[bisect_right(alarms, horizon, key=_town_at) :]
        if alarms and alarms[0].at <= horizon
        else alarms
    )
    if not kept or kept[-1].at <= mark.at:
        alarms = (*kept, mark)
    else:  # a late alarm: insert in time order
        i = bisect_right(kept, mark.at, key=_town_at)
        alarms = (*kept[:i], mark, *kept[i:])
    return index._replace(alarms=alarms)


def alarms_near(index: TownshipIndex, at: datetime, window: timedelta) -> tuple[TownAlarm, ...]:
    """The township's alarms with ``at - window <= alarm.at <= at + window``."""
    marks = index.alarms
    return marks[
        bisect_left(marks, at - window, key=_town_at) : bisect_right(marks, at + window, key=_town_at)
    ]


def _town_at(mark: TownAlarm) -> datetime:
    return mark.at


def metres_between(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Distance on the ground, equirectangular: exact enough over the few hundred metres compared here."""
    dy = (lat2 - lat1) * _METRES_PER_DEGREE
    dx = (lon2 - lon1) * _METRES_PER_DEGREE * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(dx, dy)
