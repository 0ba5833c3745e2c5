"""A rebalance storm: a worker joins or leaves every 15 s for 3 minutes, and the decisions are one worker's.

The recording has the data-quality overlay, like test_streams_determinism's, but spans two simulated hours:
decisions wait for the policy's allowed lateness (5 simulated minutes), and over a 90-second recording they
would all come out at the end, from whichever worker holds the partition then. Paced over the storm, two
hours release decisions all along, so the joining workers decide some. The input trickles in over the
whole storm, so every rebalance moves partitions while records flow. One
worker stays throughout; two more join and leave (SIGTERM, a clean leave) in turn: +1, +1, -1, -1, three
times. Afterwards the transitions, final incidents, dead letters and county alerts are compared with the
baseline's by id and content: a worker that lost, repeated or re-decided work across a rebalance differs.

The joining workers do a share of the work: each worker process names its checkpoint records with an id
of its own (streams.core.chain), and writes one only after feeding a partition input, so the checkpoint
changelog shows how many processes took records. Negative control (run once): with the joining workers under
a policy of another version, stamped on every transition they decide, the comparison with the baseline
failed (with the 90-second recording it passed: the joiners had released no decision).
"""

from __future__ import annotations

import contextlib
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from pipeline_harness import GRIDFLOW, Pipeline, stop, view_across_prefixes, wait_until
from test_streams_determinism import _assert_same, _run

pytestmark = pytest.mark.slow

STEP_S = 15.0
STORM_S = 180.0
# The input is paced to last the storm plus this long (the first checkpoint comes before the first move).
INPUT_MARGIN_S = 120.0
MOVES = ("+", "+", "-", "-")
SIMULATE = ["--scenario", "normal_day", "--seed", "12", "--start", "2026-03-02T08:00:00+08:00"]
SIMULATE += ["--duration", "2h", "--scale", "1", "--overlay", "data_quality"]


@pytest.fixture(scope="module")
def storm_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("storm-rec") / "storm.jsonl"
    result = subprocess.run(
        [*GRIDFLOW, "simulate", *SIMULATE, "--dry-run", "--out", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture(scope="module")
def storm_baseline(
    kafka_bootstrap: str, storm_recording: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """One worker, no rebalance."""
    return _run(kafka_bootstrap, "storm-base", tmp_path_factory.mktemp("base"), storm_recording, speed="0")


def _storm(bootstrap: str, workdir: Path, recording: Path) -> dict[str, dict[str, Any]]:
    prefix = f"det-storm{uuid.uuid4().hex[:6]}."
    with recording.open() as lines:
        records = sum(1 for _ in lines) - 1  # after the header line
    rate = f"{records / (STORM_S + INPUT_MARGIN_S):.2f}"
    workdir.mkdir(parents=True, exist_ok=True)
    pipeline = Pipeline(bootstrap, prefix, workdir)
    steady = pipeline.start_workers(1)
    extra: list[subprocess.Popen[bytes]] = []
    moves: list[str] = []
    members: list[int] = []  # the group's stable size at the end of each step
    try:
        wait_until(lambda: pipeline.group_members() == 1, 120, "the first worker to join", steady)
        feeder = subprocess.Popen(
            [*GRIDFLOW, "replay", str(recording), "--speed", "0", "--rate", rate],
            env=pipeline.env,
            stdout=subprocess.PIPE,
            text=True,
        )
        wait_until(lambda: sum(pipeline.committed().values()) > 0, 120, "a first checkpoint", steady)
        for step in range(int(STORM_S / STEP_S)):
            move = MOVES[step % len(MOVES)]
            assert feeder.poll() is None, f"the input ended during the storm, after moves {''.join(moves)}"
            if move == "+":
                extra.append(pipeline.start_workers(1))
            else:
                stop(extra.pop(0))
            moves.append(move)
            # Membership changes on a 15 s beat, whether or not the last rebalance has settled: a storm.
            with contextlib.suppress(subprocess.TimeoutExpired):
                feeder.wait(STEP_S)
            members.append(pipeline.group_members())  # 0 while the group rebalances
        assert steady.poll() is None, "the steady worker died in the storm"
        out, _ = feeder.communicate(timeout=300)
        assert feeder.returncode == 0 and "errors 0" in out, out
        wait_until(lambda: pipeline.stream_lag() == 0, 240, "the workers to consume everything", steady)
    finally:
        for proc in extra:
            stop(proc)
        stop(steady)
    assert len(moves) == STORM_S / STEP_S
    print(f"moves {''.join(moves)}; stable members after each: {members}")
    # The joining workers really were members, given partitions, not gone before their first rebalance.
    assert max(members) >= 2, members
    writers = pipeline.checkpoint_writers()
    print(f"checkpoint records per worker process: {sorted(writers.values(), reverse=True)}")
    # And did work: a worker checkpoints a partition only after feeding it input. Six join in turn; at
    # least two of them must have decided records (under load one may leave before its first batch).
    assert len(writers) >= 3, writers
    return view_across_prefixes(pipeline, prefix)


def test_a_rebalance_storm_decides_as_one_worker(
    kafka_bootstrap: str, storm_recording: Path, storm_baseline: dict[str, Any], tmp_path: Path
) -> None:
    assert len(storm_baseline["transitions"]) > 500
    _assert_same(_storm(kafka_bootstrap, tmp_path, storm_recording), storm_baseline)
