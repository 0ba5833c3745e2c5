"""Publisher benchmark: throughput against kcat on the same payloads and broker, and rate accuracy.

Run against a running broker (``gridflow services up``; the address comes from the GRIDFLOW_* settings)::

    .venv/bin/python bench/bench_publish.py [--duration 12h --scale 8 --repeat 2 --accuracy-seconds 30]

1. Generates a normal_day recording (no overlay, so every payload is a valid message) and keeps its records
   in memory, so the publisher is measured, not the simulator or the file reader.
2. Publisher: sends every record (keyed by township, clock ticks to explicit partitions) with the production
   settings (idempotent, acks=all, lz4, linger/batching) and waits for every acknowledgement.
3. kcat (librdkafka, C): produces the same payloads with the same keys, idempotent, acks=all, lz4, to the
   same three intake topics under another prefix, one ``kcat -P -l`` per topic from key<TAB>value files.
   Its time is the sum of the three runs, each waiting for its deliveries. Ticks go keyed by "" there
   (kcat cannot pick a partition per line), which does not change the work.
4. Rate accuracy: a target of 2,000 records/s for 30 s with the publisher's pacer; prints achieved rate
   and error in percent.

The best of ``--repeat`` runs is reported for each side (the machine is shared and has 2 cores; timings
are noisy). Goal: >= 30,000 events/s from the publisher.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from infra.settings import KafkaSettings, load
from infra.topics_admin import ensure_topics
from producers.pacing import Pacer
from producers.publisher import Publisher, publish
from producers.record import Record
from producers.scenario import parse_duration, scenario
from producers.simulator import Simulator
from schemas.topics import topics


def _generate(duration: timedelta, scale: float) -> list[Record]:
    began = time.perf_counter()
    records = list(Simulator(scenario("normal_day"), seed=2024, duration=duration, scale=scale))
    print(
        f"generated {len(records):,} records (normal_day, {duration}, scale {scale}) "
        f"in {time.perf_counter() - began:.1f} s"
    )
    return records


def _publisher_run(
    servers: str, options: dict[str, object], records: list[Record], prefix: str
) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) to send and have acknowledged every record."""
    with Publisher(servers, topic_prefix=prefix, options=options) as publisher:
        cpu0 = os.times()
        began = time.perf_counter()
        stats = publish(records, publisher)
        wall = time.perf_counter() - began
        cpu1 = os.times()
    if stats.acked != len(records) or stats.errors:
        sys.exit(f"publisher: {stats.acked} of {len(records)} acknowledged, {stats.errors} errors")
    return wall, (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)


def _kcat_files(records: list[Record], folder: Path) -> dict[str, Path]:
    lines: dict[str, list[bytes]] = defaultdict(list)
    for record in records:
        lines[record.topic].append((record.key or "").encode() + b"\t" + record.value)
    files = {}
    for topic, payloads in lines.items():
        path = folder / f"{topic}.tsv"
        path.write_bytes(b"\n".join(payloads) + b"\n")
        files[topic] = path
    return files


def _kcat_run(kcat: str, servers: str, files: dict[str, Path], prefix: str) -> float:
    wall = 0.0
    for topic, path in files.items():
        command = [
            kcat,
            "-P",
            "-b",
            servers,
            "-t",
            prefix + topic,
            "-K",
            "\t",
            "-l",
            "-z",
            "lz4",
            "-X",
            "enable.idempotence=true",
            "-X",
            "acks=all",
            "-X",
            "linger.ms=20",
            "-X",
            "batch.size=262144",
            str(path),
        ]
        began = time.perf_counter()
        result = subprocess.run(command, capture_output=True, check=False)
        wall += time.perf_counter() - began
        if result.returncode != 0:
            sys.exit(f"kcat failed: {result.stderr.decode(errors='replace')[-400:]}")
    return wall


def _accuracy(
    servers: str,
    options: dict[str, object],
    records: list[Record],
    prefix: str,
    target: float,
    seconds: float,
) -> None:
    count = int(target * seconds)
    batch = (records * (count // len(records) + 1))[:count]
    with Publisher(servers, topic_prefix=prefix, options=options) as publisher:
        # Warm up (metadata, connections) first: the first send of a fresh client waits for metadata.
        publisher.send(batch[0])
        publisher.flush()
        pacer = Pacer(rate=target)
        send = publisher.send
        began = time.perf_counter()
        for record in batch:
            pacer.wait(record.emit_at)
            send(record)
        last = time.perf_counter()
        publisher.flush()
        acked = publisher.stats.acked - 1
    # The first record is due at `began`, the last at began + (count - 1) / target.
    span = last - began
    achieved = (count - 1) / span
    error = 100.0 * (achieved - target) / target
    print(
        f"rate accuracy: target {target:,.0f}/s for {seconds:.0f} s: sent {count:,} in {span:.2f} s = "
        f"{achieved:,.1f}/s (error {error:+.2f} %), acknowledged {acked:,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", default="12h")
    parser.add_argument("--scale", type=float, default=8.0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--accuracy-rate", type=float, default=2000.0)
    parser.add_argument("--accuracy-seconds", type=float, default=30.0)
    parser.add_argument("--skip-accuracy", action="store_true")
    args = parser.parse_args()

    kafka = load(KafkaSettings)
    servers, options = kafka.servers, kafka.client_options()
    kcat = shutil.which("kcat") or shutil.which("kafkacat")
    if kcat is None:
        sys.exit("kcat is not installed (Debian: apt-get install kcat)")
    records = _generate(parse_duration(args.duration), args.scale)
    run = f"bench{int(time.time())}"

    best_py, best_cpu, best_kcat = float("inf"), float("inf"), float("inf")
    with tempfile.TemporaryDirectory() as folder:
        files = _kcat_files(records, Path(folder))
        for i in range(args.repeat):
            for prefix in (f"{run}.py{i}.", f"{run}.kcat{i}."):
                ensure_topics(servers, topics(prefix).intake, options)
            wall, cpu = _publisher_run(servers, options, records, f"{run}.py{i}.")
            kcat_wall = _kcat_run(kcat, servers, files, f"{run}.kcat{i}.")
            print(
                f"  run {i + 1}: publisher {len(records) / wall:,.0f}/s (cpu {cpu:.1f} s), "
                f"kcat {len(records) / kcat_wall:,.0f}/s"
            )
            if wall < best_py:
                best_py, best_cpu = wall, cpu
            best_kcat = min(best_kcat, kcat_wall)
    n = len(records)
    print(
        f"publisher: {n:,} records in {best_py:.2f} s = {n / best_py:,.0f} events/s "
        f"(cpu-bound {n / best_cpu:,.0f}/s)"
    )
    print(f"kcat:      {n:,} records in {best_kcat:.2f} s = {n / best_kcat:,.0f} events/s")
    print(f"ratio publisher/kcat: {best_kcat / best_py:.2f}  (goal: publisher >= 30,000 events/s)")
    if not args.skip_accuracy:
        prefix = f"{run}.acc."
        ensure_topics(servers, topics(prefix).intake, options)
        _accuracy(servers, options, records, prefix, args.accuracy_rate, args.accuracy_seconds)


if __name__ == "__main__":
    main()
