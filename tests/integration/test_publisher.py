"""The publisher and replay against the real broker: every record acknowledged, ledgered and consumed back.

Oracles are independent of the code under test: partitions are recomputed with murmur2 as the Java client
does, clock ticks are counted per partition, and malformed payloads are recognised by ``schemas.decode``.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient
from kafka.partitioner.default import murmur2

from infra.errors import ConfigError
from infra.topics_admin import ensure_topics
from producers.ledger import Ledger, read_ledger
from producers.pacing import Pacer
from producers.publisher import Publisher, publish
from producers.record import Record
from producers.recording import RecordingReader, RecordingWriter
from producers.scenario import overlay, scenario
from producers.simulator import Simulator
from schemas import DecodeError, decode_intake
from schemas.topics import topics

PARTITIONS = 6


def _partition_for(key: bytes) -> int:
    return int(murmur2(key) & 0x7FFFFFFF) % PARTITIONS


def _consume(
    bootstrap: str, prefix: str, expected: int, timeout_s: float = 60.0
) -> list[tuple[str, int, bytes | None, bytes]]:
    """Everything on the intake topics of ``prefix``: (base topic, partition, key, value)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    parts = [TopicPartition(spec.name, p) for spec in topics(prefix).intake for p in range(spec.partitions)]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    out: list[tuple[str, int, bytes | None, bytes]] = []
    deadline = time.monotonic() + timeout_s
    while len(out) < expected and time.monotonic() < deadline:
        for tp, records in consumer.poll(timeout_ms=500, max_records=5000).items():
            base = tp.topic[len(prefix) :]
            out.extend((base, tp.partition, r.key, r.value) for r in records)
    # One more short poll: anything beyond the expected count would be a duplicate delivery.
    for tp, records in consumer.poll(timeout_ms=1000).items():
        out.extend((tp.topic[len(prefix) :], tp.partition, r.key, r.value) for r in records)
    consumer.close()
    return out


def _check_delivery(
    consumed: list[tuple[str, int, bytes | None, bytes]],
    expected_values: collections.Counter[tuple[str, bytes]],
) -> tuple[int, collections.Counter[tuple[str, int]]]:
    malformed = 0
    ticks: collections.Counter[tuple[str, int]] = collections.Counter()
    for topic, partition, key, value in consumed:
        try:
            message = decode_intake(value)
        except DecodeError:
            malformed += 1
            assert key is not None
            assert partition == _partition_for(key)
            continue
        if message.kind == "clock_tick":
            assert key is None and message.partition == partition
            ticks[(topic, partition)] += 1
        else:
            assert key is not None
            # Same key → the partition the default (murmur2) partitioner gives, and the key is the township.
            assert partition == _partition_for(key)
            assert key.decode() == message.grid_code[:9]
    assert collections.Counter((t, v) for t, _, _, v in consumed) == expected_values
    return malformed, ticks


def test_simulated_events_are_published_acknowledged_ledgered_and_consumed_back(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    sim = Simulator(
        scenario("linhe_festival_crowds"),
        seed=21,
        duration=timedelta(hours=2),
        scale=0.5,
        overlay=overlay("data_quality_heavy"),
    )
    ledger_path = tmp_path / "ledger.jsonl"
    recording = tmp_path / "run.jsonl.gz"
    sent: list[tuple[str, bytes]] = []
    with (
        Publisher(kafka_bootstrap, topic_prefix=topic_prefix, ledger=Ledger(ledger_path)) as publisher,
        RecordingWriter(recording, sim.header) as writer,
    ):

        def tee() -> Iterator[Record]:
            for record in sim:
                writer.write(record)
                sent.append((record.topic, record.value))
                yield record

        stats = publish(tee(), publisher, Pacer())
        writer.close(sim.summary)
    summary = sim.summary
    n_events = summary.events  # reports, alarms, dispositions, duplicates and malformed payloads
    assert n_events > 1000 and summary.label_total("malformed") > 10
    assert stats.sent == summary.total and stats.acked == summary.total and stats.errors == 0

    ledger = read_ledger(ledger_path)
    assert len(ledger) == n_events
    assert collections.Counter(e.kind for e in ledger) == collections.Counter(
        {k: v for k, v in summary.kinds.items() if k != "clock_tick"}
    )
    assert len({(e.topic, e.partition, e.offset) for e in ledger}) == n_events
    assert sum(1 for e in ledger if e.label == "duplicate") == summary.label_total("duplicate")

    consumed = _consume(kafka_bootstrap, topic_prefix, summary.total)
    assert len(consumed) == summary.total
    malformed, ticks = _check_delivery(consumed, collections.Counter(sent))
    assert malformed == summary.label_total("malformed") == summary.kinds["malformed"]
    # One tick per simulated minute over two hours on every intake partition (plus any closing ones).
    tick_rounds = summary.kinds["clock_tick"] // 18
    assert tick_rounds >= 120
    assert set(ticks) == {(spec.name, p) for spec in topics().intake for p in range(spec.partitions)}
    assert set(ticks.values()) == {tick_rounds}


def test_replay_sends_the_same_payloads_to_the_same_partitions(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    sim = Simulator(
        scenario("normal_day"), seed=5, duration=timedelta(hours=1), overlay=overlay("data_quality")
    )
    recording = tmp_path / "hour.jsonl"
    with RecordingWriter(recording, sim.header) as writer:
        for record in sim:
            writer.write(record)
        writer.close(sim.summary)
    # Damage one line: it is counted and reported, and everything else is still sent.
    lines = recording.read_bytes().splitlines()
    lines.insert(3, b'{"topic": "intake.grid_reports", "kind": "grid_report"}')
    recording.write_bytes(b"\n".join(lines) + b"\n")

    reader = RecordingReader(recording)
    first, second = topic_prefix + "a.", topic_prefix + "b."
    ensure_topics(kafka_bootstrap, topics(first).intake)
    with Publisher(kafka_bootstrap, topic_prefix=first, compression="gzip") as publisher:
        publish(reader, publisher, Pacer(speed=0))
    assert reader.bad_lines == 1 and "line 4" in reader.problems[0]
    with Publisher(kafka_bootstrap, topic_prefix=second) as publisher:
        stats = publish(
            RecordingReader(recording), publisher, Pacer(speed=3600.0 * 60)
        )  # an hour in a second
    assert stats.acked == sim.summary.total

    a = _consume(kafka_bootstrap, first, sim.summary.total)
    b = _consume(kafka_bootstrap, second, sim.summary.total)
    assert len(a) == len(b) == sim.summary.total
    assert collections.Counter((t, p, v) for t, p, _, v in a) == collections.Counter(
        (t, p, v) for t, p, _, v in b
    )


def test_a_topic_with_the_wrong_partition_count_is_refused(kafka_bootstrap: str, topic_prefix: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics(
        {topics(topic_prefix).grid_reports.name: {"num_partitions": 2, "replication_factor": 1}}
    )
    admin.close()
    with pytest.raises(ConfigError, match="has 2 partitions; expected 6"):
        Publisher(kafka_bootstrap, topic_prefix=topic_prefix)


def test_back_pressure_bounds_unacknowledged_records_and_loses_none(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    records = list(Simulator(scenario("normal_day"), seed=8, duration=timedelta(hours=3), scale=2))
    ledger_path = tmp_path / "ledger.jsonl"
    with Publisher(
        kafka_bootstrap, topic_prefix=topic_prefix, ledger=Ledger(ledger_path), max_in_flight=300
    ) as publisher:
        peak = 0
        for record in records:
            publisher.send(record)
            peak = max(peak, publisher.stats.in_flight)
        publisher.flush()
        stats = publisher.stats
    assert stats.waits > 0, "the bound never engaged"
    # Settling runs every 256 sends, so the queue may overshoot the bound by at most that much.
    assert peak <= 300 + 256
    assert stats.acked == stats.sent == len(records) and stats.errors == 0
    assert len(read_ledger(ledger_path)) == sum(1 for r in records if not r.is_tick)
