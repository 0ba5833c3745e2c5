"""Many sinks on one topic prefix share its partitions (one consumer group, cooperative rebalancing).

Two sinks run from the start and a third joins mid-stream while a scenario is published; afterwards the
warehouse holds exactly the rows one sink would have written: every acknowledged event visible once, and
the base tables (not only the collapsing views) free of double inserts. Before the group, each sink
assigned itself every partition and this test saw every row twice (its negative control, run once by
reverting the sink to ``consumer.assign``: base rows = 2x distinct ids).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sink_harness import INTAKE_TABLES, SinkPipeline, delivery, landed_rows, stop, wait_until

from sinks import with_database
from sinks.writer import Writer

pytestmark = pytest.mark.slow

SCENARIO = ("--scenario", "normal_day", "--seed", "11", "--duration", "2h", "--scale", "5")
BATCH = ("--batch-rows", "200", "--batch-seconds", "0.3")


def _distinct_ids(writer: Writer) -> int:
    db = writer.database
    parts = " UNION ALL ".join(f"SELECT event_id FROM {db}.{t}" for t in INTAKE_TABLES)
    return int(str(writer.query(f"SELECT uniqExact(event_id) FROM ({parts})").scalar()))


def test_three_sinks_land_exactly_the_rows_of_one(
    kafka_bootstrap: str, clickhouse_url: str, ch_database: str, topic_prefix: str, tmp_path: Path
) -> None:
    pipeline = SinkPipeline(
        kafka_bootstrap, topic_prefix, tmp_path, with_database(clickhouse_url, ch_database)
    )
    pipeline.cli("init")
    ledger = tmp_path / "ledger.jsonl"
    producer = pipeline.start(
        "simulate", *SCENARIO, "--rate", "150", "--ledger", str(ledger), name="simulate"
    )
    sinks: list[subprocess.Popen[bytes]] = []
    try:
        sinks += [pipeline.start_sink(*BATCH), pipeline.start_sink(*BATCH)]
        with pipeline.writer() as writer:
            wait_until(lambda: landed_rows(writer) > 0, 90, "the sinks to land a first batch", sinks[0])
            assert producer.poll() is None, "the scenario finished before the third sink joined"
            sinks.append(pipeline.start_sink(*BATCH))
            assert producer.wait(180) == 0
            wait_until(lambda: pipeline.sink_lag() == 0, 120, "the three sinks to catch up", sinks[-1])
            for sink in sinks:
                assert sink.poll() is None, "a sink died"
        for sink in sinks:
            stop(sink)
            assert sink.returncode == 0
    finally:
        for sink in sinks:
            stop(sink)
        stop(producer)
    logs = [p.read_text() for p in tmp_path.glob("sink-*.log")]
    with pipeline.writer() as writer:
        oracle = delivery(ledger, writer)
        base_rows, distinct = landed_rows(writer), _distinct_ids(writer)
    assert (oracle.lost, oracle.duplicated) == (0, 0), oracle
    # No double insert: each event id is in the base tables once (rebalances flushed before handing on).
    assert base_rows == distinct == oracle.expected, (base_rows, distinct, oracle, logs)
