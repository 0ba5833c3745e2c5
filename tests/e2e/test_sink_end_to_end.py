"""End to end: a recorded scenario with injected duplicates and malformed records, replayed through the real
broker, the stream worker and the sink into the real clickhouse-server; analysts' views show exactly the
expected numbers.

Expected numbers come from the sources of truth, never from the sink: distinct raw events from the
producer's ledger, incidents and transitions from the topics the worker wrote, dead letters from the
recording's overlay labels plus the worker's dead-letter topic.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sink_harness import SinkPipeline, delivery, stop, wait_until

from producers.ledger import read_ledger
from producers.recording import RecordingReader
from schemas.ids import dead_letter_id_for
from sinks import with_database

pytestmark = pytest.mark.slow


def test_views_show_exactly_the_recorded_scenario(
    kafka_bootstrap: str, clickhouse_url: str, ch_database: str, topic_prefix: str, tmp_path: Path
) -> None:
    pipeline = SinkPipeline(
        kafka_bootstrap, topic_prefix, tmp_path, with_database(clickhouse_url, ch_database)
    )
    pipeline.cli("init")
    recording, ledger = tmp_path / "scenario.jsonl", tmp_path / "ledger.jsonl"
    pipeline.cli(
        "simulate", "--scenario", "normal_day", "--seed", "11", "--duration", "40m", "--scale", "5",
        "--overlay", "data_quality", "--out", str(recording), "--dry-run",
    )  # fmt: skip
    reader = RecordingReader(recording)
    list(reader)
    assert reader.summary is not None
    labels = {name: sum(counts.values()) for name, counts in reader.summary.labels.items()}
    malformed_injected = sum(n for name, n in labels.items() if name.startswith("malformed"))
    assert labels.get("duplicate", 0) > 0 and malformed_injected > 0, labels

    sink = pipeline.start_sink("--batch-rows", "500", "--batch-seconds", "0.5")
    try:
        with pipeline.workers(1) as workers:
            pipeline.cli("replay", str(recording), "--ledger", str(ledger))
            wait_until(lambda: pipeline.stream_lag() == 0, 180, "the worker to consume everything", workers)
        # The worker has stopped: its output topics are final. Now the sink must commit all of them.
        wait_until(lambda: pipeline.sink_lag() == 0, 60, "the sink to land everything", sink)
    finally:
        stop(sink)
    assert sink.returncode == 0

    entries = read_ledger(ledger)
    malformed = {dead_letter_id_for(e.topic, e.partition, e.offset) for e in entries if e.event_id is None}
    assert len(malformed) == malformed_injected
    incidents = {m["incident_id"] for m in pipeline.read("incidents")}
    transitions = {m["transition_id"] for m in pipeline.read("incident_transitions")}
    streamed_letters = {m["dead_letter_id"] for m in pipeline.read("deadletter")}
    assert incidents and transitions

    with pipeline.writer() as writer:
        db = writer.database

        def count(sql: str) -> tuple[int, int]:
            row = writer.query(sql.format(db=db)).rows[0]
            return int(str(row[0])), int(str(row[1]))

        oracle = delivery(ledger, writer)
        assert (oracle.lost, oracle.duplicated, oracle.seen) == (0, 0, oracle.expected)
        assert count("SELECT count(), uniqExact(incident_id) FROM {db}.incidents_latest") == (
            len(incidents),
            len(incidents),
        )
        assert count("SELECT count(), uniqExact(transition_id) FROM {db}.transitions_distinct") == (
            len(transitions),
            len(transitions),
        )
        letters = {
            str(row[0])
            for row in writer.query(f"SELECT toString(dead_letter_id) FROM {db}.dead_letters_distinct").rows
        }
        # Every injected malformed record is a dead letter (the worker's and the sink's share its id), and
        # nothing else is, besides what the worker itself dead-lettered (e.g. late events).
        assert {str(i) for i in malformed} <= letters
        assert letters == {str(i) for i in malformed} | streamed_letters
        assert count("SELECT count(), uniqExact(dead_letter_id) FROM {db}.dead_letters_distinct")[0] == len(
            letters
        )
