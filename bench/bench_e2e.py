"""End-to-end benchmark: publisher, stream worker(s), sink and a queryability poller on one machine.

    python bench/bench_e2e.py [--rates 1000,2500,5000,7500,10000] [--step 60] [--workers 1]

Uses the broker in GRIDFLOW_KAFKA_BOOTSTRAP and the ClickHouse server in GRIDFLOW_CLICKHOUSE_URL, or
starts its own (Kafka from the cached jars, clickhouse-server) in a scratch state directory on free ports,
as the test fixtures do, and stops them at the end. It records a scenario once, then:

1. **the publisher's ceiling**: the recording published as fast as `producers.publisher` goes, into
   topics no one reads;
2. **steps**: for each offered rate in turn, in fresh topics and a fresh database, ``gridflow worker``
   process(es) and a ``gridflow sink`` process run while this process publishes the recording at that rate
   for ``--step`` seconds and a poller asks ClickHouse every 100 ms which events (intake rows) and which
   decisions (transitions, by their source event) have become queryable. Every second it samples the
   lag of the workers' group and of the sink's group. A rate is *sustained* when the lag did not grow
   over the step (its peak in the second half within 2 s of input of the first half's); the first rate
   that is not ends the climb.

It prints, per step, the lags and produce→queryable percentiles (events, and decisions), then the highest
sustained rate, its percentiles and the publisher's ceiling. A decision waits in the sequencer until every
source of its partition has ticked past its event time plus the policy's allowed lateness (the determinism
guarantee), so at a compressed replay its latency includes that lateness divided by the replay's speed-up.
Timings on a shared 2-core machine are noisy: run it more than once.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from gridflow.services.clickhouse import ClickHouseService
from gridflow.services.kafka import KafkaService
from gridflow.services.process import free_port
from infra.lag import lag, stable_members
from infra.settings import ServiceSettings
from infra.topics_admin import ensure_topics
from producers.publisher import Publisher
from producers.record import Record
from producers.recording import RecordingReader
from schemas.topics import topics
from sinks import apply_migrations, connect, drop_database, with_database
from sinks.sink import sink_topics

GRIDFLOW = [sys.executable, "-m", "gridflow.cli"]
INTAKE_TABLES = ("grid_reports", "camera_alerts", "dispositions")
BEHIND_S = 2.0  # a step is sustained when its lag grew by less than this much input
POLL_S = 0.1


@dataclass
class Step:
    rate: int
    sent: dict[str, float] = field(default_factory=dict)  # event id -> when it was handed to the producer
    events: dict[str, float] = field(default_factory=dict)  # event id -> when its row was queryable
    decisions: dict[str, float] = field(default_factory=dict)  # source event id -> first transition seen
    lags: list[tuple[float, int, int]] = field(default_factory=list)  # (s into the step, worker, sink)
    published_s: float = 0.0

    @property
    def sustained(self) -> bool:
        """The lag did not grow over the step: its peak in the second half is within 2 s of input of
        its peak in the first half. (The workers' committed offsets move only at checkpoints, every few
        seconds, so their lag saws up and down by that much input even when they keep up.)"""
        half = len(self.lags) // 2
        first = max((w + s for _, w, s in self.lags[:half]), default=0)
        second = max((w + s for _, w, s in self.lags[half:]), default=0)
        return second <= first + self.rate * BEHIND_S

    def delays(self, seen: dict[str, float]) -> list[float]:
        return sorted(seen[e] - self.sent[e] for e in self.sent if e in seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="1000,2500,5000,7500,10000")
    parser.add_argument("--step", type=float, default=60.0, help="seconds per offered rate")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--scale", default="20")
    args = parser.parse_args()
    try:
        rates = [int(r) for r in args.rates.split(",")]
    except ValueError:
        sys.exit(f"--rates {args.rates!r}: expected whole numbers separated by commas")
    work = Path(tempfile.mkdtemp(prefix="gridflow-bench-e2e-"))
    settings = ServiceSettings(
        state_dir=work / "state",
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        clickhouse_tcp_port=free_port(),
        clickhouse_http_port=free_port(),
    )
    bootstrap = os.environ.get("GRIDFLOW_KAFKA_BOOTSTRAP")
    server_url = os.environ.get("GRIDFLOW_CLICKHOUSE_URL")
    started: list[KafkaService | ClickHouseService] = []
    try:
        if bootstrap is None:
            kafka = KafkaService(settings)
            started.append(kafka)
            print(kafka.up())
            bootstrap = kafka.bootstrap
        if server_url is None:
            clickhouse = ClickHouseService(settings)
            started.append(clickhouse)
            print(clickhouse.up())
            server_url = clickhouse.url
        run(bootstrap, server_url, work, rates, args)
    finally:
        for service in reversed(started):
            service.down()


def run(bootstrap: str, server_url: str, work: Path, rates: list[int], args: argparse.Namespace) -> None:
    # Enough simulated time for the highest rate's step (about 33,700 records per hour at scale 20).
    hours = max(1, int(max(rates) * args.step / (33_700 * float(args.scale) / 20)) + 1)
    recording = work / "load.jsonl"
    sim = ["--scenario", "normal_day", "--seed", "5", "--start", "2026-03-02T08:00:00+08:00"]
    command = [*GRIDFLOW, "simulate", *sim, "--scale", args.scale, "--duration", f"{hours}h"]
    subprocess.run([*command, "--dry-run", "--out", str(recording)], check=True, capture_output=True)
    records = list(RecordingReader(recording))
    print(f"load: {len(records):,} records ({hours} h of normal_day at scale {args.scale})")

    ceiling = publisher_ceiling(bootstrap, records)
    print(f"publisher ceiling: {ceiling:,.0f} events/s")
    best: Step | None = None
    for rate in rates:
        step = run_step(bootstrap, server_url, work, records, rate, args)
        report(step)
        if not step.sustained:
            break
        best = step
    if best is None:
        print(f"sustained: none of the offered rates (publisher ceiling {ceiling:,.0f} events/s)")
        return
    events, decisions = best.delays(best.events), best.delays(best.decisions)
    print(
        f"sustained end to end: {best.rate:,} events/s ({best.rate / ceiling:.1%} of the publisher's "
        f"ceiling, {ceiling:,.0f} events/s); produce→queryable p50 {pct(events, 0.5)} ms, "
        f"p99 {pct(events, 0.99)} ms; decisions p50 {pct(decisions, 0.5)} ms, p99 {pct(decisions, 0.99)} ms"
    )


def publisher_ceiling(bootstrap: str, records: list[Record]) -> float:
    prefix = f"e2ecap{uuid.uuid4().hex[:6]}."
    with Publisher(bootstrap, topic_prefix=prefix) as publisher:
        started = time.perf_counter()
        for record in records:
            publisher.send(record)
        publisher.flush()
        return len(records) / (time.perf_counter() - started)


def run_step(
    bootstrap: str, server_url: str, work: Path, records: list[Record], rate: int, args: argparse.Namespace
) -> Step:
    step = Step(rate)
    tag = uuid.uuid4().hex[:6]
    prefix = f"e2e{tag}."
    ensure_topics(bootstrap, list(topics(prefix)))
    url = with_database(server_url, f"bench_e2e_{tag}")
    with connect(url) as writer:
        apply_migrations(writer)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GRIDFLOW_")},
        "GRIDFLOW_KAFKA_BOOTSTRAP": bootstrap,
        "GRIDFLOW_KAFKA_TOPIC_PREFIX": prefix,
        "GRIDFLOW_CLICKHOUSE_URL": url,
        "GRIDFLOW_STATE_DIR": str(work / f"state-{tag}"),
        # The sink refuses to run without a key for personal-data tokens: a one-off key, as the demo does.
        "GRIDFLOW_PII_KEY": os.environ.get("GRIDFLOW_PII_KEY") or secrets.token_urlsafe(32),
    }
    logs = work / f"step-{rate}"
    logs.mkdir()
    procs = [
        spawn([*GRIDFLOW, "worker", "--workers", str(args.workers)], env, logs / "worker.log"),
        spawn([*GRIDFLOW, "sink", "--batch-seconds", "0.5"], env, logs / "sink.log"),
    ]
    worker_group, sink_group = f"{prefix}gridflow-streams", f"{prefix}gridflow-sink"
    worker_topics, sink_sources = list(topics(prefix).intake), sink_topics(prefix)
    done = threading.Event()
    poller = threading.Thread(target=poll, args=(url, step, done))
    try:
        deadline = time.monotonic() + 120
        while stable_members(bootstrap, worker_group) < args.workers and time.monotonic() < deadline:
            time.sleep(0.2)
        poller.start()
        count = min(len(records), int(rate * args.step))
        publisher = threading.Thread(target=publish, args=(bootstrap, prefix, records[:count], rate, step))
        started = time.monotonic()
        publisher.start()
        while publisher.is_alive():
            time.sleep(1.0)
            for proc, log in zip(procs, ("worker.log", "sink.log"), strict=True):
                if proc.poll() is not None:  # a step without its worker or sink measures nothing
                    sys.exit(f"a child process ended with status {proc.returncode}: see {logs / log}")
            step.lags.append(
                (
                    time.monotonic() - started,
                    lag(bootstrap, worker_group, worker_topics),
                    lag(bootstrap, sink_group, sink_sources),
                )
            )
        publisher.join()
        # Let what was published drain (bounded), so the percentiles cover the step's events.
        drain = time.monotonic() + 30
        while time.monotonic() < drain and (
            lag(bootstrap, worker_group, worker_topics) or lag(bootstrap, sink_group, sink_sources)
        ):
            time.sleep(0.5)
        time.sleep(2 * POLL_S + 1.0)  # the sink's last batch and one more poll
    finally:
        done.set()
        if poller.is_alive():
            poller.join()
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(60)
        with connect(url) as writer:
            drop_database(writer)
    return step


def spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )


def publish(bootstrap: str, prefix: str, records: list[Record], rate: int, step: Step) -> None:
    """Send ``records`` at ``rate``/s through the project's publisher, noting each event's send time."""
    clock = time.monotonic
    with Publisher(bootstrap, topic_prefix=prefix) as publisher:
        started = clock()
        for i, record in enumerate(records):
            ahead = started + i / rate - clock()
            if ahead > 0:
                time.sleep(ahead)
            publisher.send(record)
            if record.event_id is not None:
                step.sent.setdefault(record.event_id, clock())
        publisher.flush()
        step.published_s = clock() - started


def poll(url: str, step: Step, done: threading.Event) -> None:
    """Note when each event's row, and the first decision it caused, became queryable."""
    with connect(url) as reader:
        db = reader.database
        since = 0
        queries = [
            (
                step.events,
                f"SELECT toString(event_id), toUInt32(ingested_at) FROM {db}.{table} "
                "WHERE ingested_at >= toDateTime({since})",
            )
            for table in INTAKE_TABLES
        ]
        queries.append(
            (
                step.decisions,
                "SELECT toString(assumeNotNull(source_event_id)), toUInt32(ingested_at) "
                f"FROM {db}.transitions "
                "WHERE source_event_id IS NOT NULL AND ingested_at >= toDateTime({since})",
            )
        )
        while not done.is_set():
            latest = since
            for seen, sql in queries:
                rows = reader.query(sql.format(since=since)).rows
                now = time.monotonic()
                for event_id, landed in rows:
                    seen.setdefault(str(event_id), now)
                    latest = max(latest, int(str(landed)) - 2)
            since = latest
            time.sleep(POLL_S)


def pct(delays: list[float], q: float) -> str:
    if not delays:
        return "-"
    return f"{delays[min(len(delays) - 1, int(q * len(delays)))] * 1000:,.0f}"


def report(step: Step) -> None:
    events, decisions = step.delays(step.events), step.delays(step.decisions)
    peak = max(step.lags, key=lambda sample: sample[1] + sample[2])
    _, worker, sink = step.lags[-1]
    verdict = "sustained" if step.sustained else f"NOT sustained (lag grew by over {BEHIND_S:.0f} s of input)"
    print(
        f"offered {step.rate:,}/s for {step.published_s:.0f} s: {verdict}; lag at the end worker {worker:,} "
        f"sink {sink:,}, peak worker {peak[1]:,} sink {peak[2]:,} records\n"
        f"  produce→queryable events p50 {pct(events, 0.5)} ms p99 {pct(events, 0.99)} ms "
        f"({len(events):,} of {len(step.sent):,} seen); decisions p50 {pct(decisions, 0.5)} ms "
        f"p99 {pct(decisions, 0.99)} ms ({len(decisions):,} events with a decision)"
    )


if __name__ == "__main__":
    main()
