"""The county stage reads a backlog of ``cluster_signals`` to its end across workers joining and leaving.

Every upstream batch sends a watermark to every ``cluster_signals`` partition, so the county stage's
input is busy, and a rebalance finds it with records fetched and not yet taken. The test writes a backlog
of watermarks, starts one worker, and while that worker reads the backlog a second one joins and leaves,
twice; the group's committed offsets on ``cluster_signals`` must then reach the end of every partition.

Negative control (run once): with the county stage on faust's per-record path and a seek back to its
offset on a gap (the shell before `streams.runtime.intake` read its input), partitions stopped short of
their end: faust refused records below the last offset it had delivered, so the seek never took, and the
partition was fetched again every few seconds without moving on (which also held a megabyte per fetch in
the worker's memory).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kafka import KafkaProducer, TopicPartition
from pipeline_harness import Pipeline, stop, wait_until

from infra import lag
from schemas.stages import Watermark

pytestmark = pytest.mark.slow

PER_PARTITION = 60_000
ROUNDS = 2


def _county_committed(pipeline: Pipeline) -> dict[TopicPartition, int]:
    name = pipeline.names.cluster_signals.name
    return {tp: offset for tp, offset in pipeline.committed().items() if tp.topic == name}


def test_the_county_stage_reads_its_backlog_to_the_end_across_rebalances(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    pipeline = Pipeline(kafka_bootstrap, f"cb{uuid.uuid4().hex[:6]}.", tmp_path)
    spec = pipeline.names.cluster_signals
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", linger_ms=20)
    start = datetime(2026, 3, 2, tzinfo=UTC)
    for n in range(PER_PARTITION):
        at = start + timedelta(seconds=n)
        for partition in range(spec.partitions):
            mark = Watermark(source_partition=n % 3, at=at).to_json()
            producer.send(spec.name, value=mark, partition=partition)
    producer.flush()
    producer.close()
    ends = lag.end_offsets(kafka_bootstrap, [spec])
    assert sum(ends.values()) == PER_PARTITION * spec.partitions

    first = pipeline.start_workers(1)
    try:
        wait_until(lambda: bool(_county_committed(pipeline)), 120, "the county stage's first commit", first)
        unfinished = []
        for _ in range(ROUNDS):
            joiner = pipeline.start_workers(1)
            wait_until(lambda: pipeline.group_members() == 2, 120, "the second worker to join", first)
            unfinished.append(_county_committed(pipeline) != ends)
            stop(joiner)
            wait_until(lambda: pipeline.group_members() == 1, 120, "the second worker to leave", first)
        assert unfinished[0], "the backlog was read before the first rebalance"
        try:
            wait_until(lambda: _county_committed(pipeline) == ends, 120, "the county stage's end", first)
        except AssertionError as timeout:
            left = {tp.partition: ends[tp] - offset for tp, offset in _county_committed(pipeline).items()}
            raise AssertionError(f"{timeout}; records left per partition: {left}") from None
    finally:
        stop(first)
