"""A three-broker KRaft cluster (``gridflow services up --brokers 3``) losing the leader of the intake.

Topics have three replicas and ``min.insync.replicas`` 2, so acks=all writes go on with one node down. The
node leading ``intake.grid_reports`` partition 0 is SIGKILLed mid-run and stays down: nothing acknowledged
is lost, nothing is visible twice, and the sink never goes more than 30 s without landing new rows while
the scenario is still being published. (The oracle's negative control is the sink kill test's --no-dedup.)
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import own_servers
import pytest
from kafka.admin import KafkaAdminClient
from sink_harness import SinkPipeline, delivery, landed_rows, stop, wait_until

from gridflow.services.kafka import KafkaCluster
from sinks import with_database

pytestmark = pytest.mark.slow

own_cluster = own_servers.own_cluster

SCENARIO = ("--scenario", "normal_day", "--seed", "9", "--duration", "4h", "--scale", "5")
MAX_STALL_S = 30.0


def _leader_of(bootstrap: str, topic: str, partition: int) -> int:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        (described,) = admin.describe_topics([topic])
    finally:
        admin.close()
    return int(next(p["leader_id"] for p in described["partitions"] if p["partition_index"] == partition))


def test_killing_the_intake_leader_loses_nothing_and_stalls_under_30s(
    own_cluster: KafkaCluster, clickhouse_url: str, ch_database: str, topic_prefix: str, tmp_path: Path
) -> None:
    cluster = own_cluster
    pipeline = SinkPipeline(
        cluster.bootstrap, topic_prefix, tmp_path, with_database(clickhouse_url, ch_database)
    )
    pipeline.cli("init")
    ledger = tmp_path / "ledger.jsonl"
    worker = pipeline.start_workers(1)
    sink = pipeline.start_sink("--batch-rows", "1000", "--batch-seconds", "0.3")
    producer = pipeline.start(
        "simulate", *SCENARIO, "--rate", "100", "--ledger", str(ledger), name="simulate"
    )
    longest_stall = 0.0
    try:
        with pipeline.writer() as writer:
            wait_until(lambda: landed_rows(writer) > 0, 120, "the sink to land a first batch", sink)
            wait_until(lambda: pipeline.produced("incidents") > 0, 180, "the worker to decide", worker)
            leader = _leader_of(cluster.bootstrap, pipeline.names.intake[0].name, 0)
            victim = cluster.members[leader - 1]
            pid = victim.process.pid()
            assert pid is not None
            os.killpg(pid, signal.SIGKILL)
            # Stalls: the longest time the sink lands nothing new while the producer still publishes.
            last, last_change = landed_rows(writer), time.monotonic()
            while producer.poll() is None:
                time.sleep(0.5)
                now, rows = time.monotonic(), landed_rows(writer)
                if rows > last:
                    last, last_change = rows, now
                longest_stall = max(longest_stall, now - last_change)
        assert producer.returncode == 0
        wait_until(lambda: pipeline.stream_lag() == 0, 180, "the worker to catch up", worker)
        wait_until(lambda: pipeline.sink_lag() == 0, 180, "the sink to catch up", sink)
        assert worker.poll() is None and sink.poll() is None, "a process died with the leader"
    finally:
        stop(sink)
        stop(producer)
        stop(worker)
    with pipeline.writer() as writer:
        oracle = delivery(ledger, writer)
    print(f"killed node {leader}; longest stall of the sink while publishing: {longest_stall:.1f} s")
    assert oracle.expected > 0
    assert (oracle.lost, oracle.duplicated) == (0, 0), oracle
    assert longest_stall <= MAX_STALL_S, longest_stall
