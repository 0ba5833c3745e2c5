"""The escalation state machine: ``step(state, event) -> (state, outputs)`` for one partition.

Events are intake messages (GridReport, CameraAlert, Disposition, ClockTick); outputs are Incident and
Transition messages, `ClusterSignal` and `DeadLetterRequest` (`streams.core.outputs`). The state is an
immutable `PartitionState` (`streams.core.state`); the input state is never modified, so a caller may keep it
and step it again (same state, same event → same result).

`Engine` holds the rules' inputs; `_Step` holds the rules themselves for one step. They decide; the
bookkeeping every rule shares (working copies, incident versions and transitions, timers, indexes) is a
`streams.core.working.Working` they hold, which calls them back through its `Rules` protocol when a timer
needs a decision.

Rules (docs/policy.md; the ids are catalogued in `streams.core.rulebook`):

- **Initial routing** by severity (`streams.core.classify`); due = opened + SLA(category, level), severity 5
  must be acknowledged within ``policy.severity5_ack``. Low-confidence alarms wait at grid level
  (pending_verification) until the grid member verifies them or a report corroborates them.
- **SLA clocks** run on event time. When the watermark passes a deadline the incident climbs one level
  (sla_breach) with a new deadline there; at city level it is marked overdue instead.
- **Merging**: an alarm of the same type in the same grid within ``camera_merge_window`` of the last one,
  and a report and an alarm of compatible categories within ``report_alarm_window``, join the earliest
  open incident (merge); if one event links several open incidents the later ones become ``merged``. A report
  within ``boundary_merge_window`` and ``boundary_merge_radius_m`` of an alarm in another grid of the
  township merges too; a merge joining grids is handled at least by their lowest common unit.
  Report-plus-alarm raises severity once (severity_upgrade); the level rises to match, never falls.
- **Repeat disputes**: the ``repeat_threshold``-th incident of a category in a grid within
  ``repeat_window`` opens one level up. **Clusters**: the ``cluster_threshold``-th in a township within
  ``cluster_window`` emits a `ClusterSignal` (once per window) and takes the incident to county.
- **Dispositions** follow `streams.core.rulebook.DISPOSITION_RULES`; one addressed to a merged incident goes
  to the survivor; one for an incident not seen yet waits, and is dead-lettered as ``unknown_incident`` once
  the watermark passes its time + ``unknown_incident_bound``.
- Duplicate input (an event id already seen) changes nothing. Events older than the watermark minus the
  dedup window are dead-lettered (``late_event``): past that horizon a duplicate could not be recognised.

Time comes only from events. The watermark (latest event or tick time minus ``allowed_lateness``) decides
*when* a timed decision is emitted, never *what* it is: an event that touches an incident first applies
every deadline of that incident that passed before the event's own time, and expiries are compared with
event times. So the transitions and final incidents do not depend on how often clock ticks arrive; only
the grouping of Incident snapshots into steps does (an Incident output is the state after the step, with
``version`` equal to the ``seq`` of its last transition).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

from typing_extensions import Unpack

from schemas.bodies import HandlingTable, bodies
from schemas.bodies import resolve as resolve_handling
from schemas.enums import IncidentStatus, Level, MessageStatus, TransitionReason
from schemas.geography import Geography, geography
from schemas.ids import incident_id_for
from schemas.messages import (
    MAX_SOURCE_EVENTS,
    CameraAlert,
    ClockTick,
    Disposition,
    GridReport,
    Incident,
    IntakeUnion,
)
from schemas.policy import Policy, policy
from schemas.taxonomy import Taxonomy, load_taxonomy, taxonomy
from streams.core import rulebook as rb
from streams.core.classify import (
    Classification,
    Evidence,
    Source,
    UnclassifiableError,
    classify_evidence,
    evidence_of,
)
from streams.core.correlate import (
    Horizons,
    add_evidence,
    add_opening,
    add_town_alarm,
    alarms_near,
    evidence_near,
    mark_signalled,
    metres_between,
    openings_within,
    set_alarm,
)
from streams.core.dedup import SeenSet
from streams.core.fastmodel import build
from streams.core.outputs import ClusterSignal, ErrorClass, Output, SourceRef
from streams.core.routing import (
    compatible_pairs,
    deadline,
    handling_unit,
    level_for_severity,
    lowest_common_level,
)
from streams.core.state import (
    EvidenceMark,
    GridIndex,
    IncidentState,
    Opening,
    PartitionState,
    Pending,
    PendingDisposition,
    TownAlarm,
)
from streams.core.timers import Timer, TimerKind
from streams.core.working import (
    EMPTY_GRID,
    EMPTY_TOWNSHIP,
    IncidentUpdate,
    StateUpdate,
    StreamSettings,
    Working,
    merge_reasons,
)

__all__ = ["Engine", "StreamSettings", "event_time", "step"]

_R = TransitionReason
_S = IncidentStatus


@dataclass(frozen=True)
class Engine:
    """The rules' inputs: taxonomy, policy, geography and stream settings. `step` is the state machine."""

    taxonomy: Taxonomy
    policy: Policy
    geography: Geography
    settings: StreamSettings = field(default_factory=StreamSettings)

    @functools.cached_property
    def handling(self) -> HandlingTable:
        """Who leads a matter of each category at each level (policy.handling_rules over the bodies)."""
        return HandlingTable(resolve_handling(self.policy, self.taxonomy, bodies()), self.geography)

    @functools.cached_property
    def compatible(self) -> frozenset[tuple[str, str]]:
        """The (report, alarm) category pairs that may describe one situation (`compatible_pairs`)."""
        return compatible_pairs(self.taxonomy)

    @functools.cached_property
    def horizons(self) -> Horizons:
        return Horizons.of(self.policy, self.settings.dedup_window)

    @classmethod
    def bundled(cls, settings: StreamSettings | None = None) -> Engine:
        """An engine on the bundled taxonomy, policy and geography."""
        return cls(taxonomy(), policy(), geography(), settings or StreamSettings())

    @classmethod
    def under(cls, chosen: Policy, settings: StreamSettings | None = None) -> Engine:
        """An engine deciding under ``chosen``; the taxonomy's SLA gaps are filled from its defaults."""
        if chosen == policy():
            return cls.bundled(settings)
        return cls(load_taxonomy(policy_=chosen), chosen, geography(), settings or StreamSettings())

    def initial_state(self) -> PartitionState:
        return PartitionState(seen=SeenSet.empty(self.settings.dedup_window))

    def step(
        self, state: PartitionState, event: IntakeUnion, ref: SourceRef | None = None
    ) -> tuple[PartitionState, tuple[Output, ...]]:
        """Apply one intake message; ``ref`` (where it was read) is echoed on dead-letter requests."""
        return _Step(self, state, ref).run(event)


@functools.cache
def _bundled() -> Engine:
    return Engine.bundled()


def step(
    state: PartitionState,
    event: IntakeUnion,
    engine: Engine | None = None,
    ref: SourceRef | None = None,
) -> tuple[PartitionState, tuple[Output, ...]]:
    """`Engine.step` on the bundled engine unless ``engine`` is given."""
    return (engine or _bundled()).step(state, event, ref)


def event_time(message: IntakeUnion) -> datetime:
    """The time a message counts at: when a report was filed, an alarm detected, a unit acted, a tick said."""
    if isinstance(message, GridReport):
        return message.reported_at
    if isinstance(message, CameraAlert):
        return message.detected_at
    return message.at


class _Opening(NamedTuple):
    """What routing needs to know of an incident that is being opened."""

    message_status: MessageStatus
    incident_id: UUID
    grid_code: str
    township_code: str
    county_code: str
    category: str
    severity: int


class _Routing(NamedTuple):
    level: Level
    reason: TransitionReason
    rule_ids: tuple[str, ...]
    cluster: bool


class _Step:
    """One application of `Engine.step`: the rules, deciding over the mechanics of a `Working` copy.

    The rules read and change the state only through ``self.w`` (`streams.core.working`), and are handed to
    ``Working.fire_due`` as its `Rules` (``breach``, ``expire_pending``) for the timers that need a decision.
    """

    def __init__(self, engine: Engine, state: PartitionState, ref: SourceRef | None) -> None:
        self.w = Working(
            taxonomy=engine.taxonomy,
            policy=engine.policy,
            geography=engine.geography,
            settings=engine.settings,
            horizons=engine.horizons,
            handling=engine.handling,
            state=state,
        )
        # The rules' own inputs, read on every rule (kept here rather than reached through ``self.w``).
        self.tax = engine.taxonomy
        self.policy = engine.policy
        self.geo = engine.geography
        self.cfg = engine.settings
        self.h = engine.horizons
        self.compatible = engine.compatible
        self.ref = ref  # where the event was read, echoed on its dead letters

    # ---- driver ---------------------------------------------------------------------------------

    def run(self, event: IntakeUnion) -> tuple[PartitionState, tuple[Output, ...]]:
        t = event_time(event)
        latest = self.w.clock.max_event_time
        if latest is not None and t - latest > self.policy.future_event_bound:
            self.w.dead_letter(
                ErrorClass.FUTURE_EVENT,
                f"event time {t.isoformat()} is more than {self.policy.future_event_bound} ahead of the "
                f"partition clock {latest.isoformat()}",
                event,
                t,
                self.ref,
            )
            return self.w.finish()
        if isinstance(event, ClockTick):
            self.w.advance(t)
            self.w.fire_due(self)
            return self.w.finish()
        seen = self.w.seen.added(event.event_id, t)
        if seen is None:
            return self.w.state, ()  # redelivered: already applied
        wm = self.w.clock.watermark
        if wm is not None and t + self.cfg.dedup_window <= wm:
            self.w.dead_letter(
                ErrorClass.LATE_EVENT,
                f"event time {t.isoformat()} is more than the dedup window ({self.cfg.dedup_window}) "
                f"behind the partition watermark {wm.isoformat()}",
                event,
                t,
                self.ref,
            )
            return self.w.finish()
        self.w.seen = seen
        self.w.advance(t)
        self.w.fire_due(self)
        if isinstance(event, Disposition):
            self.on_disposition(event, t, self.ref)
        else:
            self.on_evidence(event, t)
        self.w.fire_due(self)
        return self.w.finish()

    # ---- SLA clocks and level moves -------------------------------------------------------------

    def catch_up(self, st: IncidentState, t: datetime) -> IncidentState:
        """Apply every deadline of this incident that passed before ``t`` (see the module docstring)."""
        while st.active and st.incident.due_at is not None and st.incident.due_at <= t:
            if st.incident.overdue:  # at city, or an unverified alarm at village: no clock left to run
                break
            st = self.breach(st, st.incident.due_at)
        return st

    def breach(self, st: IncidentState, at: datetime) -> IncidentState:
        inc = st.incident
        if inc.status is _S.PENDING_VERIFICATION:
            return self.verification_breach(st, at)
        if inc.level < Level.CITY:
            level = Level(inc.level + 1)
            due = self.w.due(inc, level, at, inc.status)
            return self.w.change(
                st,
                at,
                _R.SLA_BREACH,
                (rb.SLA_BREACH,),
                incident={"level": level, "due_at": due},
                clock_start=at,
            )
        if not inc.overdue:
            st = self.w.change(st, at, _R.OVERDUE, (rb.CITY_OVERDUE,), incident={"overdue": True})
            # No deadline is left to run: from here only an eviction timer keeps the state bounded.
            self.w.schedule(Timer(self.w.expires_at(st), TimerKind.EVICT, inc.incident_id))
        return st

    def verification_breach(self, st: IncidentState, at: datetime) -> IncidentState:
        """An unverified alarm's task ran out: once to the village, then overdue there (never higher)."""
        inc = st.incident
        if inc.level < Level.VILLAGE:
            due = self.w.due(inc, Level.VILLAGE, at, inc.status)
            return self.w.change(
                st,
                at,
                _R.SLA_BREACH,
                (rb.VERIFY_BREACH,),
                incident={"level": Level.VILLAGE, "due_at": due},
                clock_start=at,
            )
        if not inc.overdue:
            st = self.w.change(st, at, _R.OVERDUE, (rb.VERIFY_OVERDUE,), incident={"overdue": True})
            self.w.schedule(Timer(self.w.expires_at(st), TimerKind.EVICT, inc.incident_id))
        return st

    def escalate_to(
        self,
        st: IncidentState,
        level: Level,
        at: datetime,
        reason: TransitionReason,
        rule_ids: tuple[str, ...],
        source_event_id: UUID | None = None,
        incident: IncidentUpdate | None = None,
        **state_fields: Unpack[StateUpdate],
    ) -> IncidentState:
        """Move to ``level`` (never down) with a new SLA clock there."""
        inc = st.incident
        updates: IncidentUpdate = {**incident} if incident else {}
        status = updates.get("status", inc.status)
        level = max(level, inc.level)
        if level != inc.level:
            updates["level"] = level
            updates["due_at"] = self.w.due(inc, level, at, status, updates.get("severity"))
            state_fields["clock_start"] = at
        return self.w.change(st, at, reason, rule_ids, source_event_id, incident=updates, **state_fields)

    # ---- routing --------------------------------------------------------------------------------

    def route(self, inc: Incident | _Opening, at: datetime) -> _Routing:
        """Level of a confirmed incident (severity, repeats); records it in the repeat and cluster windows."""
        level = level_for_severity(self.policy, inc.severity)
        rules = [rb.ROUTE] + ([rb.ROUTE_CITY] if inc.severity >= 5 else [])
        reason = _R.INITIAL_ROUTING
        opening = Opening(at, inc.incident_id)

        grid = self.w.get_grid(inc.grid_code) or EMPTY_GRID
        windows = add_opening(grid.openings, inc.category, opening, self.h.repeat_keep)
        self.w.put_grid(inc.grid_code, grid._replace(openings=windows))
        recent = openings_within(windows, inc.category, at - self.policy.repeat_window, at)
        if len(recent) >= self.policy.repeat_threshold:
            rules.append(rb.REPEAT)
            if level < Level.CITY:
                level = Level(level + 1)
                reason = _R.REPEAT_DISPUTE

        township = self.w.get_township(inc.township_code) or EMPTY_TOWNSHIP
        tw = add_opening(township.openings, inc.category, opening, self.h.cluster_keep)
        township = township._replace(openings=tw)
        members = openings_within(tw, inc.category, at - self.policy.cluster_window, at)
        cluster = len(members) >= self.policy.cluster_threshold
        if cluster:
            last = township.signalled_at(inc.category)
            if last is None or last <= at - self.policy.cluster_window:
                self.w.outputs.append(
                    ClusterSignal(
                        status=inc.message_status,
                        signal_id=ClusterSignal.id_for(inc.township_code, inc.category, at),
                        county_code=inc.county_code,
                        township_code=inc.township_code,
                        category=inc.category,
                        count=len(members),
                        window_start=at - self.policy.cluster_window,
                        at=at,
                        incident_ids=tuple(o.incident_id for o in members),
                        rule_id=rb.CLUSTER,
                        policy_version=self.w.policy_version,
                    )
                )
                township = mark_signalled(township, inc.category, at)
            if level >= Level.COUNTY:
                rules.append(rb.CLUSTER)  # fired, but the incident is already at or above county
        self.w.put_township(inc.township_code, township)
        return _Routing(level, reason, tuple(rules), cluster and level < Level.COUNTY)

    def cluster_escalation(self, st: IncidentState, at: datetime) -> IncidentState:
        return self.escalate_to(st, Level.COUNTY, at, _R.CLUSTER, (rb.CLUSTER,))

    def confirm(
        self, st: IncidentState, at: datetime, rule_ids: tuple[str, ...], source_event_id: UUID
    ) -> IncidentState:
        """pending_verification → open, routed by severity (the alarm is real)."""
        routing = self.route(st.incident, st.incident.opened_at)
        st = self.escalate_to(
            st,
            routing.level,
            at,
            routing.reason,
            rule_ids + routing.rule_ids,
            source_event_id,
            incident={"status": _S.OPEN, "overdue": False},
        )
        if routing.cluster:
            st = self.cluster_escalation(st, at)
        return st

    # ---- evidence: reports and alarms -----------------------------------------------------------

    def on_evidence(self, msg: GridReport | CameraAlert, t: datetime) -> None:
        try:
            evidence = evidence_of(msg, self.tax)
        except UnclassifiableError as exc:
            self.w.dead_letter(ErrorClass.UNCLASSIFIABLE, str(exc), msg, t, self.ref)
            return
        cls = classify_evidence(evidence, self.policy)
        if isinstance(msg, GridReport):
            # Correlate by when the matter occurred, but no earlier than one window before it was filed,
            # so the grid index can be pruned on the watermark (streams.core.correlate.Horizons.evidence).
            happened = max(msg.occurred_at, t - self.policy.report_alarm_window)
        else:
            happened = t
        own_id = incident_id_for(msg.event_id)
        if self.w.raw(own_id) is not None:
            return  # the same event id again under another event time: never open an incident twice
        grid = self.w.get_grid(msg.grid_code) or EMPTY_GRID
        matches = self.matches(grid, evidence, happened, t)
        if isinstance(msg, GridReport):
            matches += self.boundary_matches(
                msg, evidence, happened, t, {st.incident.incident_id for st, _ in matches}
            )
        if matches:
            iid = self.merge(matches, msg, evidence, cls, t, own_id)
        else:
            iid = self.open(msg, evidence, cls, t, own_id)
        grid = self.w.get_grid(msg.grid_code) or EMPTY_GRID
        if evidence.alert_type is not None:
            grid = set_alarm(grid, evidence.alert_type, iid, t)
        wm = self.w.clock.watermark or t
        grid = add_evidence(grid, EvidenceMark(happened, iid, evidence.source, evidence.category), wm, self.h)
        self.w.put_grid(msg.grid_code, grid)
        if isinstance(msg, CameraAlert):
            code = self.geo.township_of(msg.grid_code)
            township = self.w.get_township(code) or EMPTY_TOWNSHIP
            where = msg.location
            mark = TownAlarm(t, iid, msg.grid_code, evidence.category, where.lon, where.lat)
            self.w.put_township(code, add_town_alarm(township, mark, wm, self.h))

    def boundary_matches(
        self, msg: GridReport, evidence: Evidence, happened: datetime, t: datetime, known: set[UUID]
    ) -> list[tuple[IncidentState, str]]:
        """Open alarms in other grids of the township near the report, in time and on the ground."""
        township = self.w.get_township(self.geo.township_of(msg.grid_code))
        if township is None or not township.alarms:
            return []
        found: list[tuple[IncidentState, str]] = []
        where, radius = msg.location, self.policy.boundary_merge_radius_m
        for mark in alarms_near(township, happened, self.policy.boundary_merge_window):
            if mark.grid_code == msg.grid_code:  # the grid's own rules decide (E-MRG-001/002)
                continue
            if (
                evidence.category != mark.category
                and (evidence.category, mark.category) not in self.compatible
            ):
                continue
            if metres_between(where.lon, where.lat, mark.lon, mark.lat) > radius:
                continue
            st = self.w.live(self.w.resolve(mark.incident_id, t), t)
            if st is not None and st.active and st.incident.incident_id not in known:
                known.add(st.incident.incident_id)
                found.append((st, rb.MERGE_BOUNDARY))
        return found

    def matches(
        self, grid: GridIndex, evidence: Evidence, happened: datetime, t: datetime
    ) -> list[tuple[IncidentState, str]]:
        """Open incidents in this grid the new evidence belongs to, each with the merge rule that matched."""
        found: dict[UUID, tuple[IncidentState, str]] = {}
        if evidence.alert_type is not None:
            for alarm in grid.alarms:
                if (
                    alarm.alert_type is evidence.alert_type
                    and abs(t - alarm.at) <= self.policy.camera_merge_window
                ):
                    st = self.w.live(self.w.resolve(alarm.incident_id, t), t)
                    if st is not None and st.active:
                        found[st.incident.incident_id] = (st, rb.MERGE_ALARMS)
        other = Source.CAMERA if evidence.source is Source.REPORT else Source.REPORT
        for mark in evidence_near(grid, happened, self.policy.report_alarm_window):
            if mark.source is not other:
                continue
            report_cat, alarm_cat = (
                (evidence.category, mark.category)
                if other is Source.CAMERA
                else (mark.category, evidence.category)
            )
            if report_cat != alarm_cat and (report_cat, alarm_cat) not in self.compatible:
                continue
            st = self.w.live(self.w.resolve(mark.incident_id, t), t)
            if st is not None and st.active and st.incident.incident_id not in found:
                found[st.incident.incident_id] = (st, rb.MERGE_REPORT_ALARM)
        return list(found.values())

    def open(
        self, msg: GridReport | CameraAlert, evidence: Evidence, cls: Classification, t: datetime, iid: UUID
    ) -> UUID:
        grid_code = msg.grid_code
        pending = cls.needs_verification
        status = _S.PENDING_VERIFICATION if pending else _S.OPEN
        township_code, county_code = self.geo.township_of(grid_code), self.geo.county_of(grid_code)
        rule_ids: tuple[str, ...]
        if pending:
            level, reason, rule_ids, cluster = Level.GRID, _R.INITIAL_ROUTING, (rb.VERIFY_FIRST,), False
        else:
            where = _Opening(
                msg.status, iid, grid_code, township_code, county_code, cls.category, cls.severity
            )
            routing = self.route(where, t)
            level, reason, rule_ids, cluster = (
                routing.level,
                routing.reason,
                routing.rule_ids,
                routing.cluster,
            )
        rule_ids = cls.rule_ids + rule_ids
        if pending:
            due = t + self.policy.verification_sla
        else:
            due = deadline(
                self.tax,
                self.policy,
                category=cls.category,
                severity=cls.severity,
                level=level,
                start=t,
                acknowledged=False,
            )
        self.w.schedule(Timer(due, TimerKind.SLA, iid))
        inc = build(
            Incident,
            {
                "message_status": msg.status,
                "incident_id": iid,
                "category": cls.category,
                "severity": cls.severity,
                "grid_code": grid_code,
                "township_code": township_code,
                "county_code": county_code,
                "level": level,
                "handling_unit": handling_unit(self.geo, grid_code, level),
                "status": status,
                "source_event_ids": (msg.event_id,),
                "opened_at": t,
                "due_at": due,
                "resolved_at": None,
                "updated_at": t,
                "version": 1,
                "reasons": merge_reasons((), rule_ids),
                "notified_units": self.w.notified(grid_code, cls.severity, status, ()),
                "policy_version": self.w.policy_version,
                **self.w.bodies_at(grid_code, cls.category, level),
            },
        )
        st = IncidentState(
            incident=inc,
            clock_start=t,
            camera_ids=(msg.camera_id,) if isinstance(msg, CameraAlert) else (),
            alert_types=(evidence.alert_type,) if evidence.alert_type is not None else (),
            has_report=evidence.source is Source.REPORT,
        )
        self.w.touched[iid] = st
        self.w.transition(inc, None, reason, t, rule_ids, msg.event_id)
        if cluster:
            self.cluster_escalation(st, t)
        self.release_pending(iid, iid, t)
        return iid

    def merge(
        self,
        matches: list[tuple[IncidentState, str]],
        msg: GridReport | CameraAlert,
        evidence: Evidence,
        cls: Classification,
        t: datetime,
        own_id: UUID,
    ) -> UUID:
        caught = [(self.catch_up(st, t), rule) for st, rule in matches]
        caught.sort(key=lambda item: (item[0].incident.opened_at, str(item[0].incident.incident_id)))
        survivor, others = caught[0][0], [st for st, _ in caught[1:]]
        sid = survivor.incident.incident_id
        eid = msg.event_id

        sources = list(survivor.incident.source_event_ids)
        camera_ids = list(survivor.camera_ids)
        alert_types = list(survivor.alert_types)
        has_report = survivor.has_report
        severity = max(survivor.incident.severity, cls.severity)
        for other in others:
            self.w.change(
                other,
                t,
                _R.MERGE,
                (rb.MERGED_AWAY,),
                eid,
                incident={"status": _S.MERGED, "merged_into": sid},
            )
            self.w.forget_openings(other.incident)
            self.add_alias(other.incident.incident_id, sid, t)
            self.w.schedule(
                Timer(t + self.cfg.finished_retention, TimerKind.EVICT, other.incident.incident_id)
            )
            sources += other.incident.source_event_ids
            camera_ids += other.camera_ids
            alert_types += other.alert_types
            has_report = has_report or other.has_report
            severity = max(severity, other.incident.severity)
        sources.append(eid)
        if isinstance(msg, CameraAlert):
            camera_ids.append(msg.camera_id)
        if evidence.alert_type is not None:
            alert_types.append(evidence.alert_type)
        has_report = has_report or evidence.source is Source.REPORT

        rule_ids = tuple(dict.fromkeys(rule for _, rule in caught)) + ((rb.MERGED_AWAY,) if others else ())
        # No de-escalation: the survivor takes the highest level any merged incident had reached, with a
        # clock there. An unverified survivor joined by a confirmed matter is confirmed first (below), so
        # it never stands above the village unverified.
        reached = max(st.incident.level for st, _ in caught)
        # Boundary matters: sources from several grids are handled by their lowest common unit.
        joined = lowest_common_level(self.geo, [msg.grid_code, *(st.incident.grid_code for st, _ in caught)])
        target = max(reached, joined)
        confirmed_by_merge = any(o.incident.status is not _S.PENDING_VERIFICATION for o in others)
        pending = survivor.incident.status is _S.PENDING_VERIFICATION
        lift = (
            target if target > survivor.incident.level and not (pending and target > Level.VILLAGE) else None
        )
        survivor = self.escalate_to(
            survivor,
            lift or survivor.incident.level,
            t,
            _R.MERGE,
            tuple(dict.fromkeys(rule_ids + (self.lift_rules(survivor, reached, joined) if lift else ()))),
            eid,
            # Cap the list (schemas.MAX_SOURCE_EVENTS): a camera stuck alarming keeps merging, and the
            # transitions still record every merged event.
            incident={"source_event_ids": tuple(dict.fromkeys(sources))[:MAX_SOURCE_EVENTS]},
            camera_ids=tuple(dict.fromkeys(camera_ids)),
            alert_types=tuple(dict.fromkeys(alert_types)),
            has_report=has_report,
        )

        upgrade_rules: list[str] = []
        if severity > survivor.incident.severity:
            upgrade_rules.append(rb.UPGRADE_EVIDENCE)
        corroborated = survivor.corroborated
        if survivor.has_report and survivor.camera_ids and not corroborated:
            corroborated = True
            if severity < 5:
                severity += 1
                upgrade_rules.append(rb.UPGRADE_CORRELATION)
        if severity > survivor.incident.severity:
            pending = survivor.incident.status is _S.PENDING_VERIFICATION
            # An unverified alarm stays with the grid member; routing happens when it is confirmed.
            target = survivor.incident.level if pending else level_for_severity(self.policy, severity)
            survivor = self.escalate_to(
                survivor,
                target,
                t,
                _R.SEVERITY_UPGRADE,
                tuple(upgrade_rules),
                eid,
                incident={"severity": severity},
                corroborated=corroborated,
            )
        elif corroborated != survivor.corroborated:
            survivor = survivor._replace(corroborated=corroborated)
            self.w.touched[sid] = survivor

        if survivor.incident.status is _S.PENDING_VERIFICATION and (
            not cls.needs_verification or confirmed_by_merge
        ):
            survivor = self.confirm(survivor, t, (rb.CORROBORATED,), eid)
        if survivor.incident.level < target:
            rules = self.lift_rules(survivor, reached, joined)
            survivor = self.escalate_to(survivor, target, t, _R.MERGE, rules, eid)
        self.add_alias(own_id, sid, t)  # the id this event would have opened leads to the survivor
        return sid

    @staticmethod
    def lift_rules(st: IncidentState, reached: Level, joined: Level) -> tuple[str, ...]:
        """Why a merge raises ``st``: a merged incident was higher (E-MRG-004), grids joined (E-MRG-005)."""
        level = st.incident.level
        return ((rb.MERGE_LEVEL,) if reached > level else ()) + (
            (rb.MERGE_BOUNDARY,) if joined > level else ()
        )

    # ---- dispositions ---------------------------------------------------------------------------

    def on_disposition(self, d: Disposition, t: datetime, ref: SourceRef | None) -> None:
        st = self.w.live(self.w.resolve(d.incident_id, t), t)
        if st is None:
            waiting = self.w.pending.get(d.incident_id) or Pending()
            self.w.pending = self.w.pending.set(
                d.incident_id, Pending((*waiting.items, PendingDisposition(d, ref)))
            )
            self.w.schedule(Timer(t + self.policy.unknown_incident_bound, TimerKind.PENDING, d.incident_id))
            return
        self.apply(st, d, ref)

    def add_alias(self, alias: UUID, survivor: UUID, t: datetime) -> None:
        """``alias`` leads to ``survivor`` from ``t``: dispositions that waited for ``alias`` now apply."""
        if alias != survivor:
            self.w.add_alias(alias, survivor, t)
            self.release_pending(alias, survivor, t)

    def release_pending(self, key: UUID, target: UUID, t: datetime) -> None:
        """An incident (or alias) ``key`` appeared at ``t``: apply what waited for it, in arrival order."""
        waiting = self.w.pending.get(key)
        if waiting is None:
            return
        self.w.pending = self.w.pending.remove(key)
        bound = self.policy.unknown_incident_bound
        for item in waiting.items:
            d = item.disposition
            st = self.w.live(target, d.at) if d.at + bound > t else None
            if st is None:
                self.unknown(item)
            else:
                self.apply(st, d, item.ref)

    def expire_pending(self, key: UUID, wm: datetime) -> None:
        """Dead-letter the dispositions waiting for ``key`` whose bound passed at watermark ``wm``."""
        waiting = self.w.pending.get(key)
        if waiting is None:
            return
        bound = self.policy.unknown_incident_bound
        expired = [item for item in waiting.items if item.disposition.at + bound <= wm]
        if not expired:
            return
        kept = tuple(item for item in waiting.items if item.disposition.at + bound > wm)
        self.w.pending = self.w.pending.set(key, Pending(kept)) if kept else self.w.pending.remove(key)
        for item in expired:
            self.unknown(item)

    def unknown(self, item: PendingDisposition) -> None:
        d = item.disposition
        self.w.dead_letter(
            ErrorClass.UNKNOWN_INCIDENT,
            f"incident {d.incident_id} did not appear within {self.policy.unknown_incident_bound} "
            f"of the disposition ({d.action} at {d.at.isoformat()})",
            d,
            d.at + self.policy.unknown_incident_bound,
            item.ref,
        )

    def apply(self, st: IncidentState, d: Disposition, ref: SourceRef | None) -> None:
        # Keep each incident's transitions in time order even when feedback arrives early or skewed.
        at = max(d.at, st.incident.updated_at)
        st = self.catch_up(st, at)
        inc = st.incident
        rule = rb.disposition_rule(d.action, inc.status)
        problem = None
        if rule is None:
            problem = f"{d.action} is not allowed on an incident in status {inc.status}"
        elif rule.effect is rb.Effect.FALSE_ALARM and st.has_report:
            problem = "a grid report is part of this incident: it cannot be rejected as a false alarm"
        elif rule.effect is rb.Effect.ESCALATE and inc.level == Level.CITY:
            problem = "the incident is already at city level"
        elif (
            rule.effect is rb.Effect.ESCALATE
            and inc.status is _S.PENDING_VERIFICATION
            and inc.level >= Level.VILLAGE
        ):
            problem = "an unverified alarm goes no higher than the village: verify or reject it first"
        if rule is None or problem is not None:
            self.w.dead_letter(
                ErrorClass.INVALID_DISPOSITION, f"incident {inc.incident_id}: {problem}", d, d.at, ref
            )
            return
        rid, eid = (rule.rule_id,), d.event_id
        effect = rule.effect
        if effect is rb.Effect.START:
            updates: IncidentUpdate = {"status": _S.IN_PROGRESS}
            if inc.severity >= 5:  # acknowledged: the ordinary SLA of the level replaces the ack deadline
                updates["due_at"] = self.w.due(inc, inc.level, st.clock_start, _S.IN_PROGRESS)
            self.w.change(st, at, _R.DISPOSITION, rid, eid, incident=updates)
        elif effect is rb.Effect.RESOLVE:
            self.w.change(
                st, at, _R.DISPOSITION, rid, eid, incident={"status": _S.RESOLVED, "resolved_at": at}
            )
            self.w.schedule(Timer(at + self.cfg.finished_retention, TimerKind.EVICT, inc.incident_id))
        elif effect is rb.Effect.CLOSE:
            self.w.change(st, at, _R.DISPOSITION, rid, eid, incident={"status": _S.CLOSED})
            self.w.schedule(Timer(at + self.cfg.finished_retention, TimerKind.EVICT, inc.incident_id))
        elif effect is rb.Effect.CONFIRM:
            self.confirm(st, at, (*rid, rb.VERIFIED), eid)
        elif effect is rb.Effect.REOPEN:
            due = self.w.due(inc, inc.level, at, _S.OPEN)
            self.w.change(
                st,
                at,
                _R.REOPEN,
                rid,
                eid,
                incident={
                    "status": _S.OPEN,
                    "reopen_count": inc.reopen_count + 1,
                    "resolved_at": None,
                    "overdue": False,
                    "due_at": due,
                },
                clock_start=at,
            )
        elif effect is rb.Effect.ESCALATE:
            self.escalate_to(st, Level(inc.level + 1), at, _R.HANDLER_REQUEST, (*rid, rb.HANDLER), eid)
        elif effect is rb.Effect.FALSE_ALARM:
            self.w.change(st, at, _R.FALSE_ALARM, rid, eid, incident={"status": _S.FALSE_ALARM})
            self.w.forget_openings(inc)
            self.w.schedule(Timer(at + self.cfg.finished_retention, TimerKind.EVICT, inc.incident_id))
