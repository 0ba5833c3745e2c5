"""Soak: the whole pipeline at a steady rate for a long time, sampling the worker's and the sink's memory.

Not part of the test suite (it runs for half an hour by default). Against a running broker and ClickHouse
(``gridflow services up`` on private ports, as in ``bench/bench_sink.py``)::

    .venv/bin/python bench/soak.py --bootstrap 127.0.0.1:49092 \\
        --url clickhouse://default:@127.0.0.1:49000/soak --minutes 30 --rate 1000

It starts ``gridflow worker`` and ``gridflow sink`` on fresh topics (a unique prefix) and the given database,
then ``gridflow simulate --rate RATE`` over a simulated period long enough to last the run, and every
``--every`` seconds prints the resident memory (RSS, summed over each process's group: the worker's children
included) of the worker and the sink, with the consumer lag of each. At the end it prints whether each RSS
stayed within ±15 % of its mean after the warm-up (the first ``--warmup`` minutes).

The state is bounded by the policy's windows (finished incidents 3 days, repeat disputes 30 days), so memory
can only be flat once 30 simulated days have gone by: the default warm-up lasts until then. That is why the
default load is a quarter of the city (``--scale 0.25``): at 1,000 msg/s, 31 simulated days take about 20
minutes, where the whole city would need most of an hour.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from infra.lag import end_offsets, lag
from infra.topics_admin import ensure_topics
from schemas.topics import topics
from sinks.sink import sink_topics

GRIDFLOW = [sys.executable, "-m", "gridflow.cli"]


def group_rss_mb(pgid: int) -> float:
    """Resident memory of every process in group ``pgid``, in MiB (from /proc)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[2]) != pgid:  # field 5 of /proc/pid/stat: the process group
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
    return total / 1024


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*GRIDFLOW, *args], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )


def flat(samples: list[float]) -> str:
    if not samples:
        return "no samples after the warm-up"
    mean = sum(samples) / len(samples)
    spread = max(abs(s - mean) / mean for s in samples)
    return f"mean {mean:,.0f} MiB, max deviation {spread:.0%} ({'flat' if spread <= 0.15 else 'NOT flat'})"


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--url", required=True, help="ClickHouse URL including the database to use")
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=1000.0, help="messages/s published")
    parser.add_argument("--every", type=float, default=30.0, help="seconds between samples")
    parser.add_argument(
        "--scale",
        type=float,
        default=0.25,
        help="city scale of the load (more: less simulated time per minute)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="minutes left out of the flatness check (default: until the 30-day windows are full)",
    )
    parser.add_argument("--logs", type=Path, default=Path("/tmp/gridflow-soak"))
    args = parser.parse_args()
    # SIGTERM (a stopped run) unwinds like Ctrl-C, so the children are stopped and the summary printed.
    signal.signal(signal.SIGTERM, _interrupt)

    prefix = f"soak{uuid.uuid4().hex[:6]}."
    args.logs.mkdir(parents=True, exist_ok=True)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GRIDFLOW_")},
        "GRIDFLOW_KAFKA_BOOTSTRAP": args.bootstrap,
        "GRIDFLOW_KAFKA_TOPIC_PREFIX": prefix,
        "GRIDFLOW_CLICKHOUSE_URL": args.url,
        "GRIDFLOW_STATE_DIR": str(args.logs / "state"),
        # The sink refuses to run without a key for personal-data tokens: a one-off key, as the demo does.
        "GRIDFLOW_PII_KEY": os.environ.get("GRIDFLOW_PII_KEY") or secrets.token_urlsafe(32),
    }
    ensure_topics(args.bootstrap, list(topics(prefix)))
    subprocess.run([*GRIDFLOW, "init"], env=env, check=True, capture_output=True)
    # A simulated period that outlasts the run at this rate: a simulated day is ~26k clock ticks whatever the
    # scale, plus ~54k events at scale 1 (measured with `simulate --dry-run`). The policy remembers repeat
    # disputes 30 days: only once that much simulated time has gone by is the state at its bound, so the
    # warm-up lasts until then.
    per_day = 26_000 + 54_000 * args.scale
    days = max(1, int(args.minutes * 60 * args.rate / per_day) + 1)
    if args.warmup is None:
        args.warmup = 31 * per_day / args.rate / 60
    print(f"{days} simulated days at scale {args.scale:g}; warm-up {args.warmup:.1f} min (31 simulated days)")
    worker = start(["worker"], env, args.logs / "worker.log")
    sink = start(["sink"], env, args.logs / "sink.log")
    producer = start(
        ["simulate", "--scenario", "normal_day", "--seed", "1", "--duration", f"{days}d",
         "--scale", f"{args.scale:g}", "--rate", str(args.rate)],
        env, args.logs / "simulate.log",
    )  # fmt: skip
    names = topics(prefix)
    started = time.monotonic()
    worker_after: list[float] = []
    sink_after: list[float] = []
    print(f"soak {prefix} at {args.rate:,.0f} msg/s for {args.minutes:g} min; logs in {args.logs}")
    print(f"{'minute':>7} {'worker MiB':>11} {'sink MiB':>9} {'worker lag':>11} {'sink lag':>9} {'msg/s':>7}")
    published_before, sampled_at = 0, started
    try:
        while (elapsed := time.monotonic() - started) < args.minutes * 60:
            time.sleep(args.every)
            elapsed = time.monotonic() - started
            w, s = group_rss_mb(worker.pid), group_rss_mb(sink.pid)
            w_lag = lag(args.bootstrap, f"{prefix}gridflow-streams", names.intake)
            s_lag = lag(args.bootstrap, f"{prefix}gridflow-sink", sink_topics(prefix))
            # The rate actually published since the last sample (intake end offsets), not the one asked for.
            published = sum(end_offsets(args.bootstrap, names.intake).values())
            rate = (published - published_before) / max(1e-9, time.monotonic() - sampled_at)
            published_before, sampled_at = published, time.monotonic()
            print(f"{elapsed / 60:7.1f} {w:11,.0f} {s:9,.0f} {w_lag:11,} {s_lag:9,} {rate:7,.0f}", flush=True)
            if elapsed >= args.warmup * 60:
                worker_after.append(w)
                sink_after.append(s)
            for name, proc in (("worker", worker), ("sink", sink), ("simulate", producer)):
                if proc.poll() is not None:
                    raise SystemExit(f"{name} exited with {proc.returncode}; see {args.logs}")
    except KeyboardInterrupt:
        print("stopped before the end", flush=True)
    finally:
        for proc in (producer, sink, worker):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:  # a process that does not stop: never left behind
                    print(f"pid {proc.pid} did not stop within 60 s of SIGTERM: killed", flush=True)
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
    print(f"worker RSS after warm-up: {flat(worker_after)}")
    print(f"sink RSS after warm-up:   {flat(sink_after)}")


if __name__ == "__main__":
    main()
