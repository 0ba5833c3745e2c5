"""The sink lands the county stage's alerts from ``county_alerts``: once each, however often redelivered,
and a record there that is not a county alert becomes a dead letter (issue 13: the topic is no longer read
only by tests)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from kafka import KafkaProducer
from sink_harness import SinkPipeline, stop, wait_until

from schemas.enums import MessageStatus
from schemas.stages import CountyAlert
from sinks import with_database

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def test_county_alerts_land_once_and_bad_records_are_dead_lettered(
    kafka_bootstrap: str, clickhouse_url: str, ch_database: str, topic_prefix: str, tmp_path: Path
) -> None:
    pipeline = SinkPipeline(
        kafka_bootstrap, topic_prefix, tmp_path, with_database(clickhouse_url, ch_database)
    )
    pipeline.cli("init")
    alert = CountyAlert(
        status=MessageStatus.EXERCISE,
        alert_id=CountyAlert.id_for("150802", "labour", T0),
        county_code="150802",
        category="labour",
        townships=("150802001", "150802002"),
        signal_ids=(uuid.UUID(int=1), uuid.UUID(int=2)),
        window_start=T0 - dt.timedelta(minutes=40),
        at=T0,
        rule_id="K-CLU-001",
        policy_version="fengqiao/2026.1",
    )
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    topic = pipeline.names.county_alerts.name
    for value in (alert.to_json(), alert.to_json(), b'{"kind": "county_alert", "alert_id": 1}'):
        producer.send(topic, key=b"150802", value=value)
    producer.flush()
    producer.close()

    sink = pipeline.start_sink("--batch-rows", "10", "--batch-seconds", "0.2")
    try:
        wait_until(lambda: pipeline.sink_lag() == 0, 120, "the sink to land the county alerts", sink)
    finally:
        stop(sink)
    with pipeline.writer() as writer:
        db = writer.database
        rows = writer.query(
            f"SELECT toString(alert_id), county_code, townships, policy_version "
            f"FROM {db}.county_alerts_distinct"
        ).rows
        assert rows == [(str(alert.alert_id), "150802", ["150802001", "150802002"], "fengqiao/2026.1")]
        letters = writer.query(
            f"SELECT count() FROM {db}.dead_letters_distinct WHERE source_topic = '{topic}'"
        ).scalar()
        assert letters == 1
