"""The working copy of one partition's state during one escalation step, and the mechanics rules use.

`streams.core.escalation` holds the rules; this module holds what every rule needs and none decides: reading
an incident as of an event time (retention, merge aliases), writing changes so each one is one new incident
version plus one Transition, starting SLA clocks, scheduling and firing timers, keeping the grid and
township indexes pruned, and writing everything back once at the end of the step.

The two are composed, not inherited: the rules hold a `Working` and call its mechanics; the mechanics call
the rules back only when a timer fires whose outcome is a decision (an SLA deadline passed, a disposition
waited too long), through the `Rules` protocol handed to `Working.fire_due`. So every call between them
is one mypy checks, and `Working` has no method left for someone else to fill in.

Nothing here modifies the input `PartitionState`: the stores are persistent maps, read through and
written to local working copies (``touched``, ``grid_work``, ``township_work``, ``new_timers``) that
`Working.finish` folds into a new state with one write per store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol, TypedDict
from uuid import UUID

from typing_extensions import Unpack

from schemas.bodies import HandlingTable
from schemas.enums import AlertType, IncidentStatus, Level, TransitionReason
from schemas.geography import Geography
from schemas.ids import transition_id_for
from schemas.messages import (
    MAX_REASONS,
    CameraAlert,
    ClockTick,
    Disposition,
    GridReport,
    Incident,
    Transition,
)
from schemas.policy import Policy
from schemas.taxonomy import Taxonomy
from streams.core.classify import notify_levels
from streams.core.correlate import (
    Horizons,
    drop_incident,
    grid_expiry,
    prune_grid,
    prune_township,
    township_expiry,
)
from streams.core.dedup import SeenSet
from streams.core.fastmodel import build, evolve
from streams.core.outputs import DeadLetterRequest, ErrorClass, Output, SourceRef
from streams.core.routing import deadline, handling_unit
from streams.core.state import (
    ACTIVE,
    Alias,
    Clock,
    GridIndex,
    IncidentState,
    PartitionState,
    TownshipIndex,
)
from streams.core.timers import Timer, TimerKind

__all__ = [
    "EMPTY_GRID",
    "EMPTY_TOWNSHIP",
    "IncidentUpdate",
    "Rules",
    "StateUpdate",
    "StreamSettings",
    "Working",
    "merge_reasons",
]

# Merges chain (A into B, B into C); a disposition follows at most this many hops.
_MAX_ALIAS_HOPS: Final = 8
EMPTY_GRID: Final = GridIndex()
EMPTY_TOWNSHIP: Final = TownshipIndex()

_S = IncidentStatus


class IncidentUpdate(TypedDict, total=False):
    """The `Incident` fields one change may set: typed, so mypy names a misspelled field or a wrong type
    (the updates are applied unvalidated, `streams.core.fastmodel.evolve`)."""

    level: Level
    due_at: datetime | None
    overdue: bool
    status: IncidentStatus
    merged_into: UUID | None
    source_event_ids: tuple[UUID, ...]
    severity: int
    resolved_at: datetime | None
    reopen_count: int
    handling_unit: str
    lead_body: str
    co_bodies: tuple[str, ...]
    body_rule: str
    version: int
    updated_at: datetime
    reasons: tuple[str, ...]
    policy_version: str
    notified_units: tuple[str, ...]


class StateUpdate(TypedDict, total=False):
    """The `IncidentState` facts besides the message that one change may set."""

    clock_start: datetime
    camera_ids: tuple[str, ...]
    alert_types: tuple[AlertType, ...]
    has_report: bool
    corroborated: bool


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """Operational bounds of the stream state (not governance policy, so not in policy.toml).

    ``dedup_window``: how long an event id is remembered; events older than the watermark minus this are
    dead-lettered as late (it must cover a crash's redelivery: the event time one commit interval spans at
    replay speed). ``finished_retention``: how long resolved, closed, false-alarm and merged incidents stay,
    so a reopen (回访 follow-ups come within a day) or a late verify still finds them; later feedback is
    dead-lettered as unknown_incident. It is the main memory knob: a day of city load is ~50 MB of state.
    ``idle_eviction``: an unfinished incident untouched this long is dropped (it is overdue at city level
    long before). ``alias_retention``: how long a merged incident's id still leads to its survivor.
    """

    dedup_window: timedelta = timedelta(hours=6)
    finished_retention: timedelta = timedelta(days=3)
    idle_eviction: timedelta = timedelta(days=60)
    alias_retention: timedelta = timedelta(days=3)

    def __post_init__(self) -> None:
        # The dedup generations are whole seconds (streams.core.dedup); a fractional window would let an
        # expired id slip past the late-event check.
        if self.dedup_window.microseconds or self.dedup_window <= timedelta(0):
            raise ValueError("dedup_window must be a positive whole number of seconds")


def merge_reasons(reasons: tuple[str, ...], rule_ids: tuple[str, ...]) -> tuple[str, ...]:
    """``reasons`` extended by the rule ids not yet in it, in order (bounded by the contract)."""
    have = set(reasons)
    new: list[str] = []
    for rule_id in rule_ids:
        if rule_id not in have:
            have.add(rule_id)
            new.append(rule_id)
    return (*reasons, *new)[:MAX_REASONS] if new else reasons


class Rules(Protocol):
    """The decisions the mechanics ask for when a timer fires (`streams.core.escalation` implements them)."""

    def breach(self, st: IncidentState, at: datetime) -> IncidentState:
        """The SLA deadline ``at`` of the active incident ``st`` passed: return it as the rules leave it."""
        ...

    def expire_pending(self, key: UUID, wm: datetime) -> None:
        """Dispositions waiting for incident ``key`` may have reached their bound at watermark ``wm``."""
        ...


class Working:
    """One step's working copies of the stores, the outputs so far, and the mechanics the rules share.

    The rules (`streams.core.escalation`) hold one per step and decide; this class keeps the books.
    """

    def __init__(
        self,
        *,
        taxonomy: Taxonomy,
        policy: Policy,
        geography: Geography,
        settings: StreamSettings,
        horizons: Horizons,
        handling: HandlingTable,
        state: PartitionState,
    ) -> None:
        self.tax = taxonomy
        self.policy = policy
        self.geo = geography
        self.cfg = settings
        self.policy_version = policy.label
        self.h = horizons
        self.handling = handling
        self.state = state
        self.clock = state.clock
        self.incidents = state.incidents
        self.aliases = state.aliases
        self.grids = state.grids
        self.townships = state.townships
        self.pending = state.pending
        self.seen = state.seen
        span = int(settings.dedup_window.total_seconds())  # streams.core.dedup: whole seconds per generation
        if self.seen.span != span:
            if len(self.seen):
                raise ValueError("the state was built with another dedup window")
            self.seen = SeenSet(span)
        self.timers = state.timers
        # Working copies written back once, at the end of the step (one persistent-map write per store):
        self.touched: dict[UUID, IncidentState | None] = {}  # None: evicted
        self.grid_work: dict[str, GridIndex] = {}
        self.township_work: dict[str, TownshipIndex] = {}
        self.new_timers: list[Timer] = []
        self.emit: dict[UUID, None] = {}  # ordered set: incidents whose new version is emitted
        # The last state of incidents evicted in this step, so a change and an eviction in one step still
        # emit the changed version (whatever the spacing of clock ticks).
        self.evicted: dict[UUID, IncidentState] = {}
        self.outputs: list[Output] = []

    # ---- end of step ----------------------------------------------------------------------------

    def finish(self) -> tuple[PartitionState, tuple[Output, ...]]:
        incidents = self.incidents
        kept = [(iid, st) for iid, st in self.touched.items() if st is not None]
        if kept:
            incidents = incidents.update(kept)
        for iid, st in self.touched.items():
            if st is None:
                incidents = incidents.remove(iid)
        grids = self.grids
        if self.grid_work:
            grids = grids.update((k, v) for k, v in self.grid_work.items() if not v.empty)
            for code in [k for k, v in self.grid_work.items() if v.empty]:
                grids = grids.remove(code)
        townships = self.townships
        if self.township_work:
            townships = townships.update((k, v) for k, v in self.township_work.items() if not v.empty)
            for code in [k for k, v in self.township_work.items() if v.empty]:
                townships = townships.remove(code)
        for iid in self.emit:
            current = self.touched.get(iid) or self.evicted.get(iid)
            if current is not None:
                self.outputs.append(current.incident)
        new_state = PartitionState(
            clock=self.clock,
            incidents=incidents,
            aliases=self.aliases,
            grids=grids,
            townships=townships,
            pending=self.pending,
            seen=self.seen,
            timers=self.timers.add_many(self.new_timers),
        )
        return new_state, tuple(self.outputs)

    # ---- time -----------------------------------------------------------------------------------

    def advance(self, t: datetime) -> None:
        old = self.clock
        latest = t if old.max_event_time is None or t > old.max_event_time else old.max_event_time
        mark = latest - self.policy.allowed_lateness
        watermark = mark if old.watermark is None or mark > old.watermark else old.watermark
        if latest != old.max_event_time or watermark != old.watermark:
            self.clock = Clock(latest, watermark)
        if watermark != old.watermark:
            self.seen = self.seen.expire(watermark)

    def schedule(self, timer: Timer) -> None:
        self.new_timers.append(timer)

    def fire_due(self, rules: Rules) -> None:
        """Fire every timer due at the watermark, in time order, including ones scheduled meanwhile.

        SLA and pending-disposition timers are decisions, so they go to ``rules``; the others only keep the
        state bounded and are handled here.
        """
        wm = self.clock.watermark
        if wm is None:
            return
        self.timers, due = self.timers.pop_due(wm)
        while True:
            # Timers scheduled in this step live in new_timers until finish(); some may be due already
            # (a late event, a deadline chain crossing several levels).
            if self.new_timers and min(timer.at for timer in self.new_timers) <= wm:
                due += [timer for timer in self.new_timers if timer.at <= wm]
                self.new_timers = [timer for timer in self.new_timers if timer.at > wm]
                due.sort(key=Timer.sort_key)
            if not due:
                return
            batch, due = due, []
            for timer in batch:
                self.on_timer(timer, wm, rules)

    def on_timer(self, timer: Timer, wm: datetime, rules: Rules) -> None:
        kind, key = timer.kind, timer.key
        if kind is TimerKind.SLA:
            assert isinstance(key, UUID)
            st = self.live(key, timer.at)
            if st is not None and st.active and st.incident.due_at == timer.at:
                rules.breach(st, timer.at)
        elif kind is TimerKind.PENDING:
            assert isinstance(key, UUID)
            rules.expire_pending(key, wm)
        elif kind is TimerKind.EVICT:
            assert isinstance(key, UUID)
            st = self.raw(key)
            if st is not None:
                expiry = self.expires_at(st)
                if expiry <= wm:
                    self.evicted[key] = st
                    self.touched[key] = None
                else:
                    self.schedule(Timer(expiry, TimerKind.EVICT, key))
        elif kind is TimerKind.ALIAS:
            assert isinstance(key, UUID)
            alias = self.aliases.get(key)
            if alias is not None and alias.at + self.cfg.alias_retention <= wm:
                self.aliases = self.aliases.remove(key)
        elif kind is TimerKind.GRID:
            assert isinstance(key, str)
            grid = self.get_grid(key)
            if grid is not None and grid.sweep_at == timer.at:
                self.put_grid(key, prune_grid(grid, wm, self.h)._replace(sweep_at=None))
        elif kind is TimerKind.TOWNSHIP:
            assert isinstance(key, str)
            township = self.get_township(key)
            if township is not None and township.sweep_at == timer.at:
                self.put_township(key, prune_township(township, wm, self.h)._replace(sweep_at=None))

    # ---- lookups --------------------------------------------------------------------------------

    def raw(self, iid: UUID) -> IncidentState | None:
        if iid in self.touched:
            return self.touched[iid]
        return self.incidents.get(iid)

    def expires_at(self, st: IncidentState) -> datetime:
        keep = self.cfg.idle_eviction if st.incident.status in ACTIVE else self.cfg.finished_retention
        return st.incident.updated_at + keep

    def live(self, iid: UUID, t: datetime) -> IncidentState | None:
        """The incident as of event time ``t``: gone once its retention has run out, evicted or not."""
        st = self.raw(iid)
        if st is None or self.expires_at(st) <= t:
            return None
        return st

    def resolve(self, iid: UUID, t: datetime) -> UUID:
        """Follow merge aliases to the surviving incident."""
        for _ in range(_MAX_ALIAS_HOPS):
            alias = self.aliases.get(iid)
            if alias is None or alias.at + self.cfg.alias_retention <= t:
                break
            iid = alias.survivor
        return iid

    # ---- index upkeep ---------------------------------------------------------------------------

    def get_grid(self, code: str) -> GridIndex | None:
        grid = self.grid_work.get(code)
        return grid if grid is not None else self.grids.get(code)

    def get_township(self, code: str) -> TownshipIndex | None:
        township = self.township_work.get(code)
        return township if township is not None else self.townships.get(code)

    def sweep_time(self, expiry: datetime | None) -> datetime | None:
        """When to prune an index whose first entry expires at ``expiry`` (not more than hourly)."""
        wm = self.clock.watermark
        if expiry is None or wm is None:
            return expiry
        return max(expiry, wm + self.h.sweep_every)

    def put_grid(self, code: str, grid: GridIndex) -> None:
        if grid.sweep_at is None and not grid.empty:
            # One pruning timer per grid at a time; entries added later expire later, and a sweep
            # reschedules for what is left.
            sweep = self.sweep_time(grid_expiry(grid, self.h))
            if sweep is not None:
                grid = grid._replace(sweep_at=sweep)
                self.schedule(Timer(sweep, TimerKind.GRID, code))
        self.grid_work[code] = grid

    def put_township(self, code: str, township: TownshipIndex) -> None:
        if township.sweep_at is None and not township.empty:
            sweep = self.sweep_time(township_expiry(township, self.h))
            if sweep is not None:
                township = township._replace(sweep_at=sweep)
                self.schedule(Timer(sweep, TimerKind.TOWNSHIP, code))
        self.township_work[code] = township

    def forget_openings(self, inc: Incident) -> None:
        grid = self.get_grid(inc.grid_code)
        if grid is not None:
            self.put_grid(inc.grid_code, drop_incident(grid, inc.incident_id))
        township = self.get_township(inc.township_code)
        if township is not None:
            self.put_township(inc.township_code, drop_incident(township, inc.incident_id))

    def add_alias(self, alias: UUID, survivor: UUID, t: datetime) -> None:
        """From ``t`` on, incident id ``alias`` leads to ``survivor`` (until ``alias_retention`` has passed).

        What waited for ``alias`` is the rules' business (`streams.core.escalation`, ``release_pending``).
        """
        self.aliases = self.aliases.set(alias, Alias(survivor, t))
        self.schedule(Timer(t + self.cfg.alias_retention, TimerKind.ALIAS, alias))

    # ---- incident changes -----------------------------------------------------------------------

    def due(
        self,
        inc: Incident,
        level: Level,
        start: datetime,
        status: IncidentStatus,
        severity: int | None = None,
    ) -> datetime:
        """Start an SLA clock for ``inc`` at ``level``: compute the deadline and schedule its timer.

        An unverified alarm runs the verification task's own SLA, whatever the level.
        """
        if status is _S.PENDING_VERIFICATION:
            at = start + self.policy.verification_sla
        else:
            at = deadline(
                self.tax,
                self.policy,
                category=inc.category,
                severity=inc.severity if severity is None else severity,
                level=level,
                start=start,
                acknowledged=status is not _S.OPEN,
            )
        self.schedule(Timer(at, TimerKind.SLA, inc.incident_id))
        return at

    def transition(
        self,
        inc: Incident,
        before: Incident | None,
        reason: TransitionReason,
        at: datetime,
        rule_ids: tuple[str, ...],
        source_event_id: UUID | None,
    ) -> None:
        # Built unvalidated (streams.core.fastmodel): every field comes from validated messages and enums.
        self.outputs.append(
            build(
                Transition,
                {
                    "status": inc.message_status,
                    "transition_id": transition_id_for(inc.incident_id, inc.version),
                    "incident_id": inc.incident_id,
                    "seq": inc.version,
                    "from_status": None if before is None else before.status,
                    "to_status": inc.status,
                    "from_level": None if before is None else before.level,
                    "to_level": inc.level,
                    "reason": reason,
                    "at": at,
                    "rule_ids": rule_ids,
                    "source_event_id": source_event_id,
                    "handling_unit": inc.handling_unit,
                    "policy_version": self.policy_version,
                    "lead_body": inc.lead_body,
                    "co_bodies": inc.co_bodies,
                    "body_rule": inc.body_rule,
                    "notified_units": (
                        inc.notified_units
                        if before is None or before.notified_units == inc.notified_units
                        else tuple(u for u in inc.notified_units if u not in before.notified_units)
                    ),
                },
            )
        )
        self.emit[inc.incident_id] = None

    def change(
        self,
        st: IncidentState,
        at: datetime,
        reason: TransitionReason,
        rule_ids: tuple[str, ...],
        source_event_id: UUID | None = None,
        incident: IncidentUpdate | None = None,
        **state_fields: Unpack[StateUpdate],
    ) -> IncidentState:
        """One recorded change: new incident version, one Transition, reasons extended."""
        before = st.incident
        updates: IncidentUpdate = {**incident} if incident else {}
        level = updates.get("level", before.level)
        if level != before.level:
            updates["handling_unit"] = handling_unit(self.geo, before.grid_code, level)
            updates.update(self.bodies_at(before.grid_code, before.category, level))
        updates["version"] = before.version + 1
        updates["updated_at"] = max(before.updated_at, at)
        updates["reasons"] = merge_reasons(before.reasons, rule_ids)
        updates["policy_version"] = self.policy_version
        notified = self.notified(
            before.grid_code,
            updates.get("severity", before.severity),
            updates.get("status", before.status),
            before.notified_units,
        )
        if notified != before.notified_units:
            updates["notified_units"] = notified
        after = evolve(before, updates)
        new = st._replace(incident=after, **state_fields)
        self.touched[after.incident_id] = new
        self.transition(after, before, reason, at, rule_ids, source_event_id)
        return new

    def bodies_at(self, grid_code: str, category: str, level: Level) -> IncidentUpdate:
        """The incident fields naming who leads at ``level`` (多元化解), and the rule that says so."""
        lead, co, rule_id = self.handling.bodies(grid_code, category, level)
        return {"lead_body": lead, "co_bodies": co, "body_rule": rule_id}

    def notified(
        self, grid_code: str, severity: int, status: IncidentStatus, already: tuple[str, ...]
    ) -> tuple[str, ...]:
        """The units told of a confirmed matter of ``severity`` besides its handler (``already`` kept)."""
        levels = notify_levels(self.policy, severity)
        if not levels or status is _S.PENDING_VERIFICATION:
            return already
        units = [self.geo.ancestor(grid_code, level) for level in levels]
        return (*already, *(u for u in units if u not in already))

    # ---- dead letters ---------------------------------------------------------------------------

    def dead_letter(
        self,
        error_class: ErrorClass,
        message: str,
        msg: GridReport | CameraAlert | Disposition | ClockTick,
        at: datetime,
        ref: SourceRef | None,
    ) -> None:
        self.outputs.append(DeadLetterRequest(error_class, message, msg, at, ref))
