"""faust-streaming's own cost: an agent that reads the intake topics as the worker does and does nothing.

    python bench/faust_floor.py BOOTSTRAP TOPIC [TOPIC ...] --total N

Run by `bench_streams.py`: it prints the records/s from the first record to the N-th, then exits. Same
settings as the worker where they matter (raw topics, ``take_events`` batches, concurrency 1, records
never acked), so the gap between this and the bare aiokafka loop is what faust itself costs per record.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
import uuid
from typing import Any

import faust

from streams.runtime.app import BATCH_MAX

# faust's own batching, as the worker's agent used it before the intake got its batch reader.
BATCH_WITHIN_S = 0.02


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("bootstrap")
    parser.add_argument("topics", nargs="+")
    parser.add_argument("--total", type=int, required=True)
    args = parser.parse_args()

    app = faust.App(
        f"floor-{uuid.uuid4().hex[:6]}",
        broker=f"kafka://{args.bootstrap}",
        datadir=tempfile.mkdtemp(prefix="gridflow-faust-floor-"),
        store="memory://",
        web_enabled=False,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        broker_max_poll_records=BATCH_MAX,
        stream_buffer_maxsize=4 * BATCH_MAX,
        stream_wait_empty=False,
    )
    topic = app.topic(*args.topics, key_serializer="raw", value_serializer="raw")
    seen = 0
    started = 0.0

    @app.agent(topic, concurrency=1)
    async def count(stream: Any) -> None:
        nonlocal seen, started
        async for events in stream.take_events(BATCH_MAX, within=BATCH_WITHIN_S):
            started = started or time.perf_counter()
            for event in events:
                event.message.incref()  # as the worker: never acked
            seen += len(events)
            if seen >= args.total:
                print(f"{seen / (time.perf_counter() - started):.0f}", flush=True)
                os._exit(0)  # faust's shutdown takes seconds and measures nothing

    worker = faust.Worker(app, loglevel="warning", quiet=True, redirect_stdouts=False)
    worker.spinner = None  # it turns the root logger to DEBUG (see streams.runtime.worker)
    logging.getLogger("faust").setLevel("WARNING")
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
