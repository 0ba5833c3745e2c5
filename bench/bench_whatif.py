"""What-if benchmark: one load under two policies, offline, one process per policy.

    python bench/bench_whatif.py [--days 30] [--scale 1] [--processes 2] [--scripted] [--recording R]

The load is ``normal_day`` over ``--days`` simulated days at ``--scale`` (1 = city scale), seed 1; the
policies are the bundled one and the same with a grid SLA of 2 h. With ``--recording R`` the load is read
from that recording (written first, and timed apart, when the file does not exist yet), as
``gridflow whatif --recording R`` does; without it each process simulates the load itself. It measures, in
the same run:

1. the ceiling: one process that only reads (or simulates) the load, the records every what-if process
   must take before the core sees them, on a slice of ``--ceiling-days`` days (the whole recording when
   reading one), as records/s;
2. the what-if: ``gridflow.whatif.offline.run_all`` over both policies, wall time and records/s per process.

It prints the wall time against the goal (5 minutes), and each process's rate as a ratio of the ceiling.
Timings on a shared 2-core machine are noisy: run it more than once.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from gridflow.whatif.offline import Load, Run, run_all
from gridflow.whatif.policies import parse_named, variant
from producers.handlers import load_handlers
from producers.recording import RecordingReader, RecordingWriter
from producers.scenario import scenario
from producers.simulator import Simulator
from schemas.policy import POLICY_FILE

GOAL_S = 300.0


def simulate_rate(days: float, scale: float) -> float:
    """Records/s of the simulator alone: the ceiling of any process that must make its own input."""
    sim = Simulator(scenario("normal_day"), 1, duration=timedelta(days=days), scale=scale)
    started = time.perf_counter()
    count = sum(1 for _ in sim)
    return count / (time.perf_counter() - started)


def read_rate(path: Path) -> float:
    """Records/s of reading a recording alone."""
    started = time.perf_counter()
    count = sum(1 for _ in RecordingReader(path))
    return count / (time.perf_counter() - started)


def record(path: Path, days: float, scale: float) -> float:
    """Write the load to ``path``; returns the seconds it took."""
    sim = Simulator(scenario("normal_day"), 1, duration=timedelta(days=days), scale=scale)
    started = time.perf_counter()
    with RecordingWriter(path, sim.header) as writer:
        for rec in sim:
            writer.write(rec)
        writer.close(sim.summary)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--ceiling-days", type=float, default=1.0)
    parser.add_argument(
        "--scripted", action="store_true", help="scripted dispositions, not reactive handlers"
    )
    parser.add_argument("--recording", type=Path, help="read the load from here (written first if missing)")
    args = parser.parse_args()

    if args.recording is not None:
        if not args.recording.exists():
            took = record(args.recording, args.days, args.scale)
            print(f"recorded the load to {args.recording} in {took:.1f} s (not part of the what-if time)")
        ceiling = read_rate(args.recording)
        print(f"ceiling: reading the recording alone, {ceiling:,.0f} records/s")
    else:
        ceiling = simulate_rate(args.ceiling_days, args.scale)
        print(f"ceiling: simulating the load alone, {ceiling:,.0f} records/s ({args.ceiling_days} day slice)")

    base = parse_named(f"base={POLICY_FILE}")
    with tempfile.TemporaryDirectory() as tmp:
        alt = variant(base, "sla.grid", "2h", Path(tmp))
        load = Load(
            recording=args.recording,
            scenario="normal_day",
            duration=timedelta(days=args.days),
            seed=1,
            scale=args.scale,
        )
        handlers = None if args.scripted else load_handlers()
        runs = [Run(p.name, p.policy, load, base.policy, handlers, 1) for p in (base, alt)]
        started = time.perf_counter()
        outcomes = run_all(runs, args.processes)
        wall = time.perf_counter() - started
    mode = "scripted" if args.scripted else "reactive"
    print(f"what-if: {load.describe()}, 2 policies, {mode} handlers, {args.processes} processes")
    for o in outcomes:
        print(
            f"  {o.name}: {o.records:,} records in {o.seconds:.1f} s, {o.rate:,.0f} records/s "
            f"= {o.rate / ceiling:.2f} × the ceiling; {o.kpis.incidents:,} incidents, "
            f"grid sla_breach {o.sla_breaches[min(o.sla_breaches)]:,}"
        )
    print(f"wall time {wall:.1f} s = {wall / GOAL_S:.2f} × the goal of {GOAL_S:.0f} s")


if __name__ == "__main__":
    main()
