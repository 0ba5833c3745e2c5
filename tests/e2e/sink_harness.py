"""Drive the ClickHouse sink in end-to-end tests: a pipeline namespace with its own database, and the oracle.

:class:`SinkPipeline` extends the streams' :class:`pipeline_harness.Pipeline` (topic prefix, CLI in a
subprocess, workers) with a ClickHouse URL of the test's own, so ``gridflow init``/``sink``/``simulate`` all
run as a user would run them. :func:`delivery` is the delivery oracle of DESIGN §8: the producer's ledger of
acknowledged event ids against the event ids analysts can see.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import CoordinatorLoadInProgressError, CoordinatorNotAvailableError, NotCoordinatorError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from pipeline_harness import GRIDFLOW, Pipeline, stop, wait_until

from producers.ledger import read_ledger
from sinks import connect
from sinks.nodedup import SUFFIX
from sinks.writer import Writer

__all__ = ["GRIDFLOW", "Delivery", "SinkPipeline", "delivery", "stop", "wait_until"]

INTAKE_TABLES = ("grid_reports", "camera_alerts", "dispositions")


class SinkPipeline(Pipeline):
    """A pipeline namespace whose processes write to ``clickhouse_url`` (a database of the test's own)."""

    def __init__(self, bootstrap: str, prefix: str, workdir: Path, clickhouse_url: str) -> None:
        super().__init__(bootstrap, prefix, workdir)
        self.clickhouse_url = clickhouse_url

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, "GRIDFLOW_CLICKHOUSE_URL": self.clickhouse_url}

    @property
    def sink_group(self) -> str:
        return f"{self.prefix}gridflow-sink"

    def writer(self) -> Writer:
        return connect(self.clickhouse_url)

    def start(self, *args: str, name: str) -> subprocess.Popen[bytes]:
        """A gridflow command in the background, logging to the test's directory and working in it."""
        log = (self.workdir / f"{name}-{time.monotonic_ns()}.log").open("wb")
        return subprocess.Popen(
            [*GRIDFLOW, *args],
            env=self.env,
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_workers(self, count: int = 1) -> subprocess.Popen[bytes]:
        # In the test's directory: the faust worker keeps its data directory in the working directory.
        return self.start("worker", "--workers", str(count), name="worker")

    def start_sink(self, *args: str) -> subprocess.Popen[bytes]:
        return self.start("sink", *args, name="sink")

    def sink_sources(self) -> list[TopicPartition]:
        specs = [
            *self.names.intake,
            self.names.incidents,
            self.names.incident_transitions,
            self.names.deadletter,
        ]
        return [TopicPartition(s.name, p) for s in specs for p in range(s.partitions)]

    def sink_lag(self) -> int:
        """Records on the sink's topics not yet committed by the sink's group."""
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap)
        try:
            ends = consumer.end_offsets(self.sink_sources())
        finally:
            consumer.close()
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        try:
            try:
                offsets = admin.list_group_offsets(self.sink_group).get(self.sink_group, {})
            except (NotCoordinatorError, CoordinatorNotAvailableError, CoordinatorLoadInProgressError):
                offsets = {}
        finally:
            admin.close()
        done = {tp: meta.offset for tp, meta in offsets.items()}
        return sum(end - max(done.get(tp, 0), 0) for tp, end in ends.items())


def landed_rows(writer: Writer, dedup: bool = True) -> int:
    """Rows in the intake base tables (redeliveries included): the sink's raw progress."""
    suffix = "" if dedup else SUFFIX
    parts = " + ".join(f"(SELECT count() FROM {writer.database}.{t}{suffix})" for t in INTAKE_TABLES)
    return int(str(writer.query(f"SELECT {parts}").scalar()))


@dataclass(frozen=True)
class Delivery:
    """The oracle's verdict: expected ids (acknowledged), ids seen with multiplicity, and the difference."""

    expected: int
    seen: int
    lost: int
    duplicated: int


def visible_event_ids(writer: Writer, dedup: bool = True) -> list[str]:
    """Event ids as analysts see them: the collapsing view, or (negative control) the plain tables."""
    db = writer.database
    if dedup:
        sql = f"SELECT toString(event_id) FROM {db}.events_distinct"
    else:
        sql = " UNION ALL ".join(f"SELECT toString(event_id) FROM {db}.{t}{SUFFIX}" for t in INTAKE_TABLES)
    return [str(row[0]) for row in writer.query(sql).rows]


def delivery(ledger: Path, writer: Writer, dedup: bool = True) -> Delivery:
    """Lost = acknowledged ids not visible; duplicated = visible rows beyond one per id."""
    expected = {e.event_id for e in read_ledger(ledger) if e.event_id is not None}
    seen = Counter(visible_event_ids(writer, dedup))
    return Delivery(
        expected=len(expected),
        seen=sum(seen.values()),
        lost=len(expected - set(seen)),
        duplicated=sum(n - 1 for n in seen.values()),
    )
