"""Soak: 35 simulated days at city scale through one stream worker, its RSS sampled every 30 s.

    python bench/soak_streams.py [--duration 35d] [--scale 1] [--rate 2000] [--every 30]

A command, not a test: it takes hours. Uses the broker in GRIDFLOW_KAFKA_BOOTSTRAP or starts its own in a
scratch state directory on free ports. ``gridflow simulate`` publishes ``normal_day`` for ``--duration`` at
``--scale`` (at most ``--rate`` messages/s, so the worker is not left hours behind) while one ``gridflow
worker`` runs; every ``--every`` seconds it prints the wall time, the records the worker has committed,
its consumer lag, and its resident memory (RSS, from /proc). The policy keeps finished incidents 3 days
and repeat windows 30 days: RSS should level off once a month of simulated time has gone by, and what
it levels off at must fit in 2 GB.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from gridflow.services.kafka import KafkaService
from gridflow.services.process import free_port
from infra.lag import committed, lag
from infra.settings import ServiceSettings
from infra.topics_admin import ensure_topics
from schemas.topics import topics

GRIDFLOW = [sys.executable, "-m", "gridflow.cli"]


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", default="35d")
    parser.add_argument("--scale", default="1")
    parser.add_argument("--rate", default="2000")
    parser.add_argument("--every", type=float, default=30.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gridflow-soak-"))
    bootstrap = os.environ.get("GRIDFLOW_KAFKA_BOOTSTRAP")
    kafka = None
    if bootstrap is None:
        kafka = KafkaService(
            ServiceSettings(
                state_dir=work / "state", kafka_port=free_port(), kafka_controller_port=free_port()
            )
        )
        print(kafka.up(), flush=True)
        bootstrap = kafka.bootstrap
    try:
        soak(bootstrap, work, args)
    finally:
        if kafka is not None:
            kafka.down()


def soak(bootstrap: str, work: Path, args: argparse.Namespace) -> None:
    prefix = f"soak{uuid.uuid4().hex[:6]}."
    names = topics(prefix)
    ensure_topics(bootstrap, list(names))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GRIDFLOW_")},
        "GRIDFLOW_KAFKA_BOOTSTRAP": bootstrap,
        "GRIDFLOW_KAFKA_TOPIC_PREFIX": prefix,
        "GRIDFLOW_STATE_DIR": str(work / "worker-state"),
    }
    group = f"{prefix}gridflow-streams"
    intake = {spec.name for spec in names.intake}
    worker = subprocess.Popen(
        [*GRIDFLOW, "worker"],
        env=env,
        stdout=(work / "worker.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    sim = ["--scenario", "normal_day", "--seed", "35", "--start", "2026-03-02T00:00:00+08:00"]
    publisher = subprocess.Popen(
        [*GRIDFLOW, "simulate", *sim, "--duration", args.duration, "--scale", args.scale,
         "--speed", "0", "--rate", args.rate],
        env=env, stdout=(work / "simulate.log").open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    print(f"logs in {work}; sampling every {args.every:.0f} s", flush=True)
    print("elapsed_s  committed  lag  rss_mib", flush=True)
    started = time.monotonic()
    try:
        while True:
            time.sleep(args.every)
            done = sum(v for tp, v in committed(bootstrap, group).items() if tp.topic in intake)
            behind = lag(bootstrap, group, names.intake)
            print(
                f"{time.monotonic() - started:9.0f}  {done:9,}  {behind:6,}  {rss_mb(worker.pid):7.0f}",
                flush=True,
            )
            if worker.poll() is not None:
                sys.exit(f"the worker ended with status {worker.returncode}: see {work / 'worker.log'}")
            if publisher.poll() is not None and behind == 0:
                break
    finally:
        for proc in (publisher, worker):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(60)


if __name__ == "__main__":
    main()
