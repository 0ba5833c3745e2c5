"""Drive gridflow processes (simulate/replay, workers) against the session's broker, as a user would.

Helpers for integration and end-to-end tests: run the CLI in a subprocess with a topic prefix of the test's
own, start and kill stream workers, wait on consumer-group lag (a condition, never a sleep), and read
topics back.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from kafka import KafkaConsumer, TopicPartition

from infra import lag
from infra.topics_admin import ensure_topics
from schemas.topics import topics

GRIDFLOW = [sys.executable, "-m", "gridflow.cli"]
# The tests' key for personal-data tokens (the sink refuses to run without one); not a real secret.
TEST_PII_KEY = "gridflow-tests-pii-key-0123456789"


class Pipeline:
    """One isolated pipeline namespace (topic prefix) on the session's broker."""

    def __init__(self, bootstrap: str, prefix: str, workdir: Path) -> None:
        self.bootstrap = bootstrap
        self.prefix = prefix
        self.workdir = workdir
        self.names = topics(prefix)
        self.extra_env: dict[str, str] = {}  # more GRIDFLOW_* for every process this pipeline starts
        ensure_topics(bootstrap, list(self.names))

    @property
    def env(self) -> dict[str, str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("GRIDFLOW_")}
        return {
            **clean,
            "GRIDFLOW_KAFKA_BOOTSTRAP": self.bootstrap,
            "GRIDFLOW_KAFKA_TOPIC_PREFIX": self.prefix,
            "GRIDFLOW_STATE_DIR": str(self.workdir / "state"),
            "GRIDFLOW_PII_KEY": TEST_PII_KEY,
            **self.extra_env,
        }

    @property
    def stream_group(self) -> str:
        return f"{self.prefix}gridflow-streams"

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*GRIDFLOW, *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        assert result.returncode == 0, f"gridflow {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result

    def start_workers(self, count: int = 1) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"worker-{time.monotonic_ns()}.log").open("wb")
        return subprocess.Popen(
            [*GRIDFLOW, "worker", "--workers", str(count)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @contextmanager
    def workers(self, count: int = 1) -> Iterator[subprocess.Popen[bytes]]:
        proc = self.start_workers(count)
        try:
            yield proc
        finally:
            stop(proc)

    def group_members(self) -> int:
        """Members of the stream workers' group, once it is stable (0 while it rebalances)."""
        return lag.stable_members(self.bootstrap, self.stream_group)

    def intake_end_offsets(self) -> dict[TopicPartition, int]:
        return lag.end_offsets(self.bootstrap, self.names.intake)

    def produced(self, role: str) -> int:
        """How many messages an output topic holds (sum of its end offsets)."""
        return sum(lag.end_offsets(self.bootstrap, [getattr(self.names, role)]).values())

    def committed(self) -> dict[TopicPartition, int]:
        return lag.committed(self.bootstrap, self.stream_group)

    def stream_lag(self) -> int:
        """Records the stream workers have yet to commit: intake first, then the county stage's input.

        In that order: once the intake is committed, every signal it caused is on ``cluster_signals``.
        """
        behind = lag.lag(self.bootstrap, self.stream_group, self.names.intake)
        return behind or lag.lag(self.bootstrap, self.stream_group, [self.names.cluster_signals])

    def read(self, role: str) -> list[Any]:
        """Every message on an output topic, decoded as JSON, in no particular order."""
        spec = getattr(self.names, role)
        return [orjson.loads(value) for _, value in self.read_raw(spec.name, spec.partitions)]

    def checkpoint_writers(self) -> Counter[str]:
        """Checkpoint records on the workers' changelog per writer (one id per worker process).

        A worker writes a checkpoint of a partition only after it fed that partition some input, so a
        writer here is a worker that did a share of the work.
        """
        name = f"{self.prefix}gridflow-streams-checkpoints-changelog"
        # Keys are b"p<partition>/<seq>/<writer>" (streams.core.chain.key).
        return Counter(
            key.rsplit(b"/", 1)[1].decode()
            for key, _ in self.read_raw(name, self.names.grid_reports.partitions)
        )

    def read_raw(self, name: str, partitions: int) -> list[tuple[bytes, bytes]]:
        """Every (key, value) on a topic with a value (not a tombstone), in no particular order."""
        consumer = KafkaConsumer(
            bootstrap_servers=self.bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
        )
        try:
            tps = [TopicPartition(name, p) for p in range(partitions)]
            consumer.assign(tps)
            ends = consumer.end_offsets(tps)
            out: list[tuple[bytes, bytes]] = []
            while any(consumer.position(tp) < ends[tp] for tp in tps):
                for records in consumer.poll(timeout_ms=1000).values():
                    out += [(r.key, r.value) for r in records if r.value is not None]
            return out
        finally:
            consumer.close()


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str, proc: Any = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited with {proc.returncode} while waiting for {what}")
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout_s: float = 30) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def final_view(pipeline: Pipeline) -> dict[str, dict[str, Any]]:
    """What a run decided: transitions by id, the latest version of each incident, dead letters by id."""
    transitions = {t["transition_id"]: t for t in pipeline.read("incident_transitions")}
    incidents: dict[str, Any] = {}
    for incident in pipeline.read("incidents"):
        known = incidents.get(incident["incident_id"])
        if known is None or incident["version"] > known["version"]:
            incidents[incident["incident_id"]] = incident
    dead = {}
    for letter in pipeline.read("deadletter"):
        letter.pop("processed_at")  # wall clock, recorded only
        dead[letter["dead_letter_id"]] = letter
    county = {a["alert_id"]: a for a in pipeline.read("county_alerts")}
    return {"transitions": transitions, "incidents": incidents, "deadletters": dead, "county_alerts": county}


def view_across_prefixes(pipeline: Pipeline, prefix: str) -> dict[str, dict[str, Any]]:
    """:func:`final_view` with dead letters keyed by where they came from, so runs on other prefixes compare:
    a dead letter's id is derived from its (prefixed) source topic."""
    view = final_view(pipeline)
    view["deadletters"] = {
        f"{d['source_topic'].removeprefix(prefix)}/{d['source_partition']}/{d['source_offset']}": d[
            "error_class"
        ]
        for d in view["deadletters"].values()
    }
    return view


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
