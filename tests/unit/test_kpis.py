"""Fengqiao KPIs on a small hand-made scenario; every expected number is worked out in the comments."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest
from streams_factories import GRID, GRID2, at, eid, iid

from schemas.enums import IncidentStatus, Level, MessageStatus, TransitionReason
from schemas.geography import CITY_CODE
from schemas.ids import transition_id_for
from schemas.messages import Incident, Transition
from streams.core.kpis import fengqiao_kpis, latest, percentile

S = IncidentStatus
R = TransitionReason
L = Level
H = timedelta(hours=1)


def unit(grid: str, level: Level) -> str:
    return CITY_CODE if level == Level.CITY else grid[: 3 + 3 * (5 - level)]


def incident(
    name: str,
    category: str,
    level: Level,
    status: IncidentStatus,
    *,
    resolved_after: timedelta | None = None,
    reopen_count: int = 0,
    sources: tuple[str, ...] = (),
    merged_into: str | None = None,
    version: int = 3,
    grid: str = GRID,
) -> Incident:
    return Incident(
        message_status=MessageStatus.EXERCISE,
        incident_id=iid(name),
        category=category,
        severity=min(int(level), 5),
        grid_code=grid,
        township_code=grid[:9],
        county_code=grid[:6],
        level=level,
        handling_unit=unit(grid, level),
        status=status,
        source_event_ids=tuple(eid(s) for s in (sources or (name,))),
        opened_at=at(),
        due_at=at(hours=4),
        resolved_at=None if resolved_after is None else at() + resolved_after,
        updated_at=at(hours=60),
        version=version,
        reasons=(),
        reopen_count=reopen_count,
        merged_into=None if merged_into is None else iid(merged_into),
    )


def moves(
    name: str, *steps: tuple[R, Level | None, Level, IncidentStatus], grid: str = GRID
) -> list[Transition]:
    out = []
    previous: IncidentStatus | None = None
    for seq, (reason, from_level, to_level, to_status) in enumerate(steps, start=1):
        out.append(
            Transition(
                status=MessageStatus.EXERCISE,
                transition_id=transition_id_for(iid(name), seq),
                incident_id=iid(name),
                seq=seq,
                from_status=previous,
                to_status=to_status,
                from_level=from_level,
                to_level=to_level,
                reason=reason,
                at=at(hours=seq),
                rule_ids=(),
                handling_unit=unit(grid, to_level),
            )
        )
        previous = to_status
    return out


INCIDENTS = [
    incident("A", "neighbour", L.GRID, S.OPEN, version=1),  # an older snapshot of A: the latest counts
    incident("A", "neighbour", L.GRID, S.CLOSED, resolved_after=2 * H),
    incident("B", "small_debt", L.VILLAGE, S.RESOLVED, resolved_after=10 * H),
    incident("C", "medical", L.VILLAGE, S.CLOSED, resolved_after=20 * H, reopen_count=1),
    incident("D", "fight", L.TOWNSHIP, S.RESOLVED, resolved_after=30 * H),
    incident("E", "labour", L.COUNTY, S.RESOLVED, resolved_after=50 * H),
    incident("F", "fire", L.COUNTY, S.IN_PROGRESS),
    incident("G", "intrusion", L.GRID, S.FALSE_ALARM, sources=("g-alarm",)),
    incident("H", "fight", L.COUNTY, S.IN_PROGRESS, sources=("h-alarm", "j-alarm")),
    incident("I", "crowd_gathering", L.GRID, S.PENDING_VERIFICATION, sources=("i-alarm",)),
    incident("J", "fight", L.TOWNSHIP, S.MERGED, sources=("j-alarm",), merged_into="H"),
    incident("K", "neighbour", L.VILLAGE, S.IN_PROGRESS, grid=GRID2),
]
TRANSITIONS = [
    *moves("A", (R.INITIAL_ROUTING, None, L.GRID, S.OPEN), (R.DISPOSITION, L.GRID, L.GRID, S.RESOLVED)),
    *moves(
        "B",
        (R.INITIAL_ROUTING, None, L.GRID, S.OPEN),
        (R.SLA_BREACH, L.GRID, L.VILLAGE, S.OPEN),
        (R.DISPOSITION, L.VILLAGE, L.VILLAGE, S.RESOLVED),
    ),
    *moves(
        "C",
        (R.INITIAL_ROUTING, None, L.VILLAGE, S.OPEN),
        (R.DISPOSITION, L.VILLAGE, L.VILLAGE, S.RESOLVED),
        (R.REOPEN, L.VILLAGE, L.VILLAGE, S.OPEN),
        (R.DISPOSITION, L.VILLAGE, L.VILLAGE, S.RESOLVED),
        (R.DISPOSITION, L.VILLAGE, L.VILLAGE, S.CLOSED),
    ),
    *moves(
        "D",
        (R.INITIAL_ROUTING, None, L.TOWNSHIP, S.OPEN),
        (R.DISPOSITION, L.TOWNSHIP, L.TOWNSHIP, S.RESOLVED),
    ),
    *moves(
        "E",
        (R.INITIAL_ROUTING, None, L.VILLAGE, S.OPEN),
        (R.SLA_BREACH, L.VILLAGE, L.TOWNSHIP, S.OPEN),
        (R.HANDLER_REQUEST, L.TOWNSHIP, L.COUNTY, S.IN_PROGRESS),
        (R.DISPOSITION, L.COUNTY, L.COUNTY, S.RESOLVED),
    ),
    *moves(
        "F", (R.INITIAL_ROUTING, None, L.COUNTY, S.OPEN), (R.DISPOSITION, L.COUNTY, L.COUNTY, S.IN_PROGRESS)
    ),
    *moves(
        "G",
        (R.INITIAL_ROUTING, None, L.GRID, S.PENDING_VERIFICATION),
        (R.FALSE_ALARM, L.GRID, L.GRID, S.FALSE_ALARM),
    ),
    *moves(
        "H",
        (R.INITIAL_ROUTING, None, L.TOWNSHIP, S.OPEN),
        (R.MERGE, L.TOWNSHIP, L.TOWNSHIP, S.OPEN),
        (R.SLA_BREACH, L.TOWNSHIP, L.COUNTY, S.OPEN),
        (R.DISPOSITION, L.COUNTY, L.COUNTY, S.IN_PROGRESS),
    ),
    *moves("I", (R.INITIAL_ROUTING, None, L.GRID, S.PENDING_VERIFICATION)),
    *moves("J", (R.INITIAL_ROUTING, None, L.TOWNSHIP, S.OPEN), (R.MERGE, L.TOWNSHIP, L.TOWNSHIP, S.MERGED)),
    *moves(
        "K",
        (R.REPEAT_DISPUTE, None, L.VILLAGE, S.OPEN),
        (R.DISPOSITION, L.VILLAGE, L.VILLAGE, S.IN_PROGRESS),
        grid=GRID2,
    ),
]
CAMERA_OF: dict[UUID, str] = {
    eid("g-alarm"): "CAM-1",
    eid("h-alarm"): "CAM-1",
    eid("j-alarm"): "CAM-2",
    eid("i-alarm"): "CAM-3",
}

KPIS = fengqiao_kpis(INCIDENTS, TRANSITIONS, CAMERA_OF)


def test_counts() -> None:
    # 11 incidents (A counted once); real = all but G (false alarm), I (pending) and J (merged) = 8;
    # settled = A, B, C, D, E = 5
    assert (KPIS.incidents, KPIS.real, KPIS.settled) == (11, 8, 5)


def test_small_matters_stay_in_the_village() -> None:
    # settled at grid or village: A (grid), B, C (village) → 3 of 5
    assert KPIS.settled_at_village == pytest.approx(3 / 5)


def test_big_matters_stay_in_the_township() -> None:
    # settled at or below township: A, B, C, D → 4 of 5
    assert KPIS.settled_at_township == pytest.approx(4 / 5)


def test_push_up_rate_counts_escalations_into_county_only() -> None:
    # pushed into county from below after opening: E (handler request), H (SLA breach) → 2 of 8 real;
    # F started at county (initial routing) and is not a push-up
    assert KPIS.push_up_rate == pytest.approx(2 / 8)
    # final level county or city: E, F, H → 3 of 8
    assert KPIS.county_city_share == pytest.approx(3 / 8)


def test_sla_compliance_by_level() -> None:
    # grid: A, B held a clock there, B breached → 1/2
    # village: B, C, E, K held one, E breached → 3/4
    # township: D, E, H held one, H breached (E left by handler request) → 2/3
    # county: E, F, H, none breached → 1; city: nobody → None
    assert KPIS.sla_compliance == {
        L.GRID: pytest.approx(1 / 2),
        L.VILLAGE: pytest.approx(3 / 4),
        L.TOWNSHIP: pytest.approx(2 / 3),
        L.COUNTY: 1.0,
        L.CITY: None,
    }


def test_time_to_resolve_percentiles() -> None:
    # resolve times 2, 10, 20, 30, 50 h; nearest rank: p50 → rank ceil(2.5) = 3 → 20 h, p90 → rank 5 → 50 h
    assert (KPIS.resolve_p50, KPIS.resolve_p90) == (20 * H, 50 * H)


def test_reopen_rate() -> None:
    # ever resolved: A, B, C, D, E; reopened: C → 1 of 5
    assert KPIS.reopen_rate == pytest.approx(1 / 5)


def test_camera_precision() -> None:
    # CAM-1: G false alarm, H confirmed → 1/2; CAM-2: its alarm merged into H (confirmed) → 1/1;
    # CAM-3: only I, still pending → undecided
    assert KPIS.camera_precision == {"CAM-1": pytest.approx(0.5), "CAM-2": 1.0, "CAM-3": None}


def test_repeat_hotspots() -> None:
    assert KPIS.repeat_hotspots == [(GRID2, "neighbour", 1)]


def test_latest_keeps_the_highest_version() -> None:
    final = {inc.incident_id: inc for inc in latest(INCIDENTS)}
    assert final[iid("A")].status is S.CLOSED


def test_percentile_of_nothing_is_none() -> None:
    assert percentile([], 50) is None
    assert percentile([H], 90) == H


def test_empty_run_has_no_ratios() -> None:
    empty = fengqiao_kpis([], [])
    assert (empty.incidents, empty.settled_at_village, empty.push_up_rate, empty.reopen_rate) == (
        0,
        None,
        None,
        None,
    )
