"""No personal data in clear after a pipeline run: not in a ClickHouse table, the dead-letter topic or a log.

A short simulated morning with the data-quality overlay (so malformed grid reports, phone numbers included,
reach the dead letters), plus two hand-made bad records that carry a phone number, runs through the real
broker, one stream worker and the sink into a database of its own. Then every table of that database, every
record of the dead-letter topic (with its base64 ``raw`` decoded) and every log file of the run are scanned
for a mainland mobile number (``1[3-9]\\d{9}``) and for the configured key. The negative control runs the same
with ``GRIDFLOW_PII_TOKENISE=false`` and must find phone numbers in each of the three places.
"""

from __future__ import annotations

import base64
from pathlib import Path

import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from sink_harness import TEST_PII_KEY, SinkPipeline, stop, wait_until

from schemas.personal import PHONE
from sinks import with_database

pytestmark = pytest.mark.slow

PHONE_IN_TEXT = "13712340000"


def _bad_records() -> list[bytes]:
    report = {"kind": "grid_report", "schema_version": 1, "category": "no_such_category"}
    report["reporter"] = {"id": "GM-private-01", "phone": "13612349999"}
    return [orjson.dumps(report), f"not json, call {PHONE_IN_TEXT}".encode()]


def _dead_letter_texts(pipeline: SinkPipeline) -> list[str]:
    spec = pipeline.names.deadletter
    consumer = KafkaConsumer(bootstrap_servers=pipeline.bootstrap, enable_auto_commit=False)
    try:
        tps = [TopicPartition(spec.name, p) for p in range(spec.partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning()
        ends = consumer.end_offsets(tps)
        texts: list[str] = []
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            for records in consumer.poll(timeout_ms=1000).values():
                for record in records:
                    texts.append(record.value.decode("utf-8", "replace"))
                    raw = base64.b64decode(orjson.loads(record.value)["raw"])
                    texts.append(raw.decode("utf-8", "replace"))
        return texts
    finally:
        consumer.close()


def _table_texts(pipeline: SinkPipeline) -> dict[str, str]:
    """Every table and view of the run's database as text (aggregate states, which hold no text, left out)."""
    with pipeline.writer() as writer:
        db = writer.database
        columns: dict[str, list[str]] = {}
        listed = writer.query(f"SELECT table, name, type FROM system.columns WHERE database = '{db}'").rows
        for table, name, kind in listed:
            if not str(kind).startswith("AggregateFunction"):
                columns.setdefault(str(table), []).append(f"`{name}`")
        assert columns
        return {
            t: "\n".join(map(repr, writer.query(f"SELECT {', '.join(cs)} FROM {db}.`{t}`").rows))
            for t, cs in columns.items()
        }


def _found(texts: dict[str, str], secret: str) -> dict[str, str]:
    """Where a phone number or the secret turns up: place → the first hit."""
    hits = {}
    for place, text in texts.items():
        match = PHONE.search(text)
        if match or secret in text:
            hits[place] = match.group() if match else "<the key>"
    return hits


@pytest.mark.parametrize("tokenise", [True, False], ids=["tokenised", "negative-control-clear"])
def test_a_run_leaves_no_phone_number_or_key_in_tables_dead_letters_or_logs(
    kafka_bootstrap: str,
    clickhouse_url: str,
    ch_database: str,
    topic_prefix: str,
    tmp_path: Path,
    tokenise: bool,
) -> None:
    pipeline = SinkPipeline(
        kafka_bootstrap, topic_prefix, tmp_path, with_database(clickhouse_url, ch_database)
    )
    if not tokenise:
        pipeline.extra_env["GRIDFLOW_PII_TOKENISE"] = "false"
    pipeline.cli("init")
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for i, bad in enumerate(_bad_records()):
        producer.send(pipeline.names.grid_reports.name, bad, partition=i)
    producer.flush()
    producer.close()
    sink = pipeline.start_sink("--batch-rows", "2000", "--batch-seconds", "0.5")
    try:
        with pipeline.workers(1) as workers:
            pipeline.cli(
                "simulate", "--scenario", "normal_day", "--seed", "5", "--duration", "2h", "--scale", "1",
                "--overlay", "data_quality_heavy",
            )  # fmt: skip
            wait_until(lambda: pipeline.stream_lag() == 0, 180, "the worker to consume everything", workers)
            # Secrets travel in the environment, never on a command line that any user's `ps` shows.
            for proc in (sink, workers):
                assert TEST_PII_KEY.encode() not in Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        wait_until(lambda: pipeline.sink_lag() == 0, 180, "the sink to land everything", sink)
    finally:
        stop(sink)

    tables = _table_texts(pipeline)
    letters = _dead_letter_texts(pipeline)
    logs = {str(p): p.read_text("utf-8", "replace") for p in tmp_path.rglob("*.log")}
    assert "grid_reports" in tables and len(letters) >= 4 and logs
    texts = {**{f"table {t}": v for t, v in tables.items()}, "topic deadletter": "\n".join(letters), **logs}
    hits = _found(texts, TEST_PII_KEY)
    if tokenise:
        assert hits == {}
        assert "pii_" in tables["grid_reports"]  # the tokens are there, so repeat reporters can be counted
    else:
        # The control: the same run with tokenisation off shows the scan finds clear numbers in the
        # warehouse's raw JSON and in the dead letters.
        assert "table grid_reports" in hits and "table dead_letters" in hits and "topic deadletter" in hits, (
            hits
        )
