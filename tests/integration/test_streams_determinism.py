"""The streams decide the same, whatever the replay speed, worker count or a SIGKILL mid-run.

One recorded scenario (with the data-quality overlay: duplicates, late events, malformed records) is
replayed into fresh topics several ways (1x and 1000x, one and two workers, a second worker joining
mid-run, a worker killed mid-run); each run's transitions, final incidents, dead letters and county alerts
are compared by id and content against the first run.
"""

from __future__ import annotations

import signal
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from pipeline_harness import GRIDFLOW, Pipeline, stop, view_across_prefixes, wait_until

from producers.recording import RecordingReader

DURATION = "90s"  # the 1x replay takes this long in wall time
JOIN_RATE = "100"  # records/s while a worker joins: the ~3,000 records take about half a minute
ARGS = ["--scenario", "normal_day", "--seed", "11", "--start", "2026-03-02T10:00:00+08:00", "--scale", "60"]


def _record(path: Path, *extra: str) -> Path:
    command = [*GRIDFLOW, "simulate", *ARGS, "--duration", DURATION, *extra, "--dry-run", "--out", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """With the data-quality overlay: duplicates, late and malformed records."""
    return _record(tmp_path_factory.mktemp("rec") / "dq.jsonl", "--overlay", "data_quality")


@pytest.fixture(scope="module")
def plain_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Without the overlay, whose late records are sent up to ~45 simulated minutes after the period:
    a 1x replay of it would take that long in wall time."""
    return _record(tmp_path_factory.mktemp("rec") / "plain.jsonl")


def _run(
    bootstrap: str,
    prefix: str,
    workdir: Path,
    recording: Path,
    speed: str,
    workers: int = 1,
    kill: bool = False,
    join: bool = False,
) -> dict[str, dict[str, Any]]:
    prefix = f"{prefix}{uuid.uuid4().hex[:6]}."
    workdir.mkdir(parents=True, exist_ok=True)
    pipeline = Pipeline(bootstrap, prefix, workdir)
    proc = pipeline.start_workers(workers)
    try:
        # faust-streaming can stop fetching partitions that move in a rebalance while records flow (its
        # issues #471 and #629): let every worker join before the input starts.
        wait_until(lambda: pipeline.group_members() == workers, 120, f"{workers} workers to join", proc)
        extra = None
        if join:
            # The input trickles in while a second worker joins: the group rebalances mid-stream.
            feeder = subprocess.Popen(
                [*GRIDFLOW, "replay", str(recording), "--speed", speed, "--rate", JOIN_RATE],
                env=pipeline.env,
                stdout=subprocess.PIPE,
                text=True,
            )
            # Once the first worker has checkpointed some input, a second one joins.
            wait_until(lambda: sum(pipeline.committed().values()) > 0, 120, "a first checkpoint", proc)
            extra = pipeline.start_workers(1)
            wait_until(lambda: pipeline.group_members() == 2, 120, "the second worker to join", extra)
            assert feeder.poll() is None, "the input ended before the second worker joined"
            out, _ = feeder.communicate(timeout=300)
            assert feeder.returncode == 0 and "errors 0" in out
        elif kill:
            replay = pipeline.cli("replay", str(recording), "--speed", speed)
            assert "errors 0" in replay.stdout
            # Kill once the worker has published some decisions but not consumed everything.
            wait_until(lambda: pipeline.produced("incident_transitions") > 0, 120, "first decisions", proc)
            assert pipeline.stream_lag() > 0, "the worker finished before it could be killed mid-run"
            stop(proc, signal.SIGKILL)
            # Restart once the group has dropped the dead member, so the new worker gets its partitions in
            # one assignment: a rebalance mid-stream can hit faust's fetch bugs (see the wait above).
            wait_until(lambda: pipeline.group_members() == 0, 60, "the killed worker to leave its group")
            proc = pipeline.start_workers(workers)
        else:
            replay = pipeline.cli("replay", str(recording), "--speed", speed)
            assert "errors 0" in replay.stdout
        wait_until(lambda: pipeline.stream_lag() == 0, 180, "the workers to consume everything", proc)
    finally:
        stop(proc)
        if extra is not None:
            stop(extra)
    return view_across_prefixes(pipeline, prefix)


@pytest.fixture(scope="module")
def baseline(
    kafka_bootstrap: str, recording: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    return _run(kafka_bootstrap, "det-base", tmp_path_factory.mktemp("base"), recording, speed="1000")


def _assert_same(run: dict[str, Any], baseline: dict[str, Any]) -> None:
    missing = [baseline["transitions"][t] for t in set(baseline["transitions"]) - set(run["transitions"])]
    extra = [run["transitions"][t] for t in set(run["transitions"]) - set(baseline["transitions"])]
    assert not missing and not extra, f"missing {missing[:3]}, extra {extra[:3]}"
    assert run["transitions"] == baseline["transitions"]
    assert run["incidents"] == baseline["incidents"]
    assert run["deadletters"] == baseline["deadletters"]
    assert run["county_alerts"] == baseline["county_alerts"]


def test_baseline_has_substance(baseline: dict[str, Any], recording: Path) -> None:
    reader = RecordingReader(recording)
    for _ in reader:
        pass
    summary = reader.summary
    assert summary is not None
    assert len(baseline["incidents"]) > 50
    assert len(baseline["transitions"]) >= len(baseline["incidents"])
    # Every injected malformed record is dead-lettered; the rest of its partition kept flowing.
    decode_errors = [c for c in baseline["deadletters"].values() if c == "decode_error"]
    assert len(decode_errors) == summary.label_total("malformed")


def test_replay_at_1x_decides_as_at_1000x(
    kafka_bootstrap: str, plain_recording: Path, tmp_path: Path
) -> None:
    fast = _run(kafka_bootstrap, "det-1000x", tmp_path / "fast", plain_recording, speed="1000")
    real_time = _run(kafka_bootstrap, "det-1x", tmp_path / "1x", plain_recording, speed="1")

    assert len(fast["transitions"]) > 50
    _assert_same(real_time, fast)


def test_two_workers_decide_as_one(
    kafka_bootstrap: str, recording: Path, baseline: dict[str, Any], tmp_path: Path
) -> None:
    _assert_same(_run(kafka_bootstrap, "det-2w", tmp_path, recording, speed="1000", workers=2), baseline)


def test_a_worker_joining_mid_run_decides_the_same(
    kafka_bootstrap: str, recording: Path, baseline: dict[str, Any], tmp_path: Path
) -> None:
    _assert_same(_run(kafka_bootstrap, "det-join", tmp_path, recording, speed="0", join=True), baseline)


def test_a_worker_killed_mid_run_and_restarted_decides_the_same(
    kafka_bootstrap: str, recording: Path, baseline: dict[str, Any], tmp_path: Path
) -> None:
    _assert_same(_run(kafka_bootstrap, "det-kill", tmp_path, recording, speed="0", kill=True), baseline)
