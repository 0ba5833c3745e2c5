"""What-if benchmark: one load under two policies, offline, one process per policy.

    python bench/bench_whatif.py [--days 30] [--scale 1] [--processes 2] [--scripted]

The load is ``normal_day`` over ``--days`` simulated days at ``--scale`` (1 = city scale), seed 1; the
policies are the bundled one and the same with a grid SLA of 2 h. It measures, in the same run:

1. the ceiling: one process that only simulates the load (the records every what-if process must make
   before the core sees them), on a slice of ``--ceiling-days`` days, as records/s;
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
    args = parser.parse_args()

    ceiling = simulate_rate(args.ceiling_days, args.scale)
    print(f"ceiling: simulating the load alone, {ceiling:,.0f} records/s ({args.ceiling_days} day slice)")

    base = parse_named(f"base={POLICY_FILE}")
    with tempfile.TemporaryDirectory() as tmp:
        alt = variant(base, "sla.grid", "2h", Path(tmp))
        load = Load(scenario="normal_day", duration=timedelta(days=args.days), seed=1, scale=args.scale)
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
