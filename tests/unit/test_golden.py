"""Golden hashes of the decision core: a fixed, seeded input gives byte-identical outputs, release to release.

Two runs are hashed: a simulated stream (seeded simulator with its data-quality overlay: duplicates, late and
malformed records) fed through one `PartitionRunner` per partition, and a random two days of reports, alarms
and dispositions stepped through the `Engine` with clock ticks. Every output's bytes go into sha256, in order:
the runner's emits as (role, key, value) and its checkpoint records, the engine's pydantic outputs by
``model_dump_json`` and its other outputs by ``to_json`` (or ``repr`` for a dead-letter request).

The constants below were recorded from the code of the time. They may change ONLY for a stated reason: a
deliberate change of a decision or of a wire format, named in the commit that changes them. A refactor
(moving modules, renaming, splitting) must leave them alone. To regenerate after such a deliberate change,
run ``.venv/bin/python tests/unit/test_golden.py`` and paste the printed digests.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from streams_factories import at, tick
from test_escalation import run_all, scenario, with_ticks

from infra.placement import key_partition
from producers.scenario import overlay, parse_start
from producers.scenario import scenario as simulated_scenario
from producers.simulator import Simulator
from schemas.topics import topics
from streams.core.escalation import Engine
from streams.core.runner import PartitionRunner

RUNNER_DIGEST = "0156446f63ac19f322ba908c91fda00aa2acee42bd149226a6196f0c12e0339b"
ENGINE_DIGEST = "919dd9ce3c97b14ac609870c6e8f616756a3358f3344ea3178fb06f06513f7b0"


def runner_digest() -> str:
    """Every emit and checkpoint record of one runner per partition over three simulated minutes."""
    sim = Simulator(
        simulated_scenario("normal_day"),
        11,
        start=parse_start("2026-03-02T10:00:00+08:00"),
        duration=timedelta(minutes=3),
        scale=60,
        overlay=overlay("data_quality"),
    )
    intake = topics().intake
    partitions = {spec.name: spec.partitions for spec in intake}
    engine = Engine.bundled()
    fixed = datetime(2026, 3, 2, tzinfo=UTC)  # dead letters' processing time: not part of any decision
    runners: dict[int, PartitionRunner] = {}
    offsets: dict[tuple[str, int], int] = {}
    digest = hashlib.sha256()
    for n, record in enumerate(sim):
        if record.partition is not None:  # a clock tick names its partition
            partition = record.partition
        else:
            assert record.key is not None
            partition = key_partition(record.key.encode(), partitions[record.topic])
        runner = runners.get(partition)
        if runner is None:
            runner = runners[partition] = PartitionRunner(
                engine, partition, tuple(spec.name for spec in intake), lambda: fixed
            )
        offset = offsets.get((record.topic, partition), 0)
        offsets[record.topic, partition] = offset + 1
        for emit in runner.feed(record.topic, offset, record.value):
            digest.update(emit.role.encode() + b"\0" + emit.key + b"\0" + emit.value + b"\n")
        if n % 500 == 499:
            saved = runner.checkpoint()
            digest.update(saved.key + b"\0" + saved.blob + b"\n")
    assert len(runners) == max(partitions.values())
    return digest.hexdigest()


def engine_digest() -> str:
    """Every output of the engine over a seeded two days with ticks every fourth event."""
    _, outputs = run_all([*with_ticks(scenario(seed=3, count=300), 4, ahead=True), tick(at(days=10))])
    digest = hashlib.sha256()
    for output in outputs:
        if hasattr(output, "model_dump_json"):
            data = output.model_dump_json().encode()
        elif hasattr(output, "to_json"):
            data = output.to_json()
        else:
            data = repr(output).encode()
        digest.update(type(output).__name__.encode() + b"\0" + data + b"\n")
    return digest.hexdigest()


def test_the_partition_runners_emit_the_recorded_bytes() -> None:
    assert runner_digest() == RUNNER_DIGEST


def test_the_engine_outputs_the_recorded_bytes() -> None:
    assert engine_digest() == ENGINE_DIGEST


if __name__ == "__main__":
    print(f'RUNNER_DIGEST = "{runner_digest()}"')
    print(f'ENGINE_DIGEST = "{engine_digest()}"')
