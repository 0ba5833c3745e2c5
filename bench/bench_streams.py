"""Stream-stage benchmark: gridflow's faust worker against a bare aiokafka consume→produce loop.

    python bench/bench_streams.py [--duration 3h] [--scale 20] [--latency-rate 5000] [--core-only]

``--core-only`` records the scenario and measures only the core alone (step 3), without a broker: the cheap
way to compare two versions of the core in one sitting (``--profile FILE`` also writes its cProfile stats).

Runs on the broker in GRIDFLOW_KAFKA_BOOTSTRAP, or starts a local one in a scratch state directory. It
records a scenario, publishes it once, then measures in the same run:

1. the ceiling: a bare aiokafka loop that reads every intake record and produces it to another topic;
2. faust's floor: a faust agent reading the same topics as the worker does and doing nothing with them
   (`faust_floor.py`): what faust itself costs per record;
3. the core alone: the same records fed to the partition runners in this process, no Kafka (decode,
   sequence, classify, escalate, encode outputs);
4. gridflow: one `gridflow worker` draining the same records (the core, plus faust, publishing and
   checkpoints), timed from its first output to zero lag;
5. latency: the recording published again at ``--latency-rate`` messages/s while a worker runs. For every
   transition, the time the broker appended it (the transitions topic keeps log-append times) minus:
   - *from its event*: when the intake record that caused it was produced. This includes the wait the
     determinism guarantee imposes: the sequencer holds a record until every source of its partition has
     ticked past its event time plus the allowed lateness (`streams.core.sequencer`), so at replay speed it is
     mostly the policy's lateness divided by the replay's speed-up;
   - *from decidable*: when the last record the decision needed was produced — the later of that event
     and the earliest clock tick on each source of the partition that could have released it. This is the
     pipeline's own latency (fetch, sequence, escalate, publish), and what the stream stage can improve;
     also shown *while running*, without the burst the replay's closing ticks cause (see `latencies`).

It prints rates, their ratio, and latency percentiles. Timings on a shared 2-core machine are noisy: compare
the ratio, and run it more than once.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka import KafkaConsumer, TopicPartition

from gridflow.services.kafka import KafkaService
from gridflow.services.process import free_port
from infra.lag import end_offsets, lag, stable_members
from infra.placement import key_partition
from infra.settings import ServiceSettings
from infra.topics_admin import ensure_topics
from producers.partitioner import partition_of
from producers.recording import RecordingReader
from schemas.geography import load_geography
from schemas.topics import Topics, TopicSpec, topics
from streams.core.escalation import Engine
from streams.core.runner import PartitionRunner
from streams.runtime.app import QUIET_S
from streams.runtime.heap import Heap

GRIDFLOW = [sys.executable, "-m", "gridflow.cli"]


def cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([*GRIDFLOW, *args], env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"gridflow {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


async def bare_loop(bootstrap: str, sources: list[str], sink: str, total: int) -> float:
    """Records/s of the simplest consume→produce loop over the same records: the ceiling."""
    consumer = AIOKafkaConsumer(
        *sources,
        bootstrap_servers=bootstrap,
        group_id=f"bare-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        max_poll_records=5000,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await consumer.start()
    await producer.start()
    seen = 0
    started = None
    try:
        while seen < total:
            batch = await consumer.getmany(timeout_ms=1000)
            started = started or time.perf_counter()
            for records in batch.values():
                for record in records:
                    await producer.send(sink, record.value, key=record.key)
                seen += len(records)
        await producer.flush()
        await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()
    return total / (time.perf_counter() - (started or time.perf_counter()))


def faust_floor(bootstrap: str, sources: list[str], total: int) -> float:
    """Records/s of a faust agent that reads ``sources`` as the worker does and does nothing else."""
    script = Path(__file__).with_name("faust_floor.py")
    command = [sys.executable, str(script), bootstrap, *sources, "--total", str(total)]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    if result.returncode != 0 or not result.stdout.strip():
        sys.exit(f"faust_floor.py failed: {result.stderr.strip()[-2000:]}")
    return float(result.stdout.strip().splitlines()[-1])


def core_rate(recording: Path, profile: Path | None = None) -> tuple[float, float]:
    """Records/s of the escalation core alone: every partition's records fed to its runner in turn.

    Also records per second of this process's CPU time, which a loaded machine disturbs far less. The heap is
    kept as the worker keeps it (`streams.runtime.heap`: young collections and a freeze about once a
    second), so the collector's full passes over the growing state count here only as much as in a worker.
    """
    partitions = {spec.name: spec.partitions for spec in topics().intake}
    by_partition: dict[int, list[tuple[str, int, bytes]]] = {}
    next_offset: dict[tuple[str, int], int] = {}
    for record in RecordingReader(recording):
        partition = partition_of(record, partitions[record.topic])
        offset = next_offset.get((record.topic, partition), 0)
        next_offset[(record.topic, partition)] = offset + 1
        by_partition.setdefault(partition, []).append((record.topic, offset, record.value))
    engine = Engine.bundled()
    fixed = datetime(2026, 1, 1, tzinfo=UTC)
    total = sum(len(records) for records in by_partition.values())
    profiler = cProfile.Profile() if profile else None
    heap = Heap()
    started, cpu = time.perf_counter(), time.process_time()
    settle_at = started + QUIET_S
    if profiler:
        profiler.enable()
    for partition, records in by_partition.items():
        runner = PartitionRunner(engine, partition, tuple(partitions), lambda: fixed)
        for topic, offset, value in records:
            runner.feed(topic, offset, value)
            if time.perf_counter() >= settle_at:
                heap.settle()
                settle_at = time.perf_counter() + QUIET_S
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if profiler and profile:
        profiler.disable()
        profiler.dump_stats(profile)
    return total / elapsed, total / cpu


def worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*GRIDFLOW, "worker"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(30)


def produced(bootstrap: str, spec: TopicSpec) -> int:
    return sum(end_offsets(bootstrap, [spec]).values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", default="3h")
    parser.add_argument("--scale", default="20")
    parser.add_argument("--latency-rate", default="5000")
    parser.add_argument("--core-only", action="store_true", help="measure the core alone, no broker")
    parser.add_argument(
        "--profile", type=Path, help="with --core-only: write cProfile stats of the core here"
    )
    args = parser.parse_args()
    if args.core_only:
        recording = Path(tempfile.mkdtemp(prefix="gridflow-bench-core-")) / "load.jsonl"
        record(recording, args)
        total = sum(1 for _ in RecordingReader(recording))
        print(f"load: {total:,} intake records ({args.duration} of normal_day at scale {args.scale})")
        core, per_cpu = core_rate(recording, args.profile)
        print(f"core alone (no Kafka, one process):   {core:,.0f} records/s  ({per_cpu:,.0f} per CPU-second)")
        return

    work = Path(tempfile.mkdtemp(prefix="gridflow-bench-streams-"))
    bootstrap = os.environ.get("GRIDFLOW_KAFKA_BOOTSTRAP")
    kafka = None
    if bootstrap is None:
        kafka = KafkaService(
            ServiceSettings(
                state_dir=work / "state", kafka_port=free_port(), kafka_controller_port=free_port()
            )
        )
        print(kafka.up())
        bootstrap = kafka.bootstrap
    try:
        run(bootstrap, work, args)
    finally:
        if kafka is not None:
            kafka.down()


def record(recording: Path, args: argparse.Namespace) -> None:
    """The benchmark's load: ``--duration`` of normal_day at ``--scale``, written to ``recording``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("GRIDFLOW_")}
    sim = ["--scenario", "normal_day", "--seed", "5", "--start", "2026-03-02T08:00:00+08:00"]
    sim += ["--scale", args.scale, "--duration", args.duration, "--dry-run", "--out", str(recording)]
    cli(base, "simulate", *sim)


def run(bootstrap: str, work: Path, args: argparse.Namespace) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GRIDFLOW_")}
    recording = work / "load.jsonl"
    record(recording, args)

    prefix = f"bs{uuid.uuid4().hex[:6]}."
    names = topics(prefix)
    ensure_topics(bootstrap, list(names))
    bare_out = TopicSpec(f"{prefix}bare.out", 6, "same as input", "delete", None)
    ensure_topics(bootstrap, [bare_out])
    env = {**base, "GRIDFLOW_KAFKA_BOOTSTRAP": bootstrap, "GRIDFLOW_KAFKA_TOPIC_PREFIX": prefix}
    cli(env, "replay", str(recording), "--speed", "0")
    intake = list(names.intake)
    total = sum(end_offsets(bootstrap, intake).values())
    print(f"load: {total:,} intake records ({args.duration} of normal_day at scale {args.scale})")

    ceiling = asyncio.run(bare_loop(bootstrap, [s.name for s in intake], bare_out.name, total))
    print(f"ceiling  bare aiokafka consume→produce: {ceiling:,.0f} records/s")
    floor = faust_floor(bootstrap, [s.name for s in intake], total)
    print(f"faust floor (an empty agent):         {floor:,.0f} records/s  ({floor / ceiling:.1%} of ceiling)")
    core, per_cpu = core_rate(recording)
    print(
        f"core alone (no Kafka, one process):   {core:,.0f} records/s  ({core / ceiling:.1%} of the ceiling; "
        f"{per_cpu:,.0f} per CPU-second)"
    )

    proc = worker(env, work / "worker.log")
    try:
        while produced(bootstrap, names.incident_transitions) == 0:
            time.sleep(0.05)
        started = time.perf_counter()
        while lag(bootstrap, f"{prefix}gridflow-streams", intake) > 0:
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
    finally:
        stop(proc)
    rate = total / elapsed
    print(
        f"gridflow worker (1 process):          {rate:,.0f} records/s  ({rate / ceiling:.1%} of the ceiling)"
    )

    # Latency: a fresh namespace, a worker already running, the load published at a fixed rate.
    prefix = f"bl{uuid.uuid4().hex[:6]}."
    names = topics(prefix)
    ensure_topics(bootstrap, list(names))
    append_times(bootstrap, names.incident_transitions.name)
    env = {**env, "GRIDFLOW_KAFKA_TOPIC_PREFIX": prefix}
    proc = worker(env, work / "worker-latency.log")
    try:
        while stable_members(bootstrap, f"{prefix}gridflow-streams") == 0:  # joined before the clock starts
            time.sleep(0.2)
        cli(env, "replay", str(recording), "--speed", "0", "--rate", args.latency_rate)
        while lag(bootstrap, f"{prefix}gridflow-streams", list(names.intake)) > 0:
            time.sleep(0.2)
    finally:
        stop(proc)
    measured = latencies(bootstrap, names, Engine.bundled().policy.allowed_lateness)
    for label, delays in measured.items():
        print(
            f"produce→transition at {args.latency_rate} msg/s, {label}: p50 {pick(delays, 0.5)} ms, "
            f"p99 {pick(delays, 0.99)} ms, max {delays[-1]} ms over {len(delays):,} transitions"
        )


def pick(delays: list[int], q: float) -> int:
    return delays[min(len(delays) - 1, int(q * len(delays)))]


def append_times(bootstrap: str, topic: str) -> None:
    """Have the broker stamp ``topic``'s records when it appends them: when consumers can see them."""
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        config = {"message.timestamp.type": "LogAppendTime"}
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs=config)])
    finally:
        admin.close()


def latencies(bootstrap: str, names: Topics, lateness: timedelta) -> dict[str, list[int]]:
    """Per transition, ms from its event's produce time and from when it became decidable (sorted).

    "while running" leaves out the decisions the replay's closing ticks make possible: they move every
    partition's clock past the last minutes at once (a live clock does not jump), so the records those
    minutes held are all decided in one burst after the last event was published.
    """
    sent: dict[str, int] = {}
    ticks: dict[tuple[int, str], list[tuple[datetime, int]]] = {}  # (partition, source) -> (at, stamp)
    for spec in names.intake:
        for partition, stamp, value in records(bootstrap, spec):
            if value.get("kind") == "clock_tick":
                ticks.setdefault((partition, spec.name), []).append(
                    (datetime.fromisoformat(value["at"]), stamp)
                )
            elif "event_id" in value:
                sent[value["event_id"]] = min(stamp, sent.get(value["event_id"], stamp))
    partitions, township_of = names.grid_reports.partitions, load_geography().township_of
    where = {  # incident -> intake partition, as the publisher places its township's records
        value["incident_id"]: key_partition(township_of(value["grid_code"]).encode(), partitions)
        for _, _, value in records(bootstrap, names.incidents)
    }
    last_event = max(sent.values())
    from_event: list[int] = []
    from_decidable: list[int] = []
    running: list[int] = []
    for _, stamp, value in records(bootstrap, names.incident_transitions):
        event = sent.get(value.get("source_event_id") or "")
        if event is not None:
            from_event.append(stamp - event)
        # The earliest moment every source had ticked far enough to release this decision's event time
        # (``>=``: a timer may fire on the tick that reaches it; earlier is the conservative side).
        due = datetime.fromisoformat(value["at"]) + lateness
        partition = where[value["incident_id"]]
        released = [
            next((s for at, s in ticks.get((partition, spec.name), []) if at >= due), None)
            for spec in names.intake
        ]
        if None not in released:
            decidable = max([event or 0, *(s for s in released if s is not None)])
            from_decidable.append(stamp - decidable)
            if decidable <= last_event:
                running.append(stamp - decidable)
    return {
        "from its event": sorted(from_event),
        "from decidable": sorted(from_decidable),
        "from decidable, while running": sorted(running),
    }


def records(bootstrap: str, spec: TopicSpec) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """(partition, timestamp in ms, JSON value) of every record of a topic."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    tps = [TopicPartition(spec.name, p) for p in range(spec.partitions)]
    consumer.assign(tps)
    ends = consumer.end_offsets(tps)
    try:
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            for tp, batch in consumer.poll(timeout_ms=1000).items():
                for record in batch:
                    if record.value:
                        try:
                            yield tp.partition, record.timestamp, orjson.loads(record.value)
                        except orjson.JSONDecodeError:
                            continue  # a malformed intake record: no latency to measure
    finally:
        consumer.close()


if __name__ == "__main__":
    main()
