"""A restarted worker commits where its checkpoints resume, even for partitions that get no new input.

A worker can be killed after the broker has a partition's checkpoint and before the group's commit of the
offsets that checkpoint resumes from. Its successor then restores the partition from that checkpoint and
has nothing left to read there; unless it commits those offsets itself, the group shows the partition
behind for good (or until its next record), and everything that waits for the workers to drain (tests, the
demo, benchmarks) waits forever. The test drains a worker, moves the group's committed offsets back to
the start of every input (the commits "lost"), and restarts the worker with no new input: the lag must
return to zero, and nothing may be decided again (the worker resumes from its checkpoints, not from the
committed offsets).

Negative control (run once): without the reader's commit on taking a new generation's partitions, the lag
did not return to zero in the 60 s the test waits.
"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

from kafka import KafkaConsumer
from kafka.structs import OffsetAndMetadata
from pipeline_harness import GRIDFLOW, Pipeline, stop, wait_until

from infra import lag

ARGS = ["--scenario", "normal_day", "--seed", "5", "--start", "2026-03-02T10:00:00+08:00", "--scale", "60"]


def _rewind(pipeline: Pipeline) -> int:
    """Commit offset 0 on every intake and county-stage partition for the workers' group (none running)."""
    parts = lag.partitions_of([*pipeline.names.intake, pipeline.names.cluster_signals])
    consumer = KafkaConsumer(
        bootstrap_servers=pipeline.bootstrap, group_id=pipeline.stream_group, enable_auto_commit=False
    )
    try:
        consumer.assign(parts)
        consumer.commit({tp: OffsetAndMetadata(0, "", -1) for tp in parts})
    finally:
        consumer.close()
    return pipeline.stream_lag()


def test_a_restarted_worker_commits_its_restored_offsets_without_new_input(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    pipeline = Pipeline(kafka_bootstrap, f"rs{uuid.uuid4().hex[:6]}.", tmp_path)
    recording = tmp_path / "in.jsonl"
    simulate = [*GRIDFLOW, "simulate", *ARGS, "--duration", "30s", "--dry-run", "--out", str(recording)]
    subprocess.run(simulate, env=pipeline.env, check=True, capture_output=True)
    with pipeline.workers(1) as proc:
        wait_until(lambda: pipeline.group_members() == 1, 120, "the worker to join", proc)
        assert "errors 0" in pipeline.cli("replay", str(recording), "--speed", "0").stdout
        wait_until(lambda: pipeline.stream_lag() == 0, 180, "the worker to consume everything", proc)
    decided = pipeline.produced("incident_transitions")
    assert decided > 0

    wait_until(lambda: pipeline.group_members() == 0, 60, "the worker to leave its group")
    assert _rewind(pipeline) > 0

    proc = pipeline.start_workers(1)
    try:
        wait_until(lambda: pipeline.stream_lag() == 0, 60, "the restarted worker to commit", proc)
    finally:
        stop(proc)
    assert pipeline.produced("incident_transitions") == decided
