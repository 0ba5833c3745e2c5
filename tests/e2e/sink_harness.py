"""Drive the ClickHouse sink in end-to-end tests: a pipeline namespace with its own database, and the oracle.

:class:`SinkPipeline` extends the streams' :class:`pipeline_harness.Pipeline` (topic prefix, CLI in a
subprocess, workers) with a ClickHouse URL of the test's own, so ``gridflow init``/``sink``/``simulate`` all
run as a user would run them. :func:`delivery` is the delivery oracle of
docs/architecture.md: the producer's ledger of acknowledged event ids against the event ids analysts can see.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from kafka import KafkaAdminClient
from pipeline_harness import GRIDFLOW, TEST_PII_KEY, Pipeline, stop, wait_until

from infra import lag
from producers.ledger import read_ledger
from sinks import connect
from sinks.nodedup import SUFFIX
from sinks.sink import sink_topics
from sinks.writer import Writer

__all__ = ["GRIDFLOW", "TEST_PII_KEY", "Delivery", "SinkPipeline", "delivery", "stop", "wait_until"]

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

    def start_sink(self, *args: str) -> subprocess.Popen[bytes]:
        return self.start("sink", *args, name="sink")

    def forget_sink_offsets(self) -> None:
        """Delete the sink group's committed offsets, as after a crash before any commit.

        The broker answers a deletion with a per-group error instead of raising one: while a stopped sink's
        leave is still in flight the group is not empty and nothing is deleted. So the deletion is retried
        until the broker says OK; a silent refusal once made a second landing find nothing to do.
        """

        def deleted() -> bool:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
            try:
                answer: dict[str, str] = admin.delete_groups([self.sink_group])
                return answer.get(self.sink_group) == "OK"
            finally:
                admin.close()

        wait_until(deleted, 60, f"the broker to delete group {self.sink_group}")

    def sink_lag(self) -> int:
        """Records on the sink's topics not yet committed by the sink's group."""
        return lag.lag(self.bootstrap, self.sink_group, sink_topics(self.prefix))


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
