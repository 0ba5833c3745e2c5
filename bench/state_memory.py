"""Bytes of escalation state per open incident and per remembered finished one.

    python bench/state_memory.py [--duration 1d] [--scale 4] [--daily]

Feeds a recorded ``normal_day`` load to the partition runners in this process (no Kafka), then measures
each store of the final states: every store is rebuilt from its JSON under ``tracemalloc``, and its
allocated bytes are divided by its entries. The incidents store is measured twice, once holding only the
open incidents and once only the finished ones the policy still remembers (for repeats and late
dispositions), so each kind gets its own figure. What a worker holds beyond this (faust, aiokafka, the
checkpoint table's copies of the encoded state) is the shell's and is not counted here.

``--daily`` also prints, at every simulated midnight of the partitions' clock, the entries of each store
and the process's resident memory: which store grows with the length of a run, and when each levels off.
"""

from __future__ import annotations

import argparse
import gc
import resource
import subprocess
import sys
import tempfile
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from producers.partitioner import partition_of
from producers.recording import RecordingReader
from schemas.topics import topics
from streams.core.escalation import Engine
from streams.core.pieces import ACTIVE
from streams.core.runner import PartitionRunner
from streams.core.state import STORE_NAMES, PartitionState


def allocated(build: Callable[[], Any]) -> tuple[int, Any]:
    """Bytes still allocated by what ``build`` returns (kept alive until measured)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    value = build()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return after - before, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", default="1d")
    parser.add_argument("--scale", default="4")
    parser.add_argument("--daily", action="store_true", help="store sizes and RSS every simulated day")
    args = parser.parse_args()
    recording = Path(tempfile.mkdtemp(prefix="gridflow-state-memory-")) / "load.jsonl"
    sim = ["--scenario", "normal_day", "--seed", "21", "--start", "2026-03-02T00:00:00+08:00"]
    subprocess.run(
        [sys.executable, "-m", "gridflow.cli", "simulate", *sim, "--duration", args.duration,
         "--scale", args.scale, "--dry-run", "--out", str(recording)],
        check=True, capture_output=True,
    )  # fmt: skip
    partitions = {spec.name: spec.partitions for spec in topics().intake}
    engine = Engine.bundled()
    fixed = datetime(2026, 1, 1, tzinfo=UTC)
    runners: dict[int, PartitionRunner] = {}
    offsets: dict[tuple[str, int], int] = {}
    count = 0
    day = None
    for record in RecordingReader(recording):
        if args.daily and runners:
            day = daily(runners, day, count)
        partition = partition_of(record, partitions[record.topic])
        runner = runners.get(partition)
        if runner is None:
            runner = runners[partition] = PartitionRunner(engine, partition, tuple(partitions), lambda: fixed)
        offset = offsets.get((record.topic, partition), 0)
        offsets[(record.topic, partition)] = offset + 1
        runner.feed(record.topic, offset, record.value)
        count += 1
    print(f"load: {count:,} records ({args.duration} of normal_day at scale {args.scale}, seed 21)")

    objs = [orjson.loads(runner.state.to_json()) for runner in runners.values()]
    active = {s.value for s in ACTIVE}
    parts: dict[str, list[dict[str, Any]]] = {}  # label -> per partition, a state holding one store
    for obj in objs:
        incidents = obj["incidents"]
        for label, keep in (("open incidents", True), ("finished incidents", False)):
            kept = {k: v for k, v in incidents.items() if (v["incident"]["status"] in active) is keep}
            parts.setdefault(label, []).append({**empty(obj), "incidents": kept})
        for store in ("aliases", "grids", "townships", "pending", "seen", "timers"):
            parts.setdefault(store, []).append({**empty(obj), store: obj[store]})
    baseline = measure([empty(obj) for obj in objs])
    total = 0
    for label, states in parts.items():
        store = "incidents" if label.endswith("incidents") else label
        entries = sum(len(state[store]) for state in states)
        size = max(0, measure(states) - baseline)
        total += size
        per = f"{size / entries:,.0f} bytes each" if entries else "-"
        print(f"{label:>20}: {entries:>9,} entries, {size / 2**20:8.1f} MiB, {per}")
    print(f"{'all stores':>20}: {total / 2**20:8.1f} MiB over {len(runners)} partitions")


def daily(runners: dict[int, PartitionRunner], day: Any, count: int) -> Any:
    """Print the entries of each store over all partitions when the slowest watermark passes a midnight."""
    marks = [runner.state.clock.watermark for runner in runners.values()]
    wm = min((mark for mark in marks if mark is not None), default=None)
    if wm is None or wm.date() == day:
        return day
    if day is None:
        print(f"{'day':>10} {'records':>10} " + " ".join(f"{s:>10}" for s in STORE_NAMES) + "  max_rss_mib")
    sizes: dict[str, int] = {}
    for runner in runners.values():
        for store, n in runner.state.size().items():
            sizes[store] = sizes.get(store, 0) + n
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{wm.date()!s:>10} {count:>10,} "
        + " ".join(f"{sizes[s]:>10,}" for s in STORE_NAMES)
        + f"  {rss:.0f}"
    )
    return wm.date()


def empty(obj: dict[str, Any]) -> dict[str, Any]:
    return {**{k: {} for k in obj if k != "clock"}, "clock": obj["clock"]}


def measure(states: list[dict[str, Any]]) -> int:
    """Bytes the partition states built from ``states`` (JSON objects) hold."""
    raws = [orjson.dumps(state) for state in states]
    size, _ = allocated(lambda: [PartitionState.from_json(raw) for raw in raws])
    return size


if __name__ == "__main__":
    main()
