"""Many sinks on one topic prefix share its partitions (one consumer group, cooperative rebalancing).

Two sinks run from the start and a third joins mid-stream while a scenario is published; afterwards the
warehouse holds exactly the rows one sink would have written: every acknowledged event visible once, and
the base tables (not only the collapsing views) free of double inserts. Before the group, each sink
assigned itself every partition and this test saw every row twice (its negative control, run once by
reverting the sink to ``consumer.assign``: base rows = 2x distinct ids).

A sink started before its topics exist lands within seconds once they are created. (The slow group join
once blamed on kafka-python's 5-minute metadata refresh is not that: a consumer with the default refresh
got its partitions 0.5 s after the topics appeared, because kafka-python re-asks for a subscribed topic it
does not know; what was seen instead is a consumer that never found its group coordinator, which the
sink now answers by joining again with a new consumer, see ``UNASSIGNED_REJOIN_S`` in sinks/sink.py.)
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from sink_harness import GRIDFLOW, INTAKE_TABLES, SinkPipeline, delivery, landed_rows, stop, wait_until

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


# A sink started before its topics exist lands this soon after the first record is published to them.
LANDS_WITHIN_S = 10.0
EARLY_SCENARIO = ("--scenario", "normal_day", "--seed", "2", "--duration", "30m", "--scale", "5")


def test_a_sink_started_before_its_topics_lands_once_they_exist(
    kafka_bootstrap: str, clickhouse_url: str, ch_database: str, topic_prefix: str, tmp_path: Path
) -> None:
    url = with_database(clickhouse_url, ch_database)
    # The schema comes from another prefix's init, so this prefix's topics do not exist yet.
    other = SinkPipeline(kafka_bootstrap, f"gfother{topic_prefix}", tmp_path / "other", url)
    other.cli("init")
    env = {**other.env, "GRIDFLOW_KAFKA_TOPIC_PREFIX": topic_prefix}
    log = tmp_path / "sink-early.log"
    sink = subprocess.Popen(
        [*GRIDFLOW, "sink", *BATCH], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    producer: subprocess.Popen[bytes] | None = None
    try:
        time.sleep(10)  # the sink runs subscribed to topics that do not exist: the condition under test
        assert sink.poll() is None, log.read_text()
        pipeline = SinkPipeline(kafka_bootstrap, topic_prefix, tmp_path, url)  # creates the topics
        ledger = tmp_path / "ledger.jsonl"
        producer = pipeline.start("simulate", *EARLY_SCENARIO, "--ledger", str(ledger), name="simulate")
        # From the first record in the topics (their end offsets) to the first row landed.
        wait_until(lambda: sum(pipeline.intake_end_offsets().values()) > 0, 60, "a first record", producer)
        first_at = time.monotonic()
        with pipeline.writer() as writer:
            wait_until(lambda: landed_rows(writer) > 0, 120, "the sink to land", sink)
            landed_s = time.monotonic() - first_at
        assert producer.wait(120) == 0
        wait_until(lambda: pipeline.sink_lag() == 0, 120, "the sink to catch up", sink)
    finally:
        stop(sink)
        if producer is not None:
            stop(producer)
    with pipeline.writer() as writer:
        oracle = delivery(ledger, writer)
    print(f"first rows landed {landed_s:.1f} s after the first record was published")
    assert (oracle.lost, oracle.duplicated) == (0, 0) and oracle.expected > 0, oracle
    assert landed_s <= LANDS_WITHIN_S, landed_s
