"""What the stream runtime relies on in faust-streaming's internals holds on a real broker.

Every such reliance goes through `streams.runtime.faust_internals`; this test runs a small faust worker
(a subprocess: faust owns its event loop and signals) that uses each of those functions, as the shells do,
and checks from outside what the broker then holds:

- `hold_ack` keeps faust from committing: offsets move only by `commit_offsets`, to exactly what it was given;
- `table_put`/`table_get`/`table_items` read and write the table's store, and faust rebuilds that store from
  the changelog record `write_checkpoint` sends when a new worker is assigned the partition;
- `aiokafka_producer` is the aiokafka producer whose batch API `streams.runtime.outbox` uses;
- with every partition paused (`pause_fetching`), faust's consumer fetches nothing and, after
  ``broker_max_poll_interval``, leaves the group; `polled` (which the intake readers call after each
  fetch) keeps it in. The same worker without `polled` is the negative control, and is checked to leave.

Run it first after upgrading faust-streaming.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from pipeline_harness import wait_until

from infra.lag import committed
from infra.topics_admin import ensure_topics
from schemas.topics import TopicSpec

_WORKER = r"""
import asyncio, json, os, signal, sys

import faust

from streams.runtime import faust_internals as fi
from streams.runtime.checkpoints import commit, write_checkpoint
from streams.runtime.outbox import Outbox

bootstrap, app_id, source, changelog, output, out, mode = sys.argv[1:8]
app = faust.App(
    app_id,
    broker=f"kafka://{bootstrap}",
    datadir=os.path.join(os.path.dirname(out), app_id + "-" + mode),
    store="memory://",
    topic_partitions=1,
    topic_disable_leader=True,
    web_enabled=False,
    consumer_auto_offset_reset="earliest",
    table_standby_replicas=0,
    stream_wait_empty=False,
    broker_max_poll_interval=4.0 if mode.startswith("idle") else 1000.0,
)
table = app.Table(
    "probe",
    default=None,
    partitions=1,
    changelog_topic=app.topic(
        changelog, partitions=1, key_serializer="raw", value_serializer="raw", compacting=True, internal=True
    ),
)
topic = app.topic(source, key_serializer="raw", value_serializer="raw")
facts = {"offsets": []}


def finish():
    with open(out + ".part", "w") as f:
        json.dump(facts, f)
    os.replace(out + ".part", out)  # whole or absent: the test reads it as soon as it appears
    os.kill(os.getpid(), signal.SIGTERM)


@app.agent(topic, concurrency=1)
async def probe(stream):
    async for events in stream.take_events(100, within=0.2):
        for event in events:
            message = event.message
            fi.hold_ack(message)
            facts["offsets"].append(message.offset)
            tp = message.tp
            if mode.startswith("idle"):
                coordinator = app.consumer._thread._ensure_consumer()._coordinator
                before = coordinator.generation
                fi.pause_fetching(app, app.consumer.assignment())
                for _ in range(24):  # three times the poll interval, as the intake readers would
                    if mode == "idle":
                        fi.polled(app)
                    await asyncio.sleep(0.5)
                facts["kept"] = coordinator.generation == before
                finish()
                return
            if mode == "restore":
                facts["restored"] = (fi.table_get(table, b"k") or b"").decode()
                facts["items"] = sorted(k.decode() for k, _ in fi.table_items(table))
                finish()
                return
            if message.offset == 4:
                pending = await write_checkpoint(app, table, changelog, 0, b"k", b"v1")
                await (await write_checkpoint(app, table, changelog, 0, b"gone", b"x"))
                await (await write_checkpoint(app, table, changelog, 0, b"gone", None))
                await pending
                facts["got"] = fi.table_get(table, b"k").decode()
                facts["items"] = sorted(k.decode() for k, _ in fi.table_items(table))
                await commit(app, {tp: 3})
                producer = fi.aiokafka_producer(app)
                facts["producer"] = type(producer).__module__ + "." + type(producer).__name__
                outbox = await Outbox.open(producer, [output])
                outbox.add(output, b"key", b"batched")
                await asyncio.gather(*await outbox.send())
                finish()
                return


worker = faust.Worker(app, loglevel="warning", quiet=True, redirect_stdouts=False)
worker.spinner = None
worker.execute_from_commandline()
"""


def _run_worker(
    bootstrap: str, app_id: str, names: tuple[str, str, str], tmp_path: Path, mode: str
) -> dict[str, Any]:
    out, log = tmp_path / f"{mode}.json", tmp_path / f"{mode}.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER, bootstrap, app_id, *names, str(out), mode],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
        )
    try:
        wait_until(lambda: out.exists() or proc.poll() is not None, 180, f"the {mode} probe's facts")
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            # The negative control's consumer has left the group, and faust's shutdown can then hang
            # waiting on it; its facts are written, and that shutdown is not what the test looks at.
            if mode != "idle-unpolled":
                raise
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert out.exists(), f"the worker ended before its probe finished:\n{log.read_text()}"
    facts: dict[str, Any] = json.loads(out.read_text())
    return facts


def test_each_faust_internal_the_runtime_relies_on(kafka_bootstrap: str, tmp_path: Path) -> None:
    run = uuid.uuid4().hex[:8]
    source, changelog, output = f"fi-{run}-in", f"fi-{run}-probe-changelog", f"fi-{run}-out"
    app_id = f"fi-{run}"
    ensure_topics(
        kafka_bootstrap,
        [
            TopicSpec(source, 1, "n", "delete", None),
            TopicSpec(output, 1, "key", "delete", None),
            TopicSpec(changelog, 1, "key", "compact", None),
        ],
    )
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    for n in range(5):
        producer.send(source, key=b"n", value=b"%d" % n, partition=0)
    producer.flush()
    producer.close()

    first = _run_worker(kafka_bootstrap, app_id, (source, changelog, output), tmp_path, "first")
    assert first["offsets"] == [0, 1, 2, 3, 4]
    assert first["got"] == "v1" and first["items"] == ["k"]
    assert first["producer"] == "aiokafka.producer.producer.AIOKafkaProducer"
    # Nothing was acked, so faust committed nothing of its own, not even on shutdown: only our commit.
    assert committed(kafka_bootstrap, app_id) == {TopicPartition(source, 0): 3}

    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest")
    consumer.assign([TopicPartition(output, 0)])
    records = [r for batch in consumer.poll(timeout_ms=10_000).values() for r in batch]
    consumer.close()
    assert [(r.key, r.value) for r in records] == [(b"key", b"batched")]

    idle = _run_worker(kafka_bootstrap, f"{app_id}-idle", (source, changelog, output), tmp_path, "idle")
    assert idle["kept"], "with every partition paused, faust's consumer left the group although polled"
    unpolled = _run_worker(
        kafka_bootstrap, f"{app_id}-unpolled", (source, changelog, output), tmp_path, "idle-unpolled"
    )
    assert not unpolled["kept"], "the negative control stayed in the group: the test cannot tell"

    again = _run_worker(kafka_bootstrap, app_id, (source, changelog, output), tmp_path, "restore")
    assert again["offsets"] == [3], "a new worker does not resume from the committed offset"
    assert again["restored"] == "v1", "faust did not rebuild the table from the changelog"
    assert again["items"] == ["k"], "a deleted key came back from the changelog"
