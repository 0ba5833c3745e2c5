"""A partition runner restored from any checkpoint decides what an uninterrupted one decides.

One partition of a simulated stream (with duplicates, late and malformed records) is fed to a runner in one
topic interleaving. Other runners take another interleaving, are checkpointed at a cut point, go on a while
(outputs a crash would lose track of), and are replaced by a runner restored from the checkpoint that is
fed again from earlier offsets, as Kafka redelivers after a crash. Together they must publish exactly what
the uninterrupted runner published.
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

from producers.publisher import partition_of
from producers.scenario import overlay, parse_start, scenario
from producers.simulator import Simulator
from schemas.topics import topics
from streams.escalation import Engine
from streams.runner import Emit, PartitionRunner

PARTITION = 1
Record = tuple[str, int, bytes]  # topic, offset, value


@cache
def _partition_records() -> dict[str, list[Record]]:
    """Per intake topic, the records of PARTITION with their offsets, as the publisher would place them."""
    sim = Simulator(
        scenario("normal_day"),
        11,
        start=parse_start("2026-03-02T10:00:00+08:00"),
        duration=timedelta(minutes=3),
        scale=60,
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


def _runner() -> PartitionRunner:
    fixed = datetime(2026, 3, 2, tzinfo=UTC)  # dead letters' processing time: not part of any decision
    return PartitionRunner(
        Engine.bundled(), PARTITION, tuple(spec.name for spec in topics().intake), lambda: fixed
    )


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
    runner: PartitionRunner, stream: Iterator[Record], cut: int, lost: int
) -> tuple[bytes, list[Emit]]:
    """Feed ``cut`` records, checkpoint, feed ``lost`` more (published, then forgotten by the crash)."""
    emitted = _feed(runner, stream, limit=cut)
    checkpoint = runner.checkpoint()
    return checkpoint, emitted + _feed(runner, stream, limit=lost)


def _restart(checkpoint: bytes, seed: int, run: int) -> tuple[PartitionRunner, Iterator[Record]]:
    """A runner restored from ``checkpoint``, and what Kafka redelivers: the committed offset may lag the
    checkpoint, so from half-way back."""
    runner = _runner()
    runner.restore(checkpoint)
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
    checkpoint, emitted = _crash(
        _runner(), _interleave(by_topic, seed, start={}, run=run), int(total * cut), total // 10
    )
    # A second crash soon after the restart, before the redelivered records are all read again.
    runner, stream = _restart(checkpoint, seed + 100, run)
    checkpoint, more = _crash(runner, stream, total // 20, total // 20)
    runner, stream = _restart(checkpoint, seed + 200, run)
    emitted += more + _feed(runner, stream)

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
