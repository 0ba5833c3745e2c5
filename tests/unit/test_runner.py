"""A partition runner restored from any checkpoint decides what an uninterrupted one decides.

One partition of a simulated stream (with duplicates, late and malformed records) is fed to a runner in one
topic interleaving. Other runners take another interleaving and write checkpoint records to a table as they
go (full snapshots and deltas, `streams.core.chain`), go on a while after the last one (outputs a crash would
lose track of), and are replaced by a runner restored from the table that is fed again from earlier
offsets, as Kafka redelivers after a crash. Together they must publish exactly what the uninterrupted
runner published.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import orjson
import pytest

from producers.partitioner import partition_of
from producers.scenario import overlay, parse_start, scenario
from producers.simulator import Simulator
from schemas.topics import topics
from streams.core.chain import decode
from streams.core.escalation import Engine
from streams.core.runner import Emit, PartitionRunner

PARTITION = 1
Record = tuple[str, int, bytes]  # topic, offset, value


@cache
def _partition_records(
    duration: timedelta = timedelta(minutes=3), scale: float = 60
) -> dict[str, list[Record]]:
    """Per intake topic, the records of PARTITION with their offsets, as the publisher would place them."""
    sim = Simulator(
        scenario("normal_day"),
        11,
        start=parse_start("2026-03-02T10:00:00+08:00"),
        duration=duration,
        scale=scale,
        overlay=overlay("data_quality"),
    )
    by_topic: dict[str, list[Record]] = {spec.name: [] for spec in topics().intake}
    for record in sim:
        partitions = next(s.partitions for s in topics().intake if s.name == record.topic)
        if partition_of(record, partitions) == PARTITION:
            records = by_topic[record.topic]
            records.append((record.topic, len(records), record.value))
    return by_topic


def _interleave(
    by_topic: dict[str, list[Record]], seed: int, start: dict[str, int], run: int = 40
) -> Iterator[Record]:
    """Each topic in offset order from ``start``, the topics mixed in random runs of up to ``run`` records
    (as fetches come); a long ``run`` reads one topic to its end before the next."""
    rng = random.Random(seed)
    cursors = {topic: start.get(topic, 0) for topic in by_topic}
    while True:
        open_topics = [t for t in by_topic if cursors[t] < len(by_topic[t])]
        if not open_topics:
            return
        topic = rng.choice(open_topics)
        for _ in range(rng.randint(1, run)):
            if cursors[topic] >= len(by_topic[topic]):
                break
            yield by_topic[topic][cursors[topic]]
            cursors[topic] += 1


def _runner(writer: str = "w") -> PartitionRunner:
    fixed = datetime(2026, 3, 2, tzinfo=UTC)  # dead letters' processing time: not part of any decision
    return PartitionRunner(
        Engine.bundled(),
        PARTITION,
        tuple(spec.name for spec in topics().intake),
        lambda: fixed,
        writer=writer,
    )


def save(runner: PartitionRunner, table: dict[bytes, bytes]) -> None:
    """Write the runner's next checkpoint record to ``table`` as the faust shell does."""
    record = runner.checkpoint()
    table[record.key] = record.blob
    for key in record.obsolete:
        table.pop(key, None)


def _decisions(emits: list[Emit]) -> dict[str, Any]:
    """What analysts see: transitions and dead letters by id, incidents at their latest version."""
    transitions: dict[str, Any] = {}
    letters: dict[str, Any] = {}
    incidents: dict[str, Any] = {}
    for emit in emits:
        body = orjson.loads(emit.value)
        if emit.role == "incident_transitions":
            transitions[body["transition_id"]] = body
        elif emit.role == "deadletter":
            letters[body["dead_letter_id"]] = body
        elif emit.role == "incidents":
            known = incidents.get(body["incident_id"])
            if known is None or body["version"] > known["version"]:
                incidents[body["incident_id"]] = body
    return {"transitions": transitions, "deadletters": letters, "incidents": incidents}


def _feed(runner: PartitionRunner, records: Iterator[Record], limit: int | None = None) -> list[Emit]:
    emits: list[Emit] = []
    for topic, offset, value in itertools.islice(records, limit):
        emits += runner.feed(topic, offset, value)
    return emits


@cache
def _uninterrupted() -> dict[str, Any]:
    runner = _runner()
    return _decisions(_feed(runner, _interleave(_partition_records(), seed=0, start={})))


def test_the_partition_has_substance() -> None:
    decided = _uninterrupted()
    assert len(decided["transitions"]) > 20
    assert any(d["error_class"] == "decode_error" for d in decided["deadletters"].values())


def _crash(
    runner: PartitionRunner, stream: Iterator[Record], table: dict[bytes, bytes], cut: int, lost: int
) -> list[Emit]:
    """Feed ``cut`` records, checkpointing into ``table`` along the way and at the end, then feed ``lost``
    more (published, then forgotten by the crash)."""
    emitted: list[Emit] = []
    every = max(1, cut // 7)
    for _ in range(0, cut, every):
        emitted += _feed(runner, stream, limit=every)
        save(runner, table)
    return emitted + _feed(runner, stream, limit=lost)


def _restart(
    table: dict[bytes, bytes], seed: int, run: int, writer: str
) -> tuple[PartitionRunner, Iterator[Record]]:
    """A runner restored from ``table``, and what Kafka redelivers: the committed offset may lag the
    checkpoint, so from half-way back."""
    runner = _runner(writer)
    runner.restore(dict(table))
    by_topic = _partition_records()
    redeliver = {topic: (runner.expected(topic) or 0) // 2 for topic in by_topic}
    return runner, _interleave(by_topic, seed, start=redeliver, run=run)


@pytest.mark.parametrize("cut", [0.05, 0.3, 0.6, 0.95])
@pytest.mark.parametrize(("seed", "run"), [(1, 40), (2, 10_000)])
def test_a_runner_restarted_from_checkpoints_decides_as_one_never_stopped(
    cut: float, seed: int, run: int
) -> None:
    by_topic = _partition_records()
    total = sum(len(records) for records in by_topic.values())
    table: dict[bytes, bytes] = {}
    emitted = _crash(
        _runner("a"), _interleave(by_topic, seed, start={}, run=run), table, int(total * cut), total // 10
    )
    # A second crash soon after the restart, before the redelivered records are all read again.
    runner, stream = _restart(table, seed + 100, run, "b")
    emitted += _crash(runner, stream, table, total // 20, total // 20)
    runner, stream = _restart(table, seed + 200, run, "c")
    emitted += _feed(runner, stream)

    assert _decisions(emitted) == _uninterrupted()
    assert not runner.sequencer.held, "records were left in the sequencer after the closing ticks"


def test_a_record_past_the_expected_offset_is_refused() -> None:
    runner = _runner()
    topic, offset, value = _partition_records()[topics().intake[0].name][0]
    runner.feed(topic, offset, value)
    assert runner.expected(topic) == offset + 1
    assert runner.feed(topic, offset, value) == []  # a redelivery
    with pytest.raises(ValueError, match="skips"):
        runner.feed(topic, offset + 2, value)


def test_a_chain_of_deltas_restores_exactly_the_saved_runner() -> None:
    """After every checkpoint record, a runner restored from the table holds what the saved one held."""
    # Long enough at a low rate for SLA timers to fire and windows to expire, so deltas remove entries too.
    runner, table = _runner(), dict[bytes, bytes]()
    records = list(_interleave(_partition_records(timedelta(hours=5), 1), seed=3, start={}))
    longest = removals = 0
    step = len(records) // 40
    for start in range(0, len(records), step):
        _feed(runner, iter(records[start : start + step]))
        save(runner, table)
        restored = _runner("r")
        restored.restore(dict(table))
        assert restored.state.to_json() == runner.state.to_json()
        assert restored.next_offsets == runner.next_offsets
        assert sorted(restored.sequencer.held) == sorted(runner.sequencer.held)
        assert restored.sequencer.ticks == runner.sequencer.ticks
        longest = max(longest, len(table))
        body = decode(table[max(table)])
        removals += 0 if body["full"] else len(body["del"])
    assert longest > 3, "no record built on a delta: the test would not see a lost change"
    assert removals, "no delta removed an entry: a lost removal would pass"


def test_a_topic_begun_at_an_offset_refuses_a_later_first_record() -> None:
    """A restored runner whose checkpoint never covered a topic must not start that topic mid-way."""
    runner = _runner()
    grid, alerts = topics().intake[0].name, topics().intake[1].name
    topic, offset, value = _partition_records()[grid][0]
    runner.feed(topic, offset, value)
    runner.begin(grid, 0)  # taken already: unchanged
    assert runner.expected(grid) == offset + 1
    runner.begin(alerts, 0)
    _, _, alert = _partition_records()[alerts][5]
    with pytest.raises(ValueError, match="skips"):
        runner.feed(alerts, 5, alert)
