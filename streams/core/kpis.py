"""The Fengqiao KPIs (小事不出村，大事不出镇，矛盾不上交) from final incidents and their transitions.

Pure functions over messages, so the same definitions serve unit tests, the what-if simulator's report and
as the reference for the ClickHouse views. Definitions:

- **real incidents**: every incident except false alarms, merged-away incidents and alarms still awaiting
  verification (they are not matters anyone handled).
- **settled**: real incidents whose status is resolved or closed; the level is the one they were settled at
  (levels never go down).
- ``settled_at_village`` — share of settled matters settled at grid or village level (小事不出村);
  ``settled_at_township`` — at or below township (大事不出镇).
- ``push_up_rate`` (上交率) — share of real incidents that were *pushed* to county or city after opening
  (an SLA breach, a handler request, a cluster or a severity upgrade crossing into county);
  ``county_city_share`` — share whose final level is county or city, however they got there.
- ``sla_compliance[level]`` — of the real incidents that held a running clock at a level, the share that
  did not breach it there (sla_breach from that level, overdue at city). Clocks still running count as
  compliant: run it on final states.
- ``resolve_p50`` / ``resolve_p90`` — opened → resolved (first resolution kept on the final state), nearest
  rank percentiles.
- ``reopen_rate`` — reopened incidents over incidents ever resolved (false closures).
- ``camera_precision[camera]`` — confirmed / (confirmed + false alarms) over the incidents holding that
  camera's alarms; pending ones are undecided and left out.
- ``repeat_hotspots`` — (grid, category, repeat-dispute openings), most first.
- ``verification_pending`` / ``verification_overdue`` — alarms still awaiting verification, and those whose
  verification task is overdue (its own SLA ran out at grid, then at the village).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Final
from uuid import UUID

from schemas.enums import IncidentStatus, Level, TransitionReason
from schemas.messages import Incident, Transition

__all__ = [
    "FengqiaoKpis",
    "camera_precision",
    "fengqiao_kpis",
    "latest",
    "percentile",
    "push_up_rate",
    "real_incidents",
    "reopen_rate",
    "repeat_hotspots",
    "resolve_times",
    "settled_share",
    "sla_compliance",
]

_S = IncidentStatus
_NOT_REAL: Final = frozenset({_S.FALSE_ALARM, _S.MERGED, _S.PENDING_VERIFICATION})
_SETTLED: Final = frozenset({_S.RESOLVED, _S.CLOSED})
_RUNNING: Final = frozenset({_S.PENDING_VERIFICATION, _S.OPEN, _S.IN_PROGRESS})
_PUSHES: Final = frozenset(
    {
        TransitionReason.SLA_BREACH,
        TransitionReason.HANDLER_REQUEST,
        TransitionReason.CLUSTER,
        TransitionReason.SEVERITY_UPGRADE,
    }
)


@dataclass(frozen=True, slots=True)
class FengqiaoKpis:
    """All KPIs of one run; ratios are None when their denominator is empty."""

    incidents: int
    real: int
    settled: int
    settled_at_village: float | None
    settled_at_township: float | None
    push_up_rate: float | None
    county_city_share: float | None
    sla_compliance: dict[Level, float | None]
    resolve_p50: timedelta | None
    resolve_p90: timedelta | None
    reopen_rate: float | None
    camera_precision: dict[str, float | None]
    repeat_hotspots: list[tuple[str, str, int]]
    # Verification tasks (low-confidence alarms) still awaiting the grid member, and those of them overdue
    # (their own SLA ran out at grid and again at the village: docs/policy.md).
    verification_pending: int = 0
    verification_overdue: int = 0


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def latest(incidents: Iterable[Incident]) -> list[Incident]:
    """One incident per id, the highest version (a compacted topic read from the start)."""
    best: dict[UUID, Incident] = {}
    for inc in incidents:
        seen = best.get(inc.incident_id)
        if seen is None or inc.version > seen.version:
            best[inc.incident_id] = inc
    return [best[i] for i in sorted(best, key=str)]


def real_incidents(incidents: Iterable[Incident]) -> list[Incident]:
    return [inc for inc in incidents if inc.status not in _NOT_REAL]


def settled_share(incidents: Iterable[Incident], at_or_below: Level) -> float | None:
    """Share of settled matters settled at ``at_or_below`` or lower."""
    settled = [inc for inc in real_incidents(incidents) if inc.status in _SETTLED]
    return _ratio(sum(1 for inc in settled if inc.level <= at_or_below), len(settled))


def push_up_rate(incidents: Iterable[Incident], transitions: Iterable[Transition]) -> float | None:
    real = {inc.incident_id for inc in real_incidents(incidents)}
    pushed = {
        t.incident_id
        for t in transitions
        if t.incident_id in real
        and t.reason in _PUSHES
        and t.from_level is not None
        and t.from_level < Level.COUNTY <= t.to_level
    }
    return _ratio(len(pushed), len(real))


def sla_compliance(
    incidents: Iterable[Incident], transitions: Iterable[Transition]
) -> dict[Level, float | None]:
    real = {inc.incident_id for inc in real_incidents(incidents)}
    held: dict[Level, set[UUID]] = defaultdict(set)
    breached: dict[Level, set[UUID]] = defaultdict(set)
    for t in transitions:
        if t.incident_id not in real:
            continue
        if t.to_status in _RUNNING:
            held[t.to_level].add(t.incident_id)
        if t.reason is TransitionReason.SLA_BREACH and t.from_level is not None:
            breached[t.from_level].add(t.incident_id)
        elif t.reason is TransitionReason.OVERDUE:
            breached[t.to_level].add(t.incident_id)
    return {
        level: _ratio(len(held[level] - breached[level]), len(held[level])) if held[level] else None
        for level in Level
    }


def resolve_times(incidents: Iterable[Incident]) -> list[timedelta]:
    return sorted(
        inc.resolved_at - inc.opened_at for inc in real_incidents(incidents) if inc.resolved_at is not None
    )


def percentile(values: Sequence[timedelta], p: float) -> timedelta | None:
    """Nearest-rank percentile of sorted ``values`` (the smallest value with at least p% at or below it)."""
    if not values:
        return None
    rank = max(1, math.ceil(p / 100 * len(values)))
    return values[rank - 1]


def reopen_rate(incidents: Iterable[Incident]) -> float | None:
    ever_resolved = [
        inc for inc in real_incidents(incidents) if inc.status in _SETTLED or inc.reopen_count > 0
    ]
    return _ratio(sum(1 for inc in ever_resolved if inc.reopen_count > 0), len(ever_resolved))


def camera_precision(incidents: Iterable[Incident], camera_of: Mapping[UUID, str]) -> dict[str, float | None]:
    """Per camera: confirmed / (confirmed + false alarms). ``camera_of`` maps alarm event id → camera id."""
    confirmed: Counter[str] = Counter()
    false: Counter[str] = Counter()
    cameras: set[str] = set()
    for inc in incidents:
        if inc.status in (_S.MERGED,):
            continue  # its evidence was copied to the survivor
        involved = {camera_of[e] for e in inc.source_event_ids if e in camera_of}
        cameras |= involved
        if inc.status is _S.PENDING_VERIFICATION:
            continue
        for camera in involved:
            if inc.status is _S.FALSE_ALARM:
                false[camera] += 1
            else:
                confirmed[camera] += 1
    return {c: _ratio(confirmed[c], confirmed[c] + false[c]) for c in sorted(cameras)}


def repeat_hotspots(
    incidents: Iterable[Incident], transitions: Iterable[Transition]
) -> list[tuple[str, str, int]]:
    where = {inc.incident_id: (inc.grid_code, inc.category) for inc in incidents}
    counts: Counter[tuple[str, str]] = Counter(
        where[t.incident_id]
        for t in transitions
        if t.reason is TransitionReason.REPEAT_DISPUTE and t.incident_id in where
    )
    return sorted(((g, c, n) for (g, c), n in counts.items()), key=lambda row: (-row[2], row[0], row[1]))


def fengqiao_kpis(
    incidents: Iterable[Incident],
    transitions: Iterable[Transition],
    camera_of: Mapping[UUID, str] | None = None,
) -> FengqiaoKpis:
    """Every KPI at once. ``incidents`` may hold several versions per incident: the latest counts."""
    final = latest(incidents)
    moves = list(transitions)
    real = real_incidents(final)
    times = resolve_times(final)
    return FengqiaoKpis(
        incidents=len(final),
        real=len(real),
        settled=sum(1 for inc in real if inc.status in _SETTLED),
        settled_at_village=settled_share(final, Level.VILLAGE),
        settled_at_township=settled_share(final, Level.TOWNSHIP),
        push_up_rate=push_up_rate(final, moves),
        county_city_share=_ratio(sum(1 for inc in real if inc.level >= Level.COUNTY), len(real)),
        sla_compliance=sla_compliance(final, moves),
        resolve_p50=percentile(times, 50),
        resolve_p90=percentile(times, 90),
        reopen_rate=reopen_rate(final),
        camera_precision=camera_precision(final, camera_of or {}),
        repeat_hotspots=repeat_hotspots(final, moves),
        verification_pending=sum(1 for inc in final if inc.status is _S.PENDING_VERIFICATION),
        verification_overdue=sum(1 for inc in final if inc.status is _S.PENDING_VERIFICATION and inc.overdue),
    )
