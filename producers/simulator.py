"""The seeded Bayannur simulator: a time-ordered, lazily generated stream of intake records.

:class:`Simulator` turns a :class:`~producers.scenario.Scenario`, a seed and a period into
:class:`~producers.record.Record` objects ordered by their position in simulated time:

- grid reports and camera alarm events arrive as Poisson processes whose rate follows the hour of day and
  the weekday, spread over grids by population weight; each scenario surge is one more such process;
- an alarm event is seen by one to three cameras of its grid within seconds, is true or false (false ones
  have low confidence and are later rejected by the grid member), and is sometimes also reported by the
  grid member within the merge window;
- each incident gets the planned dispositions of :mod:`producers.handling`, addressed to
  ``schemas.ids.incident_id_for(first event id)`` (merged events address the first event's incident);
- clock ticks go on every intake partition each ``tick_interval`` and at the end.

Nothing reads the wall clock: every random draw comes from ``random.Random`` instances derived from the
seed (one per process, by name), so the same scenario, seed and period give the same records, byte for byte.
Generation is lazy — processes are merged with a heap, and planned dispositions wait in a second heap as
small plans until due — so a simulated day at city scale never sits in memory.

Usage::

    sim = Simulator(scenario("normal_day"), seed=7, duration=timedelta(hours=6))
    for record in sim:          # Record(topic, key, partition, at, emit_at, kind, event_id, value, label)
        ...
    sim.summary                 # counts per kind, topic and overlay label (complete after iteration)
"""

from __future__ import annotations

import dataclasses
import functools
import heapq
import itertools
import random
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, Final

from producers.clock import tick_records
from producers.events import EventFactory
from producers.handling import plan_chain
from producers.overlay import apply_overlay
from producers.record import Record, Summary
from producers.sampling import MS_PER_HOUR, WeightedChoice, arrivals
from producers.scenario import SHANGHAI, Overlay, Scenario, Surge
from schemas.enums import AlertType, DispositionAction, Level
from schemas.geography import Geography, geography
from schemas.ids import incident_id_for
from schemas.messages import GridReport
from schemas.policy import Policy
from schemas.policy import policy as bundled_policy
from schemas.taxonomy import Taxonomy, load_taxonomy, taxonomy
from schemas.topics import topics

RECORDING_FORMAT: Final = "gridflow-recording"
MINUTE: Final = 60_000
# Alarm types a grid member can corroborate with a report of the alarm's own category.
_CORROBORATED: Final = frozenset(
    {
        AlertType.FIGHT,
        AlertType.FIRE_SMOKE,
        AlertType.TRAFFIC_ACCIDENT,
        AlertType.CROWD_GATHERING,
        AlertType.WATER_LEVEL,
        AlertType.ICE_JAM,
        AlertType.ROAD_OBSTRUCTION,
    }
)

Thunk = Callable[[], Record]
Schedule = Callable[[int, Thunk], None]


class Simulator:
    """A deterministic generator of intake records for one scenario, seed and period.

    ``start`` and ``duration`` default to the scenario's; ``scale`` multiplies every arrival rate (tests
    use small scales, benchmarks large ones); ``overlay`` applies a data-quality overlay; ``source`` names
    the publisher in clock ticks. Iterating twice gives the same records; ``summary`` describes the last
    iteration.
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        start: datetime | None = None,
        duration: timedelta | None = None,
        *,
        scale: float = 1.0,
        overlay: Overlay | None = None,
        source: str | None = None,
        policy: Policy | None = None,
    ) -> None:
        if scale < 0:
            raise ValueError(f"scale must be >= 0, got {scale}")
        self.scenario = scenario
        self.seed = seed
        self.start = (start or scenario.start).astimezone(SHANGHAI)
        self.duration = duration or scenario.duration
        self.end = self.start + self.duration
        self.scale = scale
        self.overlay = overlay
        self.source = (source or f"sim:{scenario.name}:{seed}")[:64]
        self.intake = topics().intake  # base names: the publisher adds the topic prefix
        self.summary = Summary()
        self._geo: Geography = geography()
        # The policy the stream is planned under (SLAs, thresholds): the bundled one unless given.
        self._policy: Policy = policy or bundled_policy()
        self._tax: Taxonomy = taxonomy() if policy is None else load_taxonomy(policy_=policy)
        self._end_ms = int(self.duration.total_seconds() * 1000)
        midnight = self.start.replace(hour=0, minute=0, second=0, microsecond=0)
        self._ms_since_midnight = int((self.start - midnight).total_seconds() * 1000)
        self._weekday0 = self.start.weekday()

    @property
    def header(self) -> dict[str, Any]:
        """Metadata of the stream (what a recording's first line holds)."""
        return {
            "format": RECORDING_FORMAT,
            "version": 1,
            "scenario": self.scenario.name,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "scale": self.scale,
            "overlay": self.overlay.name if self.overlay else None,
            "source": self.source,
            "tick_interval_s": self.scenario.tick_interval.total_seconds(),
            "partitions": {spec.name: spec.partitions for spec in self.intake},
            "policy_version": self._policy.label,
        }

    # ---- the merged stream ----------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Record]:
        self.summary = Summary()
        stream = self._merged()
        if self.overlay is not None:
            lateness = self._policy.allowed_lateness
            stream = apply_overlay(stream, self.overlay, self._rng("overlay"), lateness)
        for record in stream:
            self.summary.add(record)
            yield record

    def _rng(self, name: str) -> random.Random:
        # Seeding with a str hashes it with SHA-512: stable across runs and PYTHONHASHSEED values.
        return random.Random(f"gridflow:{self.seed}:{name}")

    def _merged(self) -> Iterator[Record]:
        factory = EventFactory(self._geo, self.start)
        pending: list[tuple[int, int, Thunk]] = []
        order = itertools.count()
        end_ms = self._end_ms

        def schedule(ms: int, thunk: Thunk) -> None:
            if ms < end_ms:
                heapq.heappush(pending, (ms, next(order), thunk))

        ticks = (
            (self._ms(r.emit_at), 0, r)
            for r in tick_records(
                self.source,
                self.intake,
                self.start,
                self.end,
                self.scenario.tick_interval,
                self._policy.allowed_lateness,
            )
        )
        processes: list[Iterator[tuple[int, int, Record]]] = [ticks, *self._processes(factory, schedule)]
        # heapq.merge pulls a process's next record before yielding the current one, so every follow-up a
        # record plans (always later than the record) is in `pending` before anything later is yielded.
        for ms, priority, record in heapq.merge(*processes, key=lambda item: (item[0], item[1])):
            while pending and (pending[0][0], 1) <= (ms, priority):
                yield heapq.heappop(pending)[2]()
            yield record
        while pending:
            yield heapq.heappop(pending)[2]()

    def _ms(self, at: datetime) -> int:
        return int((at - self.start).total_seconds() * 1000)

    # ---- arrival processes ----------------------------------------------------------------------------

    def _processes(
        self, factory: EventFactory, schedule: Schedule
    ) -> list[Iterator[tuple[int, int, Record]]]:
        sc = self.scenario
        grids = self._grid_choice((), (), ())
        urban = self._category_choice(sc.urban_mix)
        rural = self._category_choice(sc.rural_mix)

        def base_mix(grid: str) -> WeightedChoice[str]:
            return urban if self._geo.unit(grid[:9]).kind == "街道" else rural

        out = [
            self._reports(
                "reports",
                factory,
                schedule,
                per_day=sc.reports_per_day,
                window=(0, self._end_ms),
                intensity=(sc.reports_diurnal, sc.reports_weekday),
                grids=grids,
                mix=base_mix,
            ),
            self._alarms(
                "alarms",
                factory,
                schedule,
                per_day=sc.alarm_events_per_day,
                window=(0, self._end_ms),
                intensity=(sc.alarms_diurnal, sc.alarms_weekday),
                grids=grids,
                mix=WeightedChoice(list(sc.alarm_mix), list(sc.alarm_mix.values())),
                false_share=sc.false_alarm_share,
                objects=None,
            ),
        ]
        for i, surge in enumerate(sc.surges):
            out.append(self._surge(i, surge, factory, schedule))
        return out

    def _surge(
        self, i: int, surge: Surge, factory: EventFactory, schedule: Schedule
    ) -> Iterator[tuple[int, int, Record]]:
        sc = self.scenario
        # Surge hours count from the scenario's start time of day, on the first simulated day: a festival
        # evening stays in the evening when --start moves the period, or picks a later hour of that day.
        scenario_start = sc.start.astimezone(SHANGHAI)
        scenario_tod = (
            scenario_start.hour * 3600 + scenario_start.minute * 60 + scenario_start.second
        ) * 1000
        shift = scenario_tod - self._ms_since_midnight
        begin = max(0, shift + int(surge.from_hour * MS_PER_HOUR))
        window = (begin, max(begin, min(self._end_ms, shift + int(surge.to_hour * MS_PER_HOUR))))
        flat = (tuple([1.0] * 24), tuple([1.0] * 7))
        shape = {
            "flat": flat,
            "reports": (sc.reports_diurnal, flat[1]),
            "alarms": (sc.alarms_diurnal, flat[1]),
        }[surge.diurnal]
        grids = self._grid_choice(surge.counties, surge.townships, surge.township_kinds)
        if surge.stream == "reports":
            mix = WeightedChoice(list(surge.mix), list(surge.mix.values()))
            return self._reports(
                f"surge{i}",
                factory,
                schedule,
                per_day=surge.per_hour * 24,
                window=window,
                intensity=shape,
                grids=grids,
                mix=lambda grid: mix,
            )
        return self._alarms(
            f"surge{i}",
            factory,
            schedule,
            per_day=surge.per_hour * 24,
            window=window,
            intensity=shape,
            grids=grids,
            mix=WeightedChoice([AlertType(a) for a in surge.mix], list(surge.mix.values())),
            false_share=surge.false_share,
            objects=surge.objects,
        )

    def _grid_choice(
        self, counties: tuple[str, ...], townships: tuple[str, ...], kinds: tuple[str, ...]
    ) -> WeightedChoice[str]:
        grids = [
            g
            for g in self._geo.grids()
            if (not counties or g.code[:6] in counties)
            and (not townships or g.code[:9] in townships)
            and (not kinds or self._geo.unit(g.code[:9]).kind in kinds)
        ]
        return WeightedChoice([g.code for g in grids], [g.weight for g in grids])

    def _category_choice(self, mix: dict[str, float]) -> WeightedChoice[str]:
        factors = self.scenario.mix_factors
        return WeightedChoice(list(mix), [w * factors.get(code, 1.0) for code, w in mix.items()])

    def _arrivals(
        self,
        rng: random.Random,
        per_day: float,
        window: tuple[int, int],
        intensity: tuple[tuple[float, ...], tuple[float, ...]],
    ) -> Iterator[int]:
        diurnal, weekday = intensity
        peak = max(diurnal) * max(weekday)
        offset, weekday0 = self._ms_since_midnight, self._weekday0

        def accept(ms: int) -> float:
            hours = (offset + ms) // MS_PER_HOUR
            return diurnal[hours % 24] * weekday[(weekday0 + hours // 24) % 7] / peak

        return arrivals(rng, per_day * self.scale / 24 * peak, accept, window[0], window[1])

    def _reports(
        self,
        name: str,
        factory: EventFactory,
        schedule: Schedule,
        *,
        per_day: float,
        window: tuple[int, int],
        intensity: tuple[tuple[float, ...], tuple[float, ...]],
        grids: WeightedChoice[str],
        mix: Callable[[str], WeightedChoice[str]],
    ) -> Iterator[tuple[int, int, Record]]:
        rng = self._rng(name)
        for ms in self._arrivals(rng, per_day, window, intensity):
            grid = grids.pick(rng)
            category = self._tax.categories[mix(grid).pick(rng)]
            record, report = factory.report(rng, ms, grid, category.code, category.base_severity)
            severity = self._report_severity(report, category.base_severity)
            self._plan(
                rng, ms, incident_id_for(report.event_id), grid, severity, category.code, factory, schedule
            )
            yield ms, 1, record

    def _report_severity(self, report: GridReport, base: int) -> int:
        """The severity the streams will give this report's facts (policy.report_thresholds), so that the
        planned handling (a severity-5 matter is acknowledged within minutes) matches the routing."""
        limits = self._policy.report_thresholds
        if report.injured >= limits.mass_casualty_injured:
            return 5
        severity = base
        if report.injured >= limits.serious_injured or report.parties >= limits.mass_incident_parties:
            severity = max(severity, 4)
        if 0 < report.injured < limits.serious_injured:
            severity += 1
        if limits.many_parties <= report.parties < limits.mass_incident_parties:
            severity += 1
        if report.severity_hint is not None and report.severity_hint > severity:
            severity += 1  # a hint moves severity one step at most, never down (as the streams do)
        return min(5, severity)

    def _alarms(
        self,
        name: str,
        factory: EventFactory,
        schedule: Schedule,
        *,
        per_day: float,
        window: tuple[int, int],
        intensity: tuple[tuple[float, ...], tuple[float, ...]],
        grids: WeightedChoice[str],
        mix: WeightedChoice[AlertType],
        false_share: float,
        objects: tuple[int, int] | None,
    ) -> Iterator[tuple[int, int, Record]]:
        rng = self._rng(name)
        sc, pol = self.scenario, self._policy
        cameras_seeing = WeightedChoice([1, 2, 3], list(sc.multi_camera))
        merge_window = int(pol.camera_merge_window.total_seconds() * 1000)
        # (grid, alarm type) → (incident id, last alarm ms): later alarms inside the merge window join it.
        open_groups: dict[tuple[str, AlertType], tuple[uuid.UUID, int]] = {}
        for ms in self._arrivals(rng, per_day, window, intensity):
            grid = grids.pick(rng)
            alert_type = mix.pick(rng)
            false = rng.random() < false_share
            low = not false and rng.random() < sc.low_confidence_true_share
            threshold = pol.camera_verify_below
            if false:
                confidence = rng.uniform(0.15, threshold - 0.05)
            elif low:
                confidence = rng.uniform(0.35, threshold - 0.01)
            else:
                confidence = rng.uniform(threshold, 0.99)
            info = factory.grid(grid)
            seen_by = min(cameras_seeing.pick(rng), info.cameras)
            cams = rng.sample(range(1, info.cameras + 1), seen_by)
            count = factory.objects(rng, alert_type, false, objects)
            corroborated = not false and alert_type in _CORROBORATED and rng.random() < sc.corroborate_share
            record, alert = factory.alert(rng, ms, grid, cams[0], alert_type, confidence, count)
            group = open_groups.get((grid, alert_type))
            merged = group is not None and ms - group[1] <= merge_window
            incident = group[0] if group is not None and merged else incident_id_for(alert.event_id)
            last = ms
            for cam in cams[1:]:
                # The other cameras see the same event seconds later, with their own confidence.
                at = ms + rng.randint(3_000, 90_000)
                last = max(last, at)
                conf = min(0.99, max(0.05, confidence + rng.uniform(-0.08, 0.08)))
                schedule(
                    at,
                    functools.partial(
                        self._extra_alert,
                        factory,
                        rng.getrandbits(64),
                        at,
                        grid,
                        cam,
                        alert_type,
                        conf,
                        count,
                    ),
                )
            open_groups[(grid, alert_type)] = (incident, last)
            if corroborated:
                at = ms + rng.randint(2 * MINUTE, 14 * MINUTE)
                schedule(
                    at,
                    functools.partial(
                        self._corroboration, factory, rng.getrandbits(64), at, grid, alert_type
                    ),
                )
            if seen_by > 1 or corroborated:
                record = dataclasses.replace(record, anchor=True)
            if not merged:
                self._plan_alarm(
                    rng,
                    ms,
                    incident,
                    grid,
                    alert_type,
                    false,
                    low,
                    confidence,
                    count,
                    corroborated,
                    factory,
                    schedule,
                )
            yield ms, 1, record

    def _extra_alert(
        self,
        factory: EventFactory,
        seed: int,
        ms: int,
        grid: str,
        cam: int,
        alert_type: AlertType,
        confidence: float,
        count: int,
    ) -> Record:
        return factory.alert(random.Random(seed), ms, grid, cam, alert_type, confidence, count)[0]

    def _corroboration(
        self, factory: EventFactory, seed: int, ms: int, grid: str, alert_type: AlertType
    ) -> Record:
        category = self._tax.for_alert(alert_type)
        return factory.report(random.Random(seed), ms, grid, category.code, category.base_severity)[0]

    # ---- dispositions ---------------------------------------------------------------------------------

    def _plan_alarm(
        self,
        rng: random.Random,
        ms: int,
        incident: uuid.UUID,
        grid: str,
        alert_type: AlertType,
        false: bool,
        low: bool,
        confidence: float,
        count: int,
        corroborated: bool,
        factory: EventFactory,
        schedule: Schedule,
    ) -> None:
        pol = self._policy
        category = self._tax.for_alert(alert_type)
        if false:
            # The grid member checks the verification task and rejects it, unless nobody gets round to it.
            if rng.random() >= self.scenario.handling.ignore_false_alarm:
                at = ms + rng.randint(10 * MINUTE, 90 * MINUTE)
                self._dispose(
                    factory,
                    schedule,
                    rng,
                    at,
                    incident,
                    grid,
                    DispositionAction.REJECT_FALSE_ALARM,
                    Level.GRID,
                )
            return
        start = ms
        if low:
            start = ms + rng.randint(5 * MINUTE, 40 * MINUTE)
            self._dispose(factory, schedule, rng, start, incident, grid, DispositionAction.VERIFY, Level.GRID)
        severity = category.base_severity
        if (alert_type == AlertType.CROWD_GATHERING and count >= pol.crowd_upgrade_count) or (
            alert_type == AlertType.FIGHT and confidence >= pol.fight_upgrade_confidence
        ):
            severity += 1
        if corroborated:
            severity += 1
        self._plan(
            rng,
            start,
            incident,
            grid,
            min(5, severity),
            category.code,
            factory,
            schedule,
            urgent=corroborated,
        )

    def _plan(
        self,
        rng: random.Random,
        ms: int,
        incident: uuid.UUID,
        grid: str,
        severity: int,
        category: str,
        factory: EventFactory,
        schedule: Schedule,
        *,
        urgent: bool = False,
    ) -> None:
        sla = self._tax.categories[category].sla
        for step in plan_chain(rng, ms, severity, sla, self.scenario.handling, urgent=urgent):
            self._dispose(
                factory, schedule, rng, step.at_ms, incident, grid, step.action, step.level, category
            )

    @staticmethod
    def _dispose(
        factory: EventFactory,
        schedule: Schedule,
        rng: random.Random,
        ms: int,
        incident: uuid.UUID,
        grid: str,
        action: DispositionAction,
        level: Level,
        category: str | None = None,
    ) -> None:
        # The seed is drawn even when the step falls after the period, so the draws do not depend on it.
        seed = rng.getrandbits(64)
        schedule(
            ms, functools.partial(factory.disposition, seed, ms, incident, grid, action, level, category)
        )
