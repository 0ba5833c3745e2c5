"""The demo's progress figures, sampled from Kafka once a second (offsets, group commits, the incidents).

Kafka only: ClickHouse is not touched while the sink runs, because an embedded (chdb) store is owned by one
process at a time.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

STATUSES_DONE = ("resolved", "closed", "false_alarm", "merged")


Sample = tuple[float, int, int, int]  # monotonic seconds, produced, processed, landed
RATE_WINDOW_S = 10.0


def window_rates(history: deque[Sample], window_s: float = RATE_WINDOW_S) -> dict[str, float]:
    """Per-second rates over the last ``window_s`` seconds of samples (older samples are dropped).

    Workers and sink commit their offsets every few seconds, so the committed totals move in steps: a rate
    between two one-second samples reads 0 most of the time while the totals rise. Over a window spanning
    several commits the rate is the real one.
    """
    now = history[-1][0]
    while len(history) > 2 and now - history[1][0] >= window_s:
        history.popleft()
    first, last = history[0], history[-1]
    dt = last[0] - first[0]
    if dt <= 0:
        return {}
    return {name: (last[i] - first[i]) / dt for i, name in ((1, "produced"), (2, "processed"), (3, "landed"))}


@dataclass
class Rates:
    """Counters sampled once a second, and their per-second rates."""

    produced: int = 0
    processed: int = 0
    landed: int = 0
    stream_lag: int = 0
    sink_lag: int = 0
    per_second: dict[str, float] = field(default_factory=dict)
    open_by_level: dict[int, int] = field(default_factory=dict)
    simulated: datetime | None = None
    alerts: int = 0


def seconds_behind(rates: Rates) -> float | None:
    """The workers' lag as seconds of input: messages behind over the input rate of the last window.

    A count of messages means little without the rate they arrive at; a lag of 5 s of input is the same
    promise at any --scale. None while nothing is arriving (before the first window, or once the simulator
    is done), when no rate gives the count a meaning.
    """
    produced = rates.per_second.get("produced", 0.0)
    return rates.stream_lag / produced if produced > 0 else None


@dataclass
class WorstLag:
    """The largest lag of the workers seen while input was arriving, in messages and in seconds of input."""

    messages: int = 0
    seconds: float = 0.0

    def note(self, rates: Rates) -> None:
        behind = seconds_behind(rates)
        if behind is not None:
            self.messages = max(self.messages, rates.stream_lag)
            self.seconds = max(self.seconds, behind)


class Probe:
    """Reads offsets and the incidents topic to fill :class:`Rates` (Kafka only, no ClickHouse)."""

    def __init__(self, bootstrap: str, prefix: str, options: dict[str, Any], alerts: Path) -> None:
        from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

        from infra.lag import partitions_of
        from schemas.topics import topics
        from sinks.sink import sink_topics

        self.names = topics(prefix)
        self.prefix = prefix
        self.alerts = alerts
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap, **options)
        self.offsets = KafkaConsumer(bootstrap_servers=bootstrap, **options)
        self.intake = partitions_of(self.names.intake)
        self.sunk = partitions_of(sink_topics(prefix))
        self.incidents = KafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest", **options
        )
        spec = self.names.incidents
        self.incidents.assign([TopicPartition(spec.name, p) for p in range(spec.partitions)])
        self.state: dict[bytes, tuple[int, str]] = {}
        self.history: deque[Sample] = deque()
        self.simulated: datetime | None = None

    def _committed(self, group: str) -> dict[Any, int]:
        from kafka.errors import (
            CoordinatorLoadInProgressError,
            CoordinatorNotAvailableError,
            NotCoordinatorError,
        )

        try:
            found = self.admin.list_group_offsets(group).get(group, {})
        except (NotCoordinatorError, CoordinatorNotAvailableError, CoordinatorLoadInProgressError):
            return {}
        return {tp: meta.offset for tp, meta in found.items() if meta.offset >= 0}

    def _incidents(self) -> None:
        import orjson

        for records in self.incidents.poll(timeout_ms=50, max_records=20000).values():
            for record in records:
                if record.value is None or record.key is None:
                    continue
                data = orjson.loads(record.value)
                self.state[record.key] = (int(data["level"]), str(data["status"]))
                at = datetime.fromisoformat(data["updated_at"])
                if self.simulated is None or at > self.simulated:
                    self.simulated = at

    def sample(self) -> Rates:
        ends = self.offsets.end_offsets(self.sunk)
        streams = self._committed(f"{self.prefix}gridflow-streams")
        sink = self._committed(f"{self.prefix}gridflow-sink")
        produced = sum(ends[tp] for tp in self.intake)
        processed = sum(streams.get(tp, 0) for tp in self.intake)
        landed = sum(sink.get(tp, 0) for tp in self.sunk)
        self._incidents()
        self.history.append((time.monotonic(), produced, processed, landed))
        rates = window_rates(self.history)
        open_by_level = dict.fromkeys(range(1, 6), 0)
        for level, status in self.state.values():
            if status not in STATUSES_DONE:
                open_by_level[level] = open_by_level.get(level, 0) + 1
        return Rates(
            produced=produced,
            processed=processed,
            landed=landed,
            stream_lag=produced - processed,
            sink_lag=sum(ends[tp] for tp in self.sunk) - landed,
            per_second=rates,
            open_by_level=open_by_level,
            simulated=self.simulated,
            alerts=sum(1 for _ in self.alerts.glob("*.xml")) if self.alerts.exists() else 0,
        )

    def close(self) -> None:
        self.incidents.close()
        self.offsets.close()
        self.admin.close()
