"""Run stream workers: ``gridflow worker [--workers N]`` or ``python -m streams worker``.

One worker is one faust worker process (concurrency 1). ``--workers N`` starts N of them in one consumer
group, and faust spreads the intake partitions over them; each restores the checkpoints of the partitions
it is given. SIGINT/SIGTERM stop them cleanly. They decide under the policy file in ``GRIDFLOW_POLICY``
(``gridflow worker --policy FILE`` sets it), else the bundled one.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from types import FrameType

from infra.probe import wait_for_kafka
from infra.settings import KafkaSettings, PolicySettings, load
from infra.topics_admin import ensure_topics
from schemas.policy import policy_at


def run_worker(loglevel: str = "warning", kafka_wait: float | None = None) -> None:
    """Run one faust worker in this process until it is stopped.

    A broker not up yet is waited for (``kafka_wait`` seconds at most; None: until it answers).
    """
    import faust

    from streams.core.escalation import Engine
    from streams.runtime.app import StreamsApp

    kafka = load(KafkaSettings)
    # The policy comes first: a bad policy file is reported before anything connects.
    engine = Engine.under(policy_at(load(PolicySettings).policy))
    wait_for_kafka(kafka.servers, "gridflow worker", kafka_wait, kafka.client_options())
    streams = StreamsApp(kafka, engine)
    ensure_topics(kafka.servers, streams.changelog_specs(), kafka.client_options())
    worker = faust.Worker(streams.app, loglevel=loglevel, quiet=True, redirect_stdouts=False)
    # faust's terminal spinner turns the root logger to DEBUG (it spins on every record), so every debug
    # call in aiokafka and faust would build a LogRecord: a tenth of the worker's time on the hot path.
    worker.spinner = None
    logging.getLogger("faust").setLevel(loglevel.upper())
    worker.execute_from_commandline()


def run_workers(count: int, loglevel: str = "warning", kafka_wait: float | None = None) -> int:
    """Start ``count`` worker processes and wait for them; return the first non-zero exit status."""
    if count == 1:
        run_worker(loglevel, kafka_wait)
        return 0
    wait = [] if kafka_wait is None else ["--kafka-wait", f"{kafka_wait:g}"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "streams", "worker", "--loglevel", loglevel, *wait], env=os.environ.copy()
        )
        for _ in range(count)
    ]

    def forward(signum: int, _frame: FrameType | None) -> None:
        for proc in procs:
            proc.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    codes = [proc.wait() for proc in procs]
    return next((code for code in codes if code), 0)
