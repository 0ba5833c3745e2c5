"""The escalation state machine, one behaviour per test, driven by hand-written event sequences.

SLA arithmetic in the expectations is by hand from data/policy.toml and data/taxonomy.toml: default SLA
grid 4 h, village 24 h, township 72 h, county 7 d, city 14 d; ``fight`` township 4 h / county 12 h;
``fire`` county 6 h; ``intrusion`` village 4 h; severity 5 acknowledged within 15 min; a watermark is the
latest event or tick time minus 5 min.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar
from uuid import UUID

import pytest
from streams_factories import (
    COUNTY,
    GRID,
    GRID2,
    GRIDS,
    OTHER_GRID,
    TOWNSHIP,
    alert,
    at,
    disposition,
    eid,
    iid,
    report,
    tick,
)

from schemas.enums import AlertType, DispositionAction, IncidentStatus, Level, TransitionReason
from schemas.geography import CITY_CODE
from schemas.ids import transition_id_for
from schemas.messages import (
    CameraAlert,
    ClockTick,
    Disposition,
    GridReport,
    Incident,
    IntakeUnion,
    Transition,
)
from streams.core.escalation import Engine, event_time, step
from streams.core.outputs import ClusterSignal, DeadLetterRequest, ErrorClass, Output, SourceRef
from streams.core.state import PartitionState

OutT = TypeVar("OutT")
A = DispositionAction
S = IncidentStatus
R = TransitionReason
ENGINE = Engine.bundled()
H = timedelta(hours=1)
D = timedelta(days=1)


class Run:
    """Feeds events through the engine, keeping the state and every output."""

    def __init__(self, engine: Engine | None = None) -> None:
        engine = engine or ENGINE
        self.engine = engine
        self.state = engine.initial_state()
        self.outputs: list[Output] = []

    def __call__(self, *events: IntakeUnion) -> list[Output]:
        got: list[Output] = []
        for event in events:
            self.state, out = self.engine.step(self.state, event)
            got += out
        self.outputs += got
        return got

    def incident(self, incident_id: UUID) -> Incident:
        return self.state.incidents[incident_id].incident

    def transitions(self, incident_id: UUID | None = None) -> list[Transition]:
        return [
            o
            for o in self.outputs
            if isinstance(o, Transition) and (incident_id is None or o.incident_id == incident_id)
        ]


def daily(first: float, last: float) -> list[ClockTick]:
    """Clock ticks once a day from day ``first`` to day ``last``: the partition clock may not jump further
    than policy.future_event_bound in one step (it would be dead-lettered as future_event)."""
    return [tick(at(days=first + n)) for n in range(int(last - first) + 1)]


# A policy under which one tick may jump months, for the tests that show a jump's catch-up.
LOOSE = Engine(
    ENGINE.taxonomy,
    ENGINE.policy.model_copy(update={"future_event_bound": timedelta(days=365)}),
    ENGINE.geography,
)


def transitions(outputs: Iterable[Output]) -> list[Transition]:
    return [o for o in outputs if isinstance(o, Transition)]


def moves(outputs: Iterable[Output]) -> list[tuple[R, Level | None, Level, S]]:
    return [(t.reason, t.from_level, t.to_level, t.to_status) for t in transitions(outputs)]


def of_type(outputs: Iterable[Output], kind: type[OutT]) -> list[OutT]:
    return [o for o in outputs if isinstance(o, kind)]


# ---- initial routing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "level", "unit", "sla"),
    [
        pytest.param(report("r", at(), "neighbour"), Level.GRID, GRID, 4 * H, id="severity_1_to_grid"),
        pytest.param(
            report("r", at(), "medical"), Level.VILLAGE, GRID[:12], 24 * H, id="severity_2_to_village"
        ),
        pytest.param(
            report("r", at(), "fight"), Level.TOWNSHIP, GRID[:9], 4 * H, id="severity_3_to_township"
        ),
        pytest.param(report("r", at(), "fire"), Level.COUNTY, GRID[:6], 6 * H, id="severity_4_to_county"),
        pytest.param(
            report("r", at(), "neighbour", injured=10),
            Level.CITY,
            CITY_CODE,
            timedelta(minutes=15),
            id="severity_5_to_city_ack_in_15_min",
        ),
    ],
)
def test_initial_routing_by_severity(message: GridReport, level: Level, unit: str, sla: timedelta) -> None:
    run = Run()
    out = run(message)
    inc = run.incident(iid("r"))
    assert (inc.level, inc.handling_unit, inc.status) == (level, unit, S.OPEN)
    assert (inc.opened_at, inc.due_at, inc.version) == (at(), at() + sla, 1)
    assert inc.severity == int(level)
    (first,) = transitions(out)
    assert (first.seq, first.from_status, first.to_status, first.from_level, first.to_level) == (
        1,
        None,
        S.OPEN,
        None,
        level,
    )
    assert first.reason is R.INITIAL_ROUTING
    assert first.transition_id == transition_id_for(inc.incident_id, 1)
    assert first.source_event_id == eid("r")
    assert "E-ROUTE-001" in inc.reasons and f"C-LVL-00{int(level)}" in inc.reasons
    assert out[-1] == inc


def test_severity_5_records_that_the_county_is_notified() -> None:
    run = Run()
    run(report("r", at(), injured=10))
    assert {"C-LVL-005", "E-ROUTE-005"} <= set(run.incident(iid("r")).reasons)
    assert run.incident(iid("r")).county_code == COUNTY


# ---- SLA clocks ----------------------------------------------------------------------------------

# neighbour report at T0: due grid +4h, then +24h village, +72h township, +7d county, +14d city
CHAIN = [
    (at(hours=4), Level.GRID, Level.VILLAGE, at(hours=28)),
    (at(hours=28), Level.VILLAGE, Level.TOWNSHIP, at(hours=100)),
    (at(hours=100), Level.TOWNSHIP, Level.COUNTY, at(hours=268)),
    (at(hours=268), Level.COUNTY, Level.CITY, at(hours=604)),
]
LATENESS = timedelta(minutes=5)


@pytest.mark.parametrize("stage", range(len(CHAIN)), ids=[f"breach_at_{c[1].name.lower()}" for c in CHAIN])
def test_sla_breach_escalates_one_level(stage: int) -> None:
    run = Run()
    run(report("r", at()))
    for due, *_ in CHAIN[:stage]:
        run(tick(due + LATENESS))
    due, from_level, to_level, next_due = CHAIN[stage]
    assert transitions(run(tick(due + LATENESS - timedelta(seconds=1)))) == []  # watermark just short
    (breach,) = transitions(run(tick(due + LATENESS)))
    assert (breach.reason, breach.from_level, breach.to_level, breach.at) == (
        R.SLA_BREACH,
        from_level,
        to_level,
        due,
    )
    assert breach.rule_ids == ("E-SLA-001",)
    inc = run.incident(iid("r"))
    assert (inc.level, inc.due_at, inc.version) == (to_level, next_due, stage + 2)


def test_city_breach_marks_overdue_once() -> None:
    run = Run(LOOSE)  # the city's 14-day clock is passed by one tick
    run(report("r", at()))
    for due, *_ in CHAIN:
        run(tick(due + LATENESS))
    (overdue,) = transitions(run(tick(at(hours=604) + LATENESS)))
    assert (overdue.reason, overdue.from_level, overdue.to_level, overdue.at) == (
        R.OVERDUE,
        Level.CITY,
        Level.CITY,
        at(hours=604),
    )
    assert run.incident(iid("r")).overdue
    assert transitions(run(*daily(26, 200))) == []


def test_watermark_jump_climbs_each_level_at_its_own_deadline() -> None:
    run = Run(LOOSE)
    run(report("r", at()))
    out = run(tick(at(days=40)))
    assert [(t.reason, t.to_level, t.at) for t in transitions(out)] == [
        (R.SLA_BREACH, Level.VILLAGE, at(hours=4)),
        (R.SLA_BREACH, Level.TOWNSHIP, at(hours=28)),
        (R.SLA_BREACH, Level.COUNTY, at(hours=100)),
        (R.SLA_BREACH, Level.CITY, at(hours=268)),
        (R.OVERDUE, Level.CITY, at(hours=604)),
    ]
    assert [o.version for o in out if isinstance(o, Incident)] == [6]  # one snapshot per step


def test_resolved_incident_does_not_breach() -> None:
    run = Run()
    run(report("r", at()), disposition("d", iid("r"), A.RESOLVE, at(hours=3)))
    assert transitions(run(tick(at(days=3)))) == []
    assert run.incident(iid("r")).status is S.RESOLVED


def test_event_after_a_deadline_sees_the_breach_first() -> None:
    # No tick has passed the 4 h deadline, but an accept at 4 h 2 min comes after it in event time.
    run = Run()
    run(report("r", at()))
    out = run(disposition("d", iid("r"), A.ACCEPT, at(hours=4, minutes=2)))
    assert moves(out) == [
        (R.SLA_BREACH, Level.GRID, Level.VILLAGE, S.OPEN),
        (R.DISPOSITION, Level.VILLAGE, Level.VILLAGE, S.IN_PROGRESS),
    ]


def test_severity_5_acknowledged_in_time_runs_the_city_sla() -> None:
    run = Run()
    run(report("r", at(), injured=10))
    run(disposition("d", iid("r"), A.ACCEPT, at(10), unit_level=Level.CITY))
    inc = run.incident(iid("r"))
    assert (inc.status, inc.due_at, inc.overdue) == (S.IN_PROGRESS, at(days=14), False)
    assert transitions(run(tick(at(hours=1)))) == []


def test_severity_5_not_acknowledged_is_overdue() -> None:
    run = Run()
    run(report("r", at(), injured=10))
    (late,) = transitions(run(tick(at(20))))
    assert (late.reason, late.at) == (R.OVERDUE, at(15))


# ---- handler request -----------------------------------------------------------------------------


def test_handler_request_moves_one_level_up_with_a_new_clock() -> None:
    run = Run()
    run(report("r", at(), "medical"))
    (moved,) = transitions(run(disposition("d", iid("r"), A.REQUEST_ESCALATION, at(hours=1))))
    assert (moved.reason, moved.from_level, moved.to_level, moved.handling_unit) == (
        R.HANDLER_REQUEST,
        Level.VILLAGE,
        Level.TOWNSHIP,
        GRID[:9],
    )
    assert moved.rule_ids == ("D-ESC-001", "E-HND-001")
    assert run.incident(iid("r")).due_at == at(hours=1 + 72)


def test_handler_request_at_city_is_invalid() -> None:
    run = Run()
    run(report("r", at(), injured=10))
    out = run(disposition("d", iid("r"), A.REQUEST_ESCALATION, at(5)))
    (dead,) = of_type(out, DeadLetterRequest)
    assert dead.error_class is ErrorClass.INVALID_DISPOSITION
    assert transitions(out) == []


# ---- merging and severity upgrades ---------------------------------------------------------------


def test_alarm_and_compatible_report_merge_and_upgrade() -> None:
    run = Run()
    run(alert("a", at(), AlertType.FIGHT))  # fight, severity 3, township, due +4h
    out = run(report("r", at(5), "public_order", occurred=at(3)))  # public_safety group, severity 2
    assert moves(out) == [
        (R.MERGE, Level.TOWNSHIP, Level.TOWNSHIP, S.OPEN),
        (R.SEVERITY_UPGRADE, Level.TOWNSHIP, Level.COUNTY, S.OPEN),
    ]
    merge, upgrade = transitions(out)
    assert (merge.rule_ids, merge.source_event_id) == (("E-MRG-002",), eid("r"))
    assert upgrade.rule_ids == ("E-UPG-001",)
    inc = run.incident(iid("a"))
    assert (inc.severity, inc.level, inc.handling_unit) == (4, Level.COUNTY, GRID[:6])
    assert inc.source_event_ids == (eid("a"), eid("r"))
    assert inc.due_at == at(5) + 12 * H  # fight at county
    assert iid("r") not in run.state.incidents  # the report opened no incident of its own


def test_report_merged_into_an_alarm_takes_its_dispositions_along() -> None:
    run = Run()
    run(alert("a", at()), report("r", at(5), "fight"))
    (started,) = transitions(run(disposition("d", iid("r"), A.ACCEPT, at(10))))
    assert (started.incident_id, started.to_status) == (iid("a"), S.IN_PROGRESS)


def test_incompatible_report_opens_its_own_incident() -> None:
    run = Run()
    run(alert("a", at(), AlertType.FIGHT), report("r", at(5), "small_debt"))
    assert {iid("a"), iid("r")} <= set(run.state.incidents)


def test_report_outside_the_window_opens_its_own_incident() -> None:
    run = Run()
    run(alert("a", at(), AlertType.FIGHT), report("r", at(16), "fight"))
    assert run.incident(iid("r")).source_event_ids == (eid("r"),)


def test_report_in_another_grid_does_not_merge() -> None:
    run = Run()
    run(alert("a", at(), AlertType.FIGHT), report("r", at(2), "fight", grid=GRID2))
    assert iid("r") in run.state.incidents


def test_alarms_of_one_type_in_one_grid_merge_into_the_earlier() -> None:
    run = Run()
    run(alert("a1", at(), AlertType.CROWD_GATHERING))
    out = run(alert("a2", at(8), AlertType.CROWD_GATHERING))
    (merge,) = transitions(out)
    assert (merge.incident_id, merge.reason, merge.rule_ids) == (iid("a1"), R.MERGE, ("E-MRG-001",))
    run(alert("a3", at(17), AlertType.CROWD_GATHERING))  # 9 min after the last one: still the same crowd
    assert run.incident(iid("a1")).source_event_ids == (eid("a1"), eid("a2"), eid("a3"))
    assert not {iid("a2"), iid("a3")} & set(run.state.incidents)
    run(alert("b", at(18), AlertType.FIGHT))  # another type
    run(alert("a4", at(28), AlertType.CROWD_GATHERING))  # 11 min after the last crowd alarm
    assert {iid("b"), iid("a4")} <= set(run.state.incidents)


def test_more_severe_merged_alarm_raises_severity() -> None:
    run = Run()
    run(alert("a1", at(), AlertType.CROWD_GATHERING, objects=10))  # severity 2, village
    out = run(alert("a2", at(3), AlertType.CROWD_GATHERING, objects=60))  # severity 3
    assert moves(out)[-1] == (R.SEVERITY_UPGRADE, Level.VILLAGE, Level.TOWNSHIP, S.OPEN)
    assert transitions(out)[-1].rule_ids == ("E-UPG-002",)


def test_report_linking_two_incidents_merges_the_later_into_the_earlier() -> None:
    run = Run()
    run(alert("a1", at(), AlertType.FIGHT), alert("a2", at(12), AlertType.FIGHT))  # 12 min apart: two
    out = run(report("r", at(13), "fight"))
    merged = run.incident(iid("a2"))
    assert (merged.status, merged.merged_into) == (S.MERGED, iid("a1"))
    assert [(t.incident_id, t.reason, t.to_status) for t in transitions(out)] == [
        (iid("a2"), R.MERGE, S.MERGED),
        (iid("a1"), R.MERGE, S.OPEN),
        (iid("a1"), R.SEVERITY_UPGRADE, S.OPEN),
    ]
    survivor = run.incident(iid("a1"))
    assert survivor.source_event_ids == (eid("a1"), eid("a2"), eid("r"))
    # a disposition addressed to the merged incident applies to the survivor
    (started,) = transitions(run(disposition("d", iid("a2"), A.ACCEPT, at(20))))
    assert (started.incident_id, started.to_status) == (iid("a1"), S.IN_PROGRESS)


# ---- verification and false alarms ---------------------------------------------------------------


def test_low_confidence_alarm_waits_at_grid_for_verification() -> None:
    run = Run()
    run(alert("a", at(), AlertType.INTRUSION, confidence=0.4))
    inc = run.incident(iid("a"))
    # A verification task runs its own SLA (policy.verification_sla, 2 h), not the category's.
    assert (inc.status, inc.level, inc.due_at) == (S.PENDING_VERIFICATION, Level.GRID, at(hours=2))
    assert "E-VER-001" in inc.reasons


def test_verified_alarm_is_routed_by_severity() -> None:
    run = Run()
    run(alert("a", at(), AlertType.INTRUSION, confidence=0.4))
    (confirmed,) = transitions(run(disposition("d", iid("a"), A.VERIFY, at(30))))
    assert (confirmed.from_status, confirmed.to_status, confirmed.to_level, confirmed.reason) == (
        S.PENDING_VERIFICATION,
        S.OPEN,
        Level.VILLAGE,
        R.INITIAL_ROUTING,
    )
    assert confirmed.rule_ids[:2] == ("D-VER-001", "E-VER-002")
    assert run.incident(iid("a")).due_at == at(30) + 4 * H  # intrusion at village


def test_rejected_alarm_ends_as_false_alarm() -> None:
    run = Run()
    run(alert("a", at(), AlertType.INTRUSION, confidence=0.4))
    (rejected,) = transitions(run(disposition("d", iid("a"), A.REJECT_FALSE_ALARM, at(20))))
    assert (rejected.reason, rejected.to_status) == (R.FALSE_ALARM, S.FALSE_ALARM)
    assert transitions(run(tick(at(days=2)))) == []  # no SLA clock on a false alarm


def test_confident_open_alarm_can_be_rejected() -> None:
    run = Run()
    run(alert("a", at(), AlertType.ILLEGAL_DUMPING, confidence=0.9))
    (rejected,) = transitions(run(disposition("d", iid("a"), A.REJECT_FALSE_ALARM, at(20))))
    assert rejected.to_status is S.FALSE_ALARM


def test_incident_with_a_report_cannot_be_a_false_alarm() -> None:
    run = Run()
    run(alert("a", at(), AlertType.FIGHT), report("r", at(2), "fight"))
    out = run(disposition("d", iid("a"), A.REJECT_FALSE_ALARM, at(20)))
    assert [d.error_class for d in of_type(out, DeadLetterRequest)] == [ErrorClass.INVALID_DISPOSITION]


def test_report_corroborates_an_unverified_alarm() -> None:
    run = Run()
    run(alert("a", at(), AlertType.FIGHT, confidence=0.4))
    out = run(report("r", at(2), "fight"))
    assert moves(out) == [
        (R.MERGE, Level.GRID, Level.GRID, S.PENDING_VERIFICATION),
        (R.SEVERITY_UPGRADE, Level.GRID, Level.GRID, S.PENDING_VERIFICATION),
        (R.INITIAL_ROUTING, Level.GRID, Level.COUNTY, S.OPEN),
    ]
    assert transitions(out)[-1].rule_ids[0] == "E-VER-003"
    assert run.incident(iid("a")).due_at == at(2) + 12 * H


# ---- repeats and clusters ------------------------------------------------------------------------


def test_third_dispute_in_a_grid_within_the_window_opens_one_level_up() -> None:
    run = Run()
    run(report("r1", at()), *daily(1, 9), report("r2", at(days=10)))
    assert run.incident(iid("r2")).level is Level.GRID
    run(*daily(11, 19), report("r3", at(days=20)))
    (opened,) = run.transitions(iid("r3"))
    assert (opened.reason, opened.to_level) == (R.REPEAT_DISPUTE, Level.VILLAGE)
    assert "E-RPT-001" in opened.rule_ids
    assert run.incident(iid("r3")).due_at == at(days=21)


def test_disputes_spread_beyond_the_repeat_window_are_not_repeats() -> None:
    run = Run()
    run(
        report("r1", at()), *daily(1, 9), report("r2", at(days=10)), *daily(11, 30), report("r3", at(days=31))
    )
    assert run.incident(iid("r3")).level is Level.GRID


def test_other_categories_and_grids_do_not_count_as_repeats() -> None:
    run = Run()
    run(report("r1", at()), report("r2", at(hours=1), "small_debt"), report("r3", at(hours=2), grid=GRID2))
    run(report("r4", at(hours=3)))
    assert run.incident(iid("r4")).level is Level.GRID


def test_cluster_in_a_township_signals_and_escalates_to_county() -> None:
    run = Run()
    for n in range(4):
        run(report(f"f{n}", at(10 * n), "fight", grid=GRIDS[n]))
    out = run(report("f4", at(40), "fight", grid=GRIDS[4]))
    (signal,) = of_type(out, ClusterSignal)
    assert (signal.township_code, signal.county_code, signal.category, signal.count) == (
        TOWNSHIP,
        COUNTY,
        "fight",
        5,
    )
    assert signal.incident_ids == tuple(iid(f"f{n}") for n in range(5))
    assert (signal.window_start, signal.at) == (at(40) - H, at(40))
    assert moves(out) == [
        (R.INITIAL_ROUTING, None, Level.TOWNSHIP, S.OPEN),
        (R.CLUSTER, Level.TOWNSHIP, Level.COUNTY, S.OPEN),
    ]
    assert run.incident(iid("f4")).due_at == at(40) + 12 * H
    # the cluster goes on: the next incident is escalated too, but the county is not signalled twice
    out = run(report("f5", at(50), "fight", grid=GRIDS[5]))
    assert of_type(out, ClusterSignal) == []
    assert moves(out)[-1][0] is R.CLUSTER
    # earlier members stay where they are
    assert run.incident(iid("f0")).level is Level.TOWNSHIP


def test_incidents_in_another_township_do_not_cluster() -> None:
    run = Run()
    for n in range(4):
        run(report(f"f{n}", at(10 * n), "fight", grid=GRIDS[n]))
    out = run(report("f4", at(40), "fight", grid=OTHER_GRID))
    assert of_type(out, ClusterSignal) == []


# ---- dispositions --------------------------------------------------------------------------------


def test_disposition_lifecycle_and_reopening() -> None:
    run = Run()
    run(report("r", at()))
    out = run(
        disposition("d1", iid("r"), A.ACCEPT, at(10)),
        disposition("d2", iid("r"), A.PROGRESS, at(20)),  # already in progress: nothing to record
        disposition("d3", iid("r"), A.RESOLVE, at(hours=2)),
    )
    assert [t.to_status for t in transitions(out)] == [S.IN_PROGRESS, S.RESOLVED]
    assert run.incident(iid("r")).resolved_at == at(hours=2)
    (reopened,) = transitions(run(disposition("d4", iid("r"), A.REOPEN, at(hours=5))))
    assert (reopened.reason, reopened.from_status, reopened.to_status) == (R.REOPEN, S.RESOLVED, S.OPEN)
    inc = run.incident(iid("r"))
    assert (inc.reopen_count, inc.resolved_at, inc.due_at) == (1, None, at(hours=9))
    # the new clock runs: unresolved 4 h after the reopen → village
    (breach,) = transitions(run(tick(at(hours=9) + LATENESS)))
    assert (breach.reason, breach.at) == (R.SLA_BREACH, at(hours=9))


def test_closed_incident_can_be_reopened() -> None:
    run = Run()
    run(
        report("r", at()),
        disposition("d1", iid("r"), A.RESOLVE, at(30)),
        disposition("d2", iid("r"), A.VERIFY, at(60)),
    )
    assert run.incident(iid("r")).status is S.CLOSED
    (reopened,) = transitions(run(disposition("d3", iid("r"), A.REOPEN, at(days=2))))
    assert (reopened.from_status, reopened.to_status) == (S.CLOSED, S.OPEN)


def test_stale_feedback_after_resolution_changes_nothing() -> None:
    run = Run()
    run(report("r", at()), disposition("d1", iid("r"), A.RESOLVE, at(30)))
    out = run(
        disposition("d2", iid("r"), A.PROGRESS, at(31)),
        disposition("d3", iid("r"), A.ACCEPT, at(32)),
        disposition("d4", iid("r"), A.RESOLVE, at(33)),
    )
    assert out == []
    assert run.incident(iid("r")).status is S.RESOLVED


def test_disallowed_action_is_dead_lettered_with_its_source() -> None:
    run = Run()
    run(report("r", at()))
    ref = SourceRef("intake.dispositions", 3, 17)
    state, out = ENGINE.step(run.state, disposition("d", iid("r"), A.VERIFY, at(5)), ref)
    assert state.incidents == run.state.incidents
    # verify on an open incident is harmless and changes nothing; resolve→reopen on open is not allowed
    assert out == ()
    state, out = ENGINE.step(state, disposition("d2", iid("r"), A.REOPEN, at(6)), ref)
    (dead,) = out
    assert isinstance(dead, DeadLetterRequest)
    assert (dead.error_class, dead.ref) == (ErrorClass.INVALID_DISPOSITION, ref)


def test_disposition_before_its_incident_waits_then_applies() -> None:
    run = Run()
    assert run(disposition("d", iid("r"), A.ACCEPT, at(1))) == []
    assert iid("r") in run.state.pending
    out = run(report("r", at()))
    assert moves(out) == [
        (R.INITIAL_ROUTING, None, Level.GRID, S.OPEN),
        (R.DISPOSITION, Level.GRID, Level.GRID, S.IN_PROGRESS),
    ]
    assert transitions(out)[-1].source_event_id == eid("d")
    assert iid("r") not in run.state.pending


def test_disposition_for_an_unknown_incident_is_dead_lettered_after_the_bound() -> None:
    run = Run()
    ref = SourceRef("intake.dispositions", 0, 5)
    run.state, _ = ENGINE.step(run.state, disposition("d", iid("ghost"), A.RESOLVE, at()), ref)
    assert run(tick(at(hours=2, minutes=4))) == []  # watermark 1 h 59 min
    (dead,) = run(tick(at(hours=2, minutes=5)))
    assert isinstance(dead, DeadLetterRequest)
    assert (dead.error_class, dead.at, dead.ref) == (ErrorClass.UNKNOWN_INCIDENT, at(hours=2), ref)
    assert isinstance(dead.message, Disposition) and dead.message.event_id == eid("d")
    assert len(run.state.pending) == 0


def test_incident_appearing_after_the_bound_does_not_take_the_disposition() -> None:
    # No tick: the report itself is past the bound in event time, so the outcome is the same as with ticks.
    run = Run()
    run(disposition("d", iid("r"), A.ACCEPT, at()))
    out = run(report("r", at(hours=2, minutes=1)))
    assert [d.error_class for d in of_type(out, DeadLetterRequest)] == [ErrorClass.UNKNOWN_INCIDENT]
    assert run.incident(iid("r")).status is S.OPEN


# ---- input hygiene -------------------------------------------------------------------------------


def test_duplicate_input_is_ignored() -> None:
    run = Run()
    run(report("r", at()), disposition("d", iid("r"), A.ACCEPT, at(5)))
    before = run.state
    for again in (report("r", at()), disposition("d", iid("r"), A.ACCEPT, at(5))):
        state, out = ENGINE.step(before, again)
        assert out == ()
        assert state is before


def test_event_beyond_the_dedup_horizon_is_dead_lettered_as_late() -> None:
    run = Run()
    run(report("r1", at()), tick(at(hours=7)))  # watermark 6 h 55 min; dedup window 6 h
    (dead,) = run(report("r2", at(50)))
    assert isinstance(dead, DeadLetterRequest) and dead.error_class is ErrorClass.LATE_EVENT
    assert iid("r3") not in run.state.incidents
    run(report("r3", at(56)))  # within the horizon: late, but applied
    assert iid("r3") in run.state.incidents


def test_step_leaves_its_input_state_untouched() -> None:
    run = Run()
    run(report("r", at()))
    frozen = run.state.to_json()
    first = ENGINE.step(run.state, alert("a", at(3)))
    second = ENGINE.step(run.state, alert("a", at(3)))
    assert run.state.to_json() == frozen
    assert first[1] == second[1]
    assert first[0].to_json() == second[0].to_json()


def test_module_level_step_uses_the_bundled_engine() -> None:
    state, out = step(PartitionState(), report("r", at()))
    assert iid("r") in state.incidents and len(out) == 2


# ---- whole scenarios: determinism, tick invariance, bounded state, serialisation -----------------


def scenario(seed: int = 7, count: int = 400) -> list[GridReport | CameraAlert | Disposition]:
    """A random but reproducible two days of reports, alarms and dispositions, in event-time order."""
    rng = random.Random(seed)
    categories = ["neighbour", "fight", "public_order", "labour", "fire_hazard", "medical"]
    alarm_types = [AlertType.FIGHT, AlertType.CROWD_GATHERING, AlertType.INTRUSION]
    events: list[GridReport | CameraAlert | Disposition] = []
    grid_of: dict[str, str] = {}  # event name → grid, so dispositions go to the incident's grid
    when = at()
    for n in range(count):
        when += timedelta(minutes=rng.randint(0, 12))
        grid = rng.choice(GRIDS[:4])
        roll = rng.random()
        if roll < 0.35:
            name = f"r{n}"
            category = rng.choice(categories)
            events.append(report(name, when, category, grid=grid, injured=rng.choice([0, 0, 1])))
            grid_of[name] = grid
        elif roll < 0.65:
            name = f"a{n}"
            kind = rng.choice(alarm_types)
            confidence = rng.choice([0.3, 0.7, 0.95])
            objects = rng.choice([3, 60])
            events.append(alert(name, when, kind, grid=grid, confidence=confidence, objects=objects))
            grid_of[name] = grid
        else:
            if grid_of and rng.random() < 0.9:
                target = rng.choice(sorted(grid_of))
                incident, grid = iid(target), grid_of[target]
            else:
                incident = iid(f"nobody{n}")
            action = rng.choice(list(DispositionAction))
            events.append(disposition(f"d{n}", incident, action, when, grid=grid))
    return events


def run_all(events: Iterable[IntakeUnion], engine: Engine = ENGINE) -> tuple[PartitionState, list[Output]]:
    state, outputs = engine.initial_state(), list[Output]()
    for event in events:
        state, out = engine.step(state, event)
        outputs += out
    return state, outputs


def with_ticks(
    events: list[GridReport | CameraAlert | Disposition], every: int, *, ahead: bool = False
) -> list[IntakeUnion]:
    """The events with a clock tick after every ``every`` of them.

    The tick is at the last event's time, or with ``ahead`` as far ahead as the contract allows: the next
    event's time plus the allowed lateness (no later message is older than ``at - allowed_lateness``).
    """
    out: list[IntakeUnion] = []
    for n, event in enumerate(events):
        out.append(event)
        if n % every == every - 1 and n + 1 < len(events):
            when = event_time(events[n + 1]) + LATENESS if ahead else event_time(event)
            out.append(tick(when, seq=n))
    return out


def final_incidents(outputs: Iterable[Output]) -> dict[UUID, Incident]:
    last: dict[UUID, Incident] = {}
    for o in outputs:
        if isinstance(o, Incident):
            last[o.incident_id] = o
    return last


def decisions(outputs: list[Output]) -> tuple[object, ...]:
    """Everything decided, independent of how the decisions were grouped into steps."""
    return (
        sorted((t.incident_id.hex, t.seq, t.model_dump_json()) for t in transitions(outputs)),
        {k: v.model_dump_json() for k, v in final_incidents(outputs).items()},
        sorted(repr(o) for o in outputs if isinstance(o, ClusterSignal | DeadLetterRequest)),
    )


def test_scenario_exercises_every_kind_of_decision() -> None:
    _, outputs = run_all([*scenario(), tick(at(days=3))])
    reasons = {t.reason for t in transitions(outputs)}
    assert reasons >= {
        R.INITIAL_ROUTING,
        R.SLA_BREACH,
        R.MERGE,
        R.SEVERITY_UPGRADE,
        R.DISPOSITION,
        R.FALSE_ALARM,
    }
    assert {o.error_class for o in outputs if isinstance(o, DeadLetterRequest)} >= {
        ErrorClass.INVALID_DISPOSITION,
        ErrorClass.UNKNOWN_INCIDENT,
    }


def test_same_input_gives_identical_output() -> None:
    events = [*scenario(), tick(at(days=3))]
    state1, out1 = run_all(events)
    state2, out2 = run_all(events)
    assert out1 == out2
    assert state1.to_json() == state2.to_json()


@pytest.mark.parametrize(
    ("seed", "every", "ahead"),
    [(7, 1, False), (7, 3, True), (11, 5, False), (11, 1, True), (23, 2, True)],
)
def test_clock_ticks_change_when_decisions_are_emitted_not_what_they_are(
    seed: int, every: int, ahead: bool
) -> None:
    events = scenario(seed=seed, count=250)
    end = daily(3, 40)
    _, sparse = run_all([*events, *end])
    _, dense = run_all([*with_ticks(events, every, ahead=ahead), *end])
    assert decisions(sparse) == decisions(dense)


_DIGEST_SCRIPT = """
import hashlib, sys
sys.path.insert(0, sys.argv[1])
from test_escalation import at, run_all, scenario, tick, with_ticks
_, outputs = run_all([*with_ticks(scenario(seed=3, count=150), 4, ahead=True), tick(at(days=10))])
digest = hashlib.sha256()
for o in outputs:
    digest.update(o.model_dump_json().encode() if hasattr(o, "model_dump_json") else repr(o).encode())
print(digest.hexdigest())
"""


def test_outputs_do_not_depend_on_the_hash_seed() -> None:
    # str hashes are randomised per process; no decision may follow hash order (streams.core.pmap).
    here = str(Path(__file__).resolve().parent)
    digests = {
        subprocess.run(
            [sys.executable, "-c", _DIGEST_SCRIPT, here],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1


def test_outputs_are_valid_messages() -> None:
    _, outputs = run_all([*scenario(count=150), tick(at(days=30))])
    for o in outputs:
        if isinstance(o, Incident | Transition):
            assert type(o).model_validate_json(o.model_dump_json()) == o


def test_incident_version_counts_its_transitions() -> None:
    _, outputs = run_all([*scenario(count=200), tick(at(days=30))])
    seqs: dict[UUID, list[int]] = {}
    for t in transitions(outputs):
        seqs.setdefault(t.incident_id, []).append(t.seq)
    for incident_id, numbers in seqs.items():
        assert numbers == list(range(1, len(numbers) + 1))
        assert final_incidents(outputs)[incident_id].version == numbers[-1]


def test_state_is_bounded_in_event_time() -> None:
    state, _ = run_all([*scenario(), tick(at(days=3))])
    assert len(state.incidents) > 0 and len(state.grids) > 0
    for clock in daily(4, 120):
        state, _ = ENGINE.step(state, clock)
    assert state.size() == dict.fromkeys(state.size(), 0)


def test_state_round_trips_through_json_and_resumes_identically() -> None:
    events = [*scenario(), tick(at(days=5))]
    half = len(events) // 2
    state, _ = run_all(events[:half])
    restored = PartitionState.from_json(state.to_json())
    assert restored.to_json() == state.to_json()
    rest_a: list[Output] = []
    rest_b: list[Output] = []
    a, b = state, restored
    for event in events[half:]:
        a, out_a = ENGINE.step(a, event)
        b, out_b = ENGINE.step(b, event)
        rest_a += out_a
        rest_b += out_b
    assert rest_a == rest_b


def test_changes_since_names_the_pieces_a_step_touched() -> None:
    run = Run()
    run(report("r0", at()))
    before = run.state
    run(report("r", at(1), grid=GRID2))
    changes = run.state.changes_since(before)
    assert changes.changed["incidents"] == [iid("r")]
    assert changes.changed["grids"] == [GRID2]
    assert changes.changed["townships"] == [TOWNSHIP]
    assert changes.changed["seen"] == [eid("r")]
    assert changes.removed["incidents"] == []
    assert changes.changed["timers"] and changes.clock
    assert run.state.changes_since(run.state).empty
