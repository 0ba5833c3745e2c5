"""Defects of issue 13 in how the core applies the policy, one test per defect (each failed before its fix).

1. a merge keeps the highest level any merged incident had reached;
2. an incident changed and evicted in one step still emits its last version;
3. an event or tick too far ahead of the partition's clock is dead-lettered (future_event), moves no clock;
4. an unverified alarm climbs once, to village, and is then overdue — never county or city;
5. a severity-5 matter notifies its county, on the transition and the incident.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from streams_factories import COUNTY, alert, at, disposition, iid, report, tick

from schemas.enums import AlertType, DispositionAction, IncidentStatus, Level, TransitionReason
from schemas.geography import geography
from schemas.messages import ClockTick, GridReport, Incident, IntakeUnion, Transition
from schemas.policy import policy
from schemas.taxonomy import taxonomy
from streams.core.escalation import Engine
from streams.core.kpis import fengqiao_kpis
from streams.core.outputs import DeadLetterRequest, ErrorClass, Output
from streams.core.sequencer import Sequencer

A = DispositionAction
S = IncidentStatus
R = TransitionReason
ENGINE = Engine.bundled()


def run_all(events: list[IntakeUnion], engine: Engine = ENGINE) -> list[Output]:
    state = engine.initial_state()
    outputs: list[Output] = []
    for event in events:
        state, out = engine.step(state, event)
        outputs += out
    return outputs


def last_incident(outputs: list[Output], incident_id: object) -> Incident:
    return [o for o in outputs if isinstance(o, Incident) and o.incident_id == incident_id][-1]


def ticks(start: datetime, end: datetime, every: timedelta) -> list[ClockTick]:
    out, t = [], start
    while t <= end:
        out.append(tick(t))
        t += every
    return out


# ---- 1. a merge never lowers the level ------------------------------------------------------------------


def test_merge_keeps_the_highest_level_any_merged_incident_reached() -> None:
    crowd = alert("crowd", at(), AlertType.CROWD_GATHERING, confidence=0.8, objects=8)  # village
    fight = alert("fight", at(1), AlertType.FIGHT, confidence=0.8, camera=2)  # township
    events: list[IntakeUnion] = [
        crowd,
        fight,
        disposition("up1", iid("fight"), A.REQUEST_ESCALATION, at(2), unit_level=Level.TOWNSHIP),
        disposition("up2", iid("fight"), A.REQUEST_ESCALATION, at(3), unit_level=Level.COUNTY),
        report("link", at(5), "public_order"),
    ]
    out = run_all(events)
    survivor = last_incident(out, iid("crowd"))
    assert last_incident(out, iid("fight")).status is S.MERGED
    assert survivor.level == Level.CITY
    # Its clock runs at city level, from the merge.
    assert survivor.due_at == at(5) + taxonomy().categories[survivor.category].sla[Level.CITY]


# ---- 2. the last snapshot of an evicted incident ------------------------------------------------------


def test_incident_changed_and_evicted_in_one_step_emits_its_last_version() -> None:
    # A policy that lets a single tick jump 90 days (the bundled one dead-letters such a tick, defect 3).
    loose = Engine(
        taxonomy(), policy().model_copy(update={"future_event_bound": timedelta(days=365)}), geography()
    )
    dispute = report("r", at())
    hourly = run_all([dispute, *ticks(at(hours=1), at(days=90), timedelta(hours=1))], loose)
    once = run_all([dispute, tick(at(days=90))], loose)
    final = last_incident(hourly, iid("r"))
    assert (final.version, final.level, final.overdue) == (6, Level.CITY, True)
    assert last_incident(once, iid("r")) == final


# ---- 3. implausible time --------------------------------------------------------------------------------


def _far_future(name: str) -> GridReport:
    return report(name, at(days=365 * 75))


def test_far_future_event_is_dead_lettered_and_moves_no_clock() -> None:
    engine = ENGINE
    state = engine.initial_state()
    state, _ = engine.step(state, report("r", at()))
    clock = state.clock
    state, out = engine.step(state, _far_future("future"))
    (letter,) = [o for o in out if isinstance(o, DeadLetterRequest)]
    assert letter.error_class is ErrorClass.FUTURE_EVENT
    assert [o for o in out if isinstance(o, Transition)] == []
    assert state.clock == clock
    # A normal event after it is decided, not dead-lettered as late.
    state, out = engine.step(state, report("next", at(10), "fight"))
    assert [o.reason for o in out if isinstance(o, Transition)] == [R.INITIAL_ROUTING]


def test_far_future_tick_is_dead_lettered_and_moves_no_clock() -> None:
    state = ENGINE.initial_state()
    state, _ = ENGINE.step(state, report("r", at()))
    clock = state.clock
    state, out = ENGINE.step(state, tick(at(days=365 * 75)))
    assert [o.error_class for o in out if isinstance(o, DeadLetterRequest)] == [ErrorClass.FUTURE_EVENT]
    assert [o for o in out if isinstance(o, Transition)] == []
    assert state.clock == clock


def test_a_tick_within_the_bound_moves_the_clock() -> None:
    bound = policy().future_event_bound
    state = ENGINE.initial_state()
    state, _ = ENGINE.step(state, report("r", at()))
    state, out = ENGINE.step(state, tick(at() + bound))
    assert not [o for o in out if isinstance(o, DeadLetterRequest)]
    assert state.clock.max_event_time == at() + bound


def _sequencer() -> Sequencer:
    return Sequencer(("a", "b"), timedelta(minutes=5), future_bound=policy().future_event_bound)


def test_sequencer_turns_a_far_future_message_away() -> None:
    seq = _sequencer()
    seq.offer("a", 0, tick(at()))
    release = seq.offer("a", 1, _far_future("future"))
    assert [h.offset for h in release.future] == [1]
    assert seq.held == []


def test_sequencer_turns_away_a_far_future_message_held_before_its_source_ticked() -> None:
    seq = _sequencer()
    seq.offer("a", 0, _far_future("future"))
    seq.offer("a", 1, report("ok", at(1)))
    release = seq.offer("a", 2, tick(at()))
    assert [h.offset for h in release.future] == [0]
    assert [h.offset for h in seq.held] == [1]


def test_sequencer_turns_away_a_far_past_message_held_before_its_source_ticked() -> None:
    seq = _sequencer()
    seq.offer("a", 0, report("past", at(days=-365 * 5)))
    seq.offer("a", 1, report("recent", at(-30)))
    release = seq.offer("a", 2, tick(at()))
    assert [h.offset for h in release.late] == [0]
    assert [h.offset for h in seq.held] == [1]  # before the tick, within the bound: kept


def test_sequencer_rejects_a_far_future_tick_and_keeps_its_clock() -> None:
    seq = _sequencer()
    seq.offer("a", 0, tick(at()))
    seq.offer("b", 0, tick(at()))
    release = seq.offer("a", 1, tick(at(days=365 * 75)))
    assert release.future_tick
    assert seq.ticks["a"] == at()
    # The source's next ordinary tick still advances it.
    seq.offer("a", 2, tick(at(10)))
    assert seq.ticks["a"] == at(10)


# ---- 4. verification tasks ------------------------------------------------------------------------------


def test_unverified_alarm_climbs_once_to_village_then_is_overdue() -> None:
    unsure = alert("unsure", at(), AlertType.FIGHT, confidence=0.3)
    out = run_all([unsure, *ticks(at(hours=1), at(days=60), timedelta(hours=6))])
    moved = [(t.reason, t.to_level) for t in out if isinstance(t, Transition)]
    assert moved == [
        (R.INITIAL_ROUTING, Level.GRID),
        (R.SLA_BREACH, Level.VILLAGE),
        (R.OVERDUE, Level.VILLAGE),
    ]
    breach = next(t for t in out if isinstance(t, Transition) and t.reason is R.SLA_BREACH)
    assert breach.at == at() + policy().verification_sla
    final = last_incident(out, iid("unsure"))
    assert (final.status, final.level, final.overdue) == (S.PENDING_VERIFICATION, Level.VILLAGE, True)


def test_unverified_alarm_cannot_be_pushed_above_village_by_request() -> None:
    unsure = alert("unsure", at(), AlertType.FIGHT, confidence=0.3)
    out = run_all(
        [
            unsure,
            disposition("up1", iid("unsure"), A.REQUEST_ESCALATION, at(5)),
            disposition("up2", iid("unsure"), A.REQUEST_ESCALATION, at(6), unit_level=Level.VILLAGE),
        ]
    )
    assert last_incident(out, iid("unsure")).level == Level.VILLAGE
    assert [o.error_class for o in out if isinstance(o, DeadLetterRequest)] == [
        ErrorClass.INVALID_DISPOSITION
    ]


def test_verified_after_overdue_is_routed_and_no_longer_overdue() -> None:
    unsure = alert("unsure", at(), AlertType.FIGHT, confidence=0.3)
    late = at(days=2)
    out = run_all(
        [unsure, tick(late), disposition("v", iid("unsure"), A.VERIFY, late + timedelta(minutes=1))]
    )
    final = last_incident(out, iid("unsure"))
    assert (final.status, final.level, final.overdue) == (S.OPEN, Level.TOWNSHIP, False)


# ---- 5. severity 5: the county is notified --------------------------------------------------------------


def test_severity_5_notifies_the_county_on_its_transition_and_incident() -> None:
    out = run_all([report("mass", at(), injured=10)])
    (first,) = [o for o in out if isinstance(o, Transition)]
    assert (first.to_level, first.notified_units) == (Level.CITY, (COUNTY,))
    assert last_incident(out, iid("mass")).notified_units == (COUNTY,)


def test_lower_severities_notify_nobody() -> None:
    out = run_all([report("r", at(), "fire")])
    (first,) = [o for o in out if isinstance(o, Transition)]
    assert first.notified_units == ()


# ---- the policy as data: every decision records its policy ---------------------------------------------


def test_every_incident_and_transition_records_the_policy_version() -> None:
    out = run_all([report("r", at()), tick(at(hours=5))])
    recorded = {o.policy_version for o in out if isinstance(o, Incident | Transition)}
    assert recorded == {policy().label}


def test_kpis_count_overdue_verifications() -> None:
    out = run_all(
        [
            alert("late", at(), AlertType.FIGHT, confidence=0.3),
            alert("fresh", at(60), AlertType.INTRUSION, confidence=0.3, camera=2),
            *ticks(at(hours=2), at(hours=5), timedelta(hours=1)),
        ]
    )
    final = [o for o in out if isinstance(o, Incident)]
    kpis = fengqiao_kpis(final, [o for o in out if isinstance(o, Transition)])
    # The last tick's watermark is 4 h 55 min. "late": 2 h at grid, 2 h at the village, overdue at 4 h;
    # "fresh", an hour later, is still at the village (overdue only at 5 h).
    assert (kpis.verification_pending, kpis.verification_overdue) == (2, 1)
