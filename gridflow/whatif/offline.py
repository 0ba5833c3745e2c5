"""The offline what-if: the pure decision core over one input, once per policy, one process per policy.

No servers: each record of the input (a recording, or a scenario simulated in the process) goes to the
`PartitionRunner` of its partition, exactly as the stream worker feeds it (same offsets per topic and
partition, same sequencing and clock ticks), so a policy decides here as it would in the pipeline. Every
process reads or simulates the input itself (the same seed gives the same records), which is cheaper than
shipping millions of records between processes.

With a handler model (`producers.handlers`), the input's scripted dispositions are left out and the
`Reactor` of each partition answers the incidents that partition's runner emits; its dispositions enter
the partition's disposition topic in event-time order, before the first input record that comes after
them, so the run is deterministic. Each policy meets the same handlers: the draws depend on the matter,
the level holding it and the seed, not on the policy.

`run_all` returns one `Outcome` per policy: the Fengqiao KPIs (`streams.kpis`), the counts the what-if
table shows, and the final state of every incident (for the incidents whose outcome differs).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import orjson

from producers.handlers import HandlerModel, Reactor
from producers.partitioner import partition_of
from producers.record import Record
from schemas.enums import IncidentStatus, Level, TransitionReason
from schemas.messages import Incident, Transition
from schemas.policy import Policy
from schemas.topics import topics
from streams.core.escalation import Engine
from streams.core.kpis import FengqiaoKpis, fengqiao_kpis, latest, percentile, real_incidents
from streams.core.runner import PartitionRunner

_FIXED = datetime(2026, 1, 1, tzinfo=UTC)  # DeadLetter.processed_at: the wall clock has no say here
_SETTLED = frozenset({IncidentStatus.RESOLVED, IncidentStatus.CLOSED})


@dataclass(frozen=True)
class Load:
    """The input of a what-if: a recording, or a scenario simulated under the base policy."""

    recording: Path | None = None
    scenario: str = "normal_day"
    duration: timedelta | None = None
    seed: int = 1
    scale: float = 1.0

    def records(self, base: Policy) -> Iterator[Record]:
        if self.recording is not None:
            from producers.recording import RecordingReader

            yield from RecordingReader(self.recording)
            return
        from producers.scenario import scenario
        from producers.simulator import Simulator

        yield from Simulator(
            scenario(self.scenario), self.seed, duration=self.duration, scale=self.scale, policy=base
        )

    def describe(self) -> str:
        if self.recording is not None:
            return f"recording {self.recording}"
        period = f" {self.duration}" if self.duration else ""
        return f"scenario {self.scenario}{period} seed {self.seed} scale {self.scale}"


@dataclass(frozen=True)
class Run:
    """One policy over the load; ``handlers`` set means reactive handlers instead of scripted ones."""

    name: str
    policy: Policy
    load: Load
    base: Policy  # the input is generated under this one, the same for every run
    handlers: HandlerModel | None = None
    seed: int = 1
    engine: Engine | None = None  # decide with this engine instead of one built from ``policy``


class Final(NamedTuple):
    """How one incident ended under a policy, and the rule ids of every transition that took it there."""

    status: str
    level: int
    rules: tuple[str, ...]
    resolved_at: str | None
    category: str
    opened_at: str


@dataclass
class Outcome:
    """What one policy made of the load."""

    name: str
    version: str
    kpis: FengqiaoKpis
    records: int
    seconds: float
    dead_letters: int
    sla_breaches: dict[Level, int]  # sla_breach transitions from each level (overdue at city)
    escalations: dict[str, int]  # transitions that raised the level, by reason
    entered: dict[Level, int]  # real matters that were held at each level (the escalation funnel)
    settled_by: dict[Level, int]  # settled matters by the level that settled them
    resolve_p50_by: dict[Level, timedelta | None]  # time to resolve by the settling level
    dispositions_sent: int  # by the reactive handlers (0 when scripted)
    final: dict[str, Final] = field(repr=False)  # incident id -> its final state

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


class _Partitions:
    """The runners (and reactors) of one run, created as partitions first appear."""

    def __init__(self, run: Run) -> None:
        self.engine = run.engine or Engine.under(run.policy)
        self.counts = {spec.name: spec.partitions for spec in topics().intake}
        self.sources = tuple(self.counts)
        self.run = run
        self.runners: dict[int, PartitionRunner] = {}
        self.reactors: dict[int, Reactor] = {}
        self.offsets: Counter[tuple[str, int]] = Counter()
        self.incidents: dict[bytes, bytes] = {}
        self.transitions: list[bytes] = []
        self.dead_letters = 0
        self.fed = 0

    def feed(self, record: Record) -> None:
        partition = partition_of(record, self.counts[record.topic])
        runner = self.runners.get(partition)
        if runner is None:
            runner = self.runners[partition] = PartitionRunner(
                self.engine, partition, self.sources, lambda: _FIXED
            )
            if self.run.handlers is not None:
                self.reactors[partition] = Reactor(self.run.handlers, self.run.seed)
        reactor = self.reactors.get(partition)
        if reactor is not None:
            # Answers due before this record enter first: event-time order within the partition.
            while (due := reactor.next_at()) is not None and due <= record.emit_at:
                for answer in reactor.due(due):
                    self._take(runner, reactor, partition, answer)
        self._take(runner, reactor, partition, record)

    def _take(self, runner: PartitionRunner, reactor: Reactor | None, partition: int, record: Record) -> None:
        offset = self.offsets[(record.topic, partition)]
        self.offsets[(record.topic, partition)] = offset + 1
        self.fed += 1
        for emit in runner.feed(record.topic, offset, record.value):
            if emit.role == "incidents":
                self.incidents[emit.key] = emit.value
                if reactor is not None:
                    reactor.observe(orjson.loads(emit.value), record.emit_at)
            elif emit.role == "incident_transitions":
                self.transitions.append(emit.value)
            elif emit.role == "deadletter":
                self.dead_letters += 1


def run_one(run: Run, progress: Callable[[int], None] | None = None) -> Outcome:
    """Run one policy over the load in this process."""
    parts = _Partitions(run)
    reactive = run.handlers is not None
    started = time.perf_counter()
    for record in run.load.records(run.base):
        if reactive and record.kind == "disposition":
            continue  # the reactor answers instead of the script
        parts.feed(record)
        if progress is not None and parts.fed % 100_000 == 0:
            progress(parts.fed)
    incidents = latest(Incident.model_validate_json(raw) for raw in parts.incidents.values())
    transitions = [Transition.model_validate_json(raw) for raw in parts.transitions]
    outcome = summarise(run, incidents, transitions)
    outcome.records = parts.fed
    outcome.seconds = time.perf_counter() - started
    outcome.dead_letters = parts.dead_letters
    outcome.dispositions_sent = sum(r.sent for r in parts.reactors.values())
    return outcome


def summarise(run: Run, incidents: list[Incident], transitions: list[Transition]) -> Outcome:
    """The KPIs and counts of one run from its final incidents and every transition."""
    kpis = fengqiao_kpis(incidents, transitions)
    real = {inc.incident_id for inc in real_incidents(incidents)}
    breaches: Counter[Level] = Counter()
    escalations: Counter[str] = Counter()
    entered: dict[Level, set[str]] = {level: set() for level in Level}
    rules: dict[str, list[str]] = defaultdict(list)
    for t in sorted(transitions, key=lambda t: (str(t.incident_id), t.seq)):
        rules[str(t.incident_id)].extend(t.rule_ids)
        if t.incident_id not in real:
            continue
        entered[t.to_level].add(str(t.incident_id))
        if t.reason is TransitionReason.SLA_BREACH and t.from_level is not None:
            breaches[t.from_level] += 1
        elif t.reason is TransitionReason.OVERDUE:
            breaches[t.to_level] += 1
        if t.from_level is not None and t.to_level > t.from_level:
            escalations[t.reason.value] += 1
    settled: dict[Level, list[timedelta]] = {level: [] for level in Level}
    for inc in real_incidents(incidents):
        if inc.status in _SETTLED and inc.resolved_at is not None:
            settled[inc.level].append(inc.resolved_at - inc.opened_at)
    final = {
        str(inc.incident_id): Final(
            inc.status.value,
            int(inc.level),
            tuple(dict.fromkeys(rules.get(str(inc.incident_id), ()))),
            inc.resolved_at.isoformat() if inc.resolved_at else None,
            inc.category,
            inc.opened_at.isoformat(),
        )
        for inc in incidents
    }
    return Outcome(
        name=run.name,
        version=run.policy.label,
        kpis=kpis,
        records=0,
        seconds=0.0,
        dead_letters=0,
        sla_breaches={level: breaches[level] for level in Level},
        escalations=dict(sorted(escalations.items())),
        entered={level: len(ids) for level, ids in entered.items()},
        settled_by={level: len(times) for level, times in settled.items()},
        resolve_p50_by={level: percentile(sorted(times), 50) for level, times in settled.items()},
        dispositions_sent=0,
        final=final,
    )


def run_all(runs: Iterable[Run], processes: int | None = None) -> list[Outcome]:
    """Every run, one process per run (at most ``processes``, default the cores), results in run order."""
    runs = list(runs)
    workers = max(1, min(len(runs), processes or os.cpu_count() or 1))
    if workers == 1:
        return [run_one(run) for run in runs]
    # spawn: a fresh interpreter per worker, not a fork of whatever threads the parent holds.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(run_one, runs))


def differing(base: Outcome, other: Outcome, limit: int = 50) -> list[tuple[str, Final | None, Final | None]]:
    """Incidents whose outcome (status, level or resolution time) differs: (id, base, other), at most
    ``limit``, in id order."""
    rows = []
    for key in sorted(set(base.final) | set(other.final)):
        a, b = base.final.get(key), other.final.get(key)
        if a is None or b is None or _ended(a) != _ended(b):
            rows.append((key, a, b))
            if len(rows) >= limit:
                break
    return rows


def count_differing(base: Outcome, other: Outcome) -> int:
    keys = set(base.final) | set(other.final)
    return sum(
        1
        for key in keys
        if (a := base.final.get(key)) is None or (b := other.final.get(key)) is None or _ended(a) != _ended(b)
    )


def _ended(state: Final) -> tuple[str, int, str | None]:
    return state.status, state.level, state.resolved_at
