"""Benchmark the Kafka → ClickHouse sink: landing rate for a recorded load, and produce → queryable latency.

Run it as a command (not part of the test suite) against a running broker and clickhouse-server, e.g. the
ones of ``gridflow services up`` started with their own state and ports::

    export GRIDFLOW_STATE_DIR=/tmp/gf-bench-sink GRIDFLOW_KAFKA_PORT=49092 \\
           GRIDFLOW_KAFKA_CONTROLLER_PORT=49093 GRIDFLOW_CLICKHOUSE_TCP_PORT=49000 \\
           GRIDFLOW_CLICKHOUSE_HTTP_PORT=48123
    .venv/bin/gridflow services up
    .venv/bin/python bench/bench_sink.py --bootstrap 127.0.0.1:49092 --url clickhouse://default:@127.0.0.1:49000/
    .venv/bin/gridflow services down

Two phases, each in fresh topics (a unique prefix) and a fresh database:

1. **landing rate**: a recorded scenario (``gridflow simulate --dry-run --out``) is replayed into the intake
   topics first; then one sink (in this process, default batching: 50,000 rows or 1 s) drains the backlog.
   Printed: records/s consumed and rows/s inserted, from the sink's start to its last commit.
2. **produce → queryable**: with a ``gridflow sink`` process running (``--latency-batch-seconds``; its own
   process, so this one's producer and poller do not share its interpreter), the same recording is sent
   at ``--rate`` messages/s by a plain kafka-python producer that notes each event's send time; a poller
   asks ClickHouse every 20 ms which event ids have become visible. Printed: p50/p99/max of
   visible time − send time (the poll interval bounds the error). Target (docs/architecture.md): p99 ≤ 2 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from kafka import KafkaProducer

from infra.lag import end_offsets, lag
from infra.topics_admin import ensure_topics
from producers.record import Record
from producers.recording import RecordingReader
from schemas.topics import topics
from sinks import apply_migrations, connect, drop_database, with_database
from sinks.rows import COLUMNS
from sinks.sink import Sink, SinkConfig
from sinks.url import NativeUrl, parse_url

INTAKE_TABLES = ("grid_reports", "camera_alerts", "dispositions")


def _record(path: Path, duration: str, scale: float) -> list[Record]:
    if not path.exists():
        subprocess.run(
            [sys.executable, "-m", "gridflow.cli", "simulate", "--scenario", "normal_day", "--seed", "1",
             "--duration", duration, "--scale", str(scale), "--dry-run", "--out", str(path)],
            check=True, capture_output=True,
        )  # fmt: skip
    return list(RecordingReader(path))


def _send(bootstrap: str, prefix: str, records: list[Record], rate: float | None) -> dict[str, float]:
    """Send records (keys and tick partitions as recorded); returns each event id's send time (monotonic)."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks=1)
    sent: dict[str, float] = {}
    start = time.monotonic()
    for i, record in enumerate(records):
        if rate:
            ahead = start + i / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        key = record.key.encode() if record.key else None
        producer.send(prefix + record.topic, record.value, key=key, partition=record.partition)
        if record.event_id is not None:
            sent.setdefault(record.event_id, time.monotonic())
    producer.flush()
    producer.close()
    return sent


def _namespace(bootstrap: str, server_url: str) -> tuple[str, str]:
    tag = uuid.uuid4().hex[:8]
    prefix = f"bench{tag}."
    ensure_topics(bootstrap, list(topics(prefix)))
    url = with_database(server_url, f"bench_{tag}")
    with connect(url) as writer:
        apply_migrations(writer)
    return prefix, url


def landing_rate(bootstrap: str, server_url: str, records: list[Record]) -> None:
    prefix, url = _namespace(bootstrap, server_url)
    _send(bootstrap, prefix, records, rate=None)
    config = SinkConfig(bootstrap=bootstrap, url=url, prefix=prefix)
    sink = Sink(config)
    cpu: list[float] = []

    def run() -> None:
        # The sink thread's own CPU time: on a shared box it says more than wall time (records/CPU-s).
        started = time.thread_time()
        sink.run()
        cpu.append(time.thread_time() - started)

    worker = threading.Thread(target=run)
    ends = {tp: end for tp, end in end_offsets(bootstrap, config.sources()).items() if end}
    start = time.monotonic()
    worker.start()
    # Caught up when its own commits reach the ends: asking the broker (infra.lag) every 50 ms from this
    # interpreter built two Kafka clients each time, and took the GIL from the sink being measured.
    while any(sink.committed().get(tp, 0) < end for tp, end in ends.items()):
        time.sleep(0.01)
    done = time.monotonic()
    sink.request_stop()
    worker.join()
    left = lag(bootstrap, config.group_id, config.sources())
    if left:
        raise SystemExit(f"landing: the group still lags by {left} records after the sink caught up")
    stats = sink.stats
    elapsed = done - start
    steady = done - (stats.first_record_at or start)
    print(
        f"landing: {stats.records:,} records ({stats.inserted:,} rows, the rest clock ticks) "
        f"in {elapsed:.2f} s = {stats.records / elapsed:,.0f} records/s with start-up "
        f"(group join); from the first record: {stats.records / steady:,.0f} records/s, "
        f"{stats.inserted / steady:,.0f} rows/s ({stats.batches} batches); sink thread CPU {cpu[0]:.2f} s = "
        f"{stats.records / cpu[0]:,.0f} records per CPU-second"
    )
    ceiling = client_insert_rate(url)
    if ceiling is not None:
        print(
            f"ceiling: clickhouse-client inserts the same {ceiling[0]:,} rows (TSV, one process per table) "
            f"at {ceiling[1]:,.0f} rows/s; sink rows/s from the first record = "
            f"{stats.inserted / steady / ceiling[1]:.0%} of it"
        )
    with connect(url) as writer:
        drop_database(writer)


def client_insert_rate(url: str) -> tuple[int, float] | None:
    """Rows and rows/s of clickhouse-client inserting, as TSV, the very rows the sink landed (copy tables)."""
    client = shutil.which("clickhouse-client")
    parsed = parse_url(url)
    if client is None or not isinstance(parsed, NativeUrl):
        print("ceiling: no clickhouse-client on PATH (or an embedded URL); not measured")
        return None
    base = [client, "--host", parsed.host, "--port", str(parsed.port), "--user", parsed.user]
    if parsed.password:
        base += ["--password", parsed.password]
    db = parsed.database
    rows, seconds = 0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for table in COLUMNS:
            names = ", ".join(COLUMNS[table])
            dump = Path(tmp) / f"{table}.tsv"
            with dump.open("wb") as out:
                subprocess.run(
                    [*base, "--query", f"SELECT {names} FROM {db}.{table} FORMAT TabSeparated"],
                    stdout=out, check=True,
                )  # fmt: skip
            count = sum(1 for _ in dump.open("rb"))
            if not count:
                continue
            subprocess.run(
                [*base, "--query", f"CREATE TABLE {db}.{table}_ceiling AS {db}.{table}"], check=True
            )
            started = time.perf_counter()
            with dump.open("rb") as stdin:
                subprocess.run(
                    [*base, "--query", f"INSERT INTO {db}.{table}_ceiling ({names}) FORMAT TabSeparated"],
                    stdin=stdin, check=True,
                )  # fmt: skip
            seconds += time.perf_counter() - started
            rows += count
    return (rows, rows / seconds) if seconds else None


def latency(
    bootstrap: str, server_url: str, records: list[Record], rate: float, batch_seconds: float
) -> None:
    prefix, url = _namespace(bootstrap, server_url)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GRIDFLOW_")},
        "GRIDFLOW_KAFKA_BOOTSTRAP": bootstrap,
        "GRIDFLOW_KAFKA_TOPIC_PREFIX": prefix,
        "GRIDFLOW_CLICKHOUSE_URL": url,
        "GRIDFLOW_PII_KEY": "bench-pii-key-0123456789abcdef",
    }
    sink = subprocess.Popen(
        [sys.executable, "-m", "sinks", "sink", "--batch-seconds", str(batch_seconds)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    seen: dict[str, float] = {}
    done = threading.Event()

    def poll() -> None:
        with connect(url) as writer:
            db = writer.database
            since = 0
            while not done.is_set():
                for table in INTAKE_TABLES:
                    rows = writer.query(
                        f"SELECT toString(event_id), toUInt32(ingested_at) FROM {db}.{table} "
                        f"WHERE ingested_at >= toDateTime({since})"
                    ).rows
                    now = time.monotonic()
                    for event_id, landed in rows:
                        seen.setdefault(str(event_id), now)
                        since = max(since, int(str(landed)) - 2)
                time.sleep(0.02)

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(4.0)  # let the sink start and assign its partitions before the clock starts
    sent = _send(bootstrap, prefix, records, rate=rate)
    deadline = time.monotonic() + 60
    while len(set(sent) - set(seen)) and time.monotonic() < deadline:
        time.sleep(0.1)
    done.set()
    poller.join()
    sink.send_signal(signal.SIGTERM)
    sink.wait(30)
    delays = sorted(seen[e] - sent[e] for e in sent if e in seen)
    missing = len(sent) - len(delays)

    def pct(q: float) -> float:
        return delays[min(len(delays) - 1, max(0, round(q * len(delays) + 0.5) - 1))]

    print(
        f"produce → queryable at {rate:,.0f} msg/s, batch {batch_seconds} s: {len(delays):,} events, "
        f"p50 {pct(0.50) * 1000:,.0f} ms, p99 {pct(0.99) * 1000:,.0f} ms, max {delays[-1] * 1000:,.0f} ms"
        + (f", {missing} never seen" if missing else "")
    )
    with connect(url) as writer:
        drop_database(writer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:49092")
    parser.add_argument("--url", default="clickhouse://default:@127.0.0.1:49000/default")
    parser.add_argument("--duration", default="6h", help="simulated period of the recorded load")
    parser.add_argument("--scale", type=float, default=20.0)
    parser.add_argument("--recording", type=Path, default=Path("/tmp/gridflow-bench-sink.jsonl.gz"))
    parser.add_argument("--rate", type=float, default=5000.0, help="messages/s in the latency phase")
    parser.add_argument("--latency-batch-seconds", type=float, default=0.5)
    args = parser.parse_args()
    records = _record(args.recording, args.duration, args.scale)
    print(f"recorded load: {len(records):,} records ({args.duration} at scale {args.scale})")
    landing_rate(args.bootstrap, args.url, records)
    latency(args.bootstrap, args.url, records[:40_000], args.rate, args.latency_batch_seconds)


if __name__ == "__main__":
    main()
