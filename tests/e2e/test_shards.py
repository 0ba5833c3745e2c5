"""The warehouse sharded over two clickhouse-servers (sinks/shards.py), fed by a real worker and sink.

Two clickhouse-server processes form cluster ``gridflow_shards``; ``gridflow init`` with
``GRIDFLOW_CLICKHOUSE_CLUSTER`` applies the ordinary migrations to each shard and puts Distributed tables
over them. A scenario goes through a worker and a sink writing to the Distributed tables; then the sink's
group is deleted and a second sink lands everything again, so every row is redelivered once. Analysts'
views over the Distributed tables must still show every acknowledged event, incident and transition
exactly once (the ledger oracle), while the base tables hold each row twice, and each id lives on one shard.

Negative control (run once): sharding by ``rand()`` instead of the collapsing id put redeliveries on the
other shard, where no view could collapse them, and the oracle counted duplicates.
"""

from __future__ import annotations

from pathlib import Path

import own_servers
import pytest
from sink_harness import INTAKE_TABLES, SinkPipeline, delivery, landed_rows, stop, wait_until

from gridflow.services.clickhouse import SHARD_CLUSTER, ClickHouseService
from producers.ledger import read_ledger
from sinks import connect, with_database
from sinks.ddl import migrations
from sinks.shards import local_database
from sinks.writer import Writer

pytestmark = pytest.mark.slow

own_shards = own_servers.own_shards

SCENARIO = ("--scenario", "normal_day", "--seed", "5", "--duration", "2h", "--scale", "5")
BATCH = ("--batch-rows", "2000", "--batch-seconds", "0.3")


def _count(writer: Writer, sql: str) -> int:
    return int(str(writer.query(sql.format(db=writer.database)).scalar()))


def _land_once(pipeline: SinkPipeline) -> None:
    sink = pipeline.start_sink(*BATCH)
    try:
        wait_until(lambda: pipeline.sink_lag() == 0, 180, "the sink to land everything", sink)
    finally:
        stop(sink)
    assert sink.returncode == 0


def test_two_shards_behind_distributed_tables_show_every_row_once(
    own_shards: list[ClickHouseService], kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    database = "gfshards"
    front_url = with_database(own_shards[0].url, database)
    pipeline = SinkPipeline(kafka_bootstrap, topic_prefix, tmp_path, front_url)
    pipeline.extra_env["GRIDFLOW_CLICKHOUSE_CLUSTER"] = SHARD_CLUSTER
    init = pipeline.cli("init")
    assert f"Distributed over 2 shards of cluster {SHARD_CLUSTER}" in init.stdout, init.stdout
    pipeline.cli("init")  # idempotent

    # The same migrations as on one server, on each shard.
    shard_urls = [with_database(s.url, local_database(database)) for s in own_shards]
    for url in shard_urls:
        with connect(url) as shard:
            versions = _count(shard, "SELECT uniqExact(version) FROM {db}.schema_version")
            assert versions == len(migrations())
            assert _count(shard, "SELECT count() FROM {db}.units") > 1000

    ledger = tmp_path / "ledger.jsonl"
    with pipeline.workers(1) as worker:
        pipeline.cli("simulate", *SCENARIO, "--ledger", str(ledger))
        wait_until(lambda: pipeline.stream_lag() == 0, 240, "the worker to decide everything", worker)
    _land_once(pipeline)
    # Every row again: the sink's group forgets its offsets, as after a crash before any commit.
    pipeline.forget_sink_offsets()
    assert pipeline.sink_lag() >= len(read_ledger(ledger))  # the deletion took: everything is due again
    _land_once(pipeline)

    with pipeline.writer() as front:
        oracle = delivery(ledger, front)
        base = landed_rows(front, dedup=True)
        units = _count(front, "SELECT count() FROM {db}.units")
        incidents = _count(front, "SELECT count() FROM {db}.incidents_latest")
        incident_ids = _count(front, "SELECT uniqExact(incident_id) FROM {db}.incidents")
        transitions = _count(front, "SELECT count() FROM {db}.transitions_distinct")
        transition_rows = _count(front, "SELECT count() FROM {db}.transitions")
        transition_ids = _count(front, "SELECT uniqExact(transition_id) FROM {db}.transitions")
        named = _count(front, "SELECT count() FROM {db}.transitions_named")
    per_shard: list[set[str]] = []
    for url in shard_urls:
        with connect(url) as shard:
            parts = " UNION ALL ".join(f"SELECT toString(event_id) FROM {{db}}.{t}" for t in INTAKE_TABLES)
            per_shard.append({str(r[0]) for r in shard.query(parts.format(db=shard.database)).rows})
            assert units == _count(shard, "SELECT count() FROM {db}.units"), "dimensions summed over shards"

    assert oracle.expected > 1000
    assert (oracle.lost, oracle.duplicated) == (0, 0), oracle
    assert base == 2 * oracle.expected, (base, oracle)  # every intake row redelivered once
    assert transition_rows == 2 * transition_ids > 0
    assert incidents == incident_ids > 0
    assert transitions == named == transition_ids
    assert all(per_shard) and not per_shard[0] & per_shard[1], "an id on both shards, or a shard unused"
