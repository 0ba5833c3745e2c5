"""Boundary matters (issue 13, item 10): a merge that joins grids goes to their lowest common ancestor.

A grid report of a category compatible with an open camera alarm in another grid of the same township,
within policy.boundary_merge_window and policy.boundary_merge_radius_m of the alarm, merges with it; the
survivor is then handled at least at the level of the unit holding both grids (rule E-MRG-005).
``illegal_dumping`` is severity 1 (grid level); a report joining an alarm raises it once to 2 (village).
"""

from __future__ import annotations

import math

from streams_factories import GEO, TOWNSHIP, alert, at, eid, iid, report

from schemas.enums import AlertType, Level, TransitionReason
from schemas.messages import GridReport, Incident, IntakeUnion, Transition
from schemas.point import GeoPoint
from streams.core.escalation import Engine
from streams.core.outputs import Output

ENGINE = Engine.bundled()
R = TransitionReason

_VILLAGES = sorted({u.code[:12] for u in GEO.grids() if u.code.startswith(TOWNSHIP)})
V1_GRIDS = [u.code for u in GEO.grids() if u.code.startswith(_VILLAGES[0])]
V2_GRIDS = [u.code for u in GEO.grids() if u.code.startswith(_VILLAGES[1])]


def _run(*events: IntakeUnion) -> tuple[list[Output], dict[str, Incident]]:
    state, outputs = ENGINE.initial_state(), list[Output]()
    for event in events:
        state, out = ENGINE.step(state, event)
        outputs += out
    return outputs, {str(k): v.incident for k, v in state.incidents.items()}


def _at_point(msg: GridReport, point: GeoPoint) -> GridReport:
    """The report, filed in its own grid about a spot at ``point`` (next to the boundary)."""
    return GridReport.model_validate({**msg.model_dump(), "location": point})


def _metres(a: GeoPoint, b: GeoPoint) -> float:
    dy = (a.lat - b.lat) * 111_320
    dx = (a.lon - b.lon) * 111_320 * math.cos(math.radians((a.lat + b.lat) / 2))
    return math.hypot(dx, dy)


def _merge_case(alarm_grid: str, report_grid: str) -> tuple[list[Output], dict[str, Incident]]:
    spot = GEO.unit(alarm_grid).centroid
    return _run(
        alert("a", at(), AlertType.ILLEGAL_DUMPING, grid=alarm_grid),
        _at_point(report("r", at(4), "illegal_dumping", grid=report_grid), spot),
    )


def test_two_villages_of_one_township_go_to_the_township() -> None:
    outputs, incidents = _merge_case(V1_GRIDS[0], V2_GRIDS[0])
    assert str(iid("r")) not in incidents  # merged: the report opened nothing of its own
    inc = incidents[str(iid("a"))]
    assert (inc.level, inc.handling_unit) == (Level.TOWNSHIP, TOWNSHIP)
    assert inc.source_event_ids == (eid("a"), eid("r"))
    merge = next(o for o in outputs if isinstance(o, Transition) and o.reason is R.MERGE)
    assert (merge.from_level, merge.to_level) == (Level.GRID, Level.TOWNSHIP)
    assert "E-MRG-005" in merge.rule_ids and merge.handling_unit == TOWNSHIP
    assert "E-MRG-005" in inc.reasons


def test_two_grids_of_one_village_go_to_the_village() -> None:
    outputs, incidents = _merge_case(V1_GRIDS[0], V1_GRIDS[1])
    inc = incidents[str(iid("a"))]
    assert (inc.level, inc.handling_unit) == (Level.VILLAGE, _VILLAGES[0])
    merge = next(o for o in outputs if isinstance(o, Transition) and o.reason is R.MERGE)
    assert "E-MRG-005" in merge.rule_ids and merge.handling_unit == _VILLAGES[0]


def test_a_merge_never_lowers_the_level_below_what_an_incident_reached() -> None:
    # A fight alarm (severity 3) is at township already; joining a grid of another village keeps it there.
    spot = GEO.unit(V1_GRIDS[0]).centroid
    _, incidents = _run(
        alert("a", at(), AlertType.FIGHT, grid=V1_GRIDS[0]),
        _at_point(report("r", at(4), "neighbour", grid=V2_GRIDS[0]), spot),
    )
    inc = incidents[str(iid("a"))]
    assert inc.level >= Level.TOWNSHIP and inc.handling_unit.startswith(TOWNSHIP[:6])


def test_a_report_beyond_the_radius_opens_its_own_incident() -> None:
    far = GEO.unit(V2_GRIDS[0]).centroid
    assert _metres(far, GEO.unit(V1_GRIDS[0]).centroid) > ENGINE.policy.boundary_merge_radius_m
    _, incidents = _run(
        alert("a", at(), AlertType.ILLEGAL_DUMPING, grid=V1_GRIDS[0]),
        _at_point(report("r", at(4), "illegal_dumping", grid=V2_GRIDS[0]), far),
    )
    assert str(iid("r")) in incidents and incidents[str(iid("a"))].level == Level.GRID


def test_a_report_outside_the_window_opens_its_own_incident() -> None:
    late = at(1) + ENGINE.policy.boundary_merge_window
    spot = GEO.unit(V1_GRIDS[0]).centroid
    _, incidents = _run(
        alert("a", at(), AlertType.ILLEGAL_DUMPING, grid=V1_GRIDS[0]),
        _at_point(report("r", late, "illegal_dumping", grid=V2_GRIDS[0]), spot),
    )
    assert str(iid("r")) in incidents
