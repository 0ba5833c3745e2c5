"""The offline what-if decides as the real worker does: same recording, same policy file, same KPIs.

A recording (six simulated hours at half city scale) is replayed into fresh topics and drained by
``gridflow worker --policy alt.toml`` (grid SLA 2 h) on the session's broker; its incidents and transitions
are read back and the Fengqiao KPIs computed from them equal the offline run's under the same policy, as do
the final incidents. The worker run under the bundled policy is the negative control: its grid SLA
breaches differ, so the comparison can fail and the worker does honour ``--policy``.
"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import orjson
import pytest
from pipeline_harness import GRIDFLOW, Pipeline, stop, wait_until

from gridflow.whatif.offline import Load, Outcome, Run, run_one, summarise
from gridflow.whatif.policies import parse_named, variant
from schemas.enums import Level
from schemas.messages import Incident, Transition
from schemas.policy import POLICY_FILE, policy
from streams.core.kpis import latest


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("whatif") / "day.jsonl"
    command = [*GRIDFLOW, "simulate", "--scenario", "normal_day", "--seed", "1", "--duration", "6h"]
    command += ["--scale", "0.5", "--dry-run", "--out", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return path


def through_worker(
    kafka_bootstrap: str, tmp_path: Path, recording: Path, policy_file: Path | None
) -> Outcome:
    tmp_path.mkdir(parents=True, exist_ok=True)
    pipeline = Pipeline(kafka_bootstrap, f"wi-{uuid.uuid4().hex[:8]}.", tmp_path)
    pipeline.cli("replay", str(recording), "--speed", "0")
    args = ["--policy", str(policy_file)] if policy_file else []
    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen(
        [*GRIDFLOW, "worker", *args],
        env=pipeline.env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until(
            lambda: pipeline.produced("incidents") > 0 and pipeline.stream_lag() == 0, 240, "drain", proc
        )
    finally:
        stop(proc)
    incidents = latest(Incident.model_validate_json(orjson.dumps(i)) for i in pipeline.read("incidents"))
    transitions = [
        Transition.model_validate_json(orjson.dumps(t)) for t in pipeline.read("incident_transitions")
    ]
    named = parse_named(f"x={policy_file or POLICY_FILE}")
    return summarise(Run("worker", named.policy, Load(recording=recording), policy()), incidents, transitions)


def test_offline_and_the_worker_agree_under_a_policy_file(
    kafka_bootstrap: str, tmp_path: Path, recording: Path
) -> None:
    base = parse_named(f"base={POLICY_FILE}")
    alt = variant(base, "sla.grid", "2h", tmp_path)
    offline = run_one(Run("alt", alt.policy, Load(recording=recording), base.policy))
    worker = through_worker(kafka_bootstrap, tmp_path / "alt", recording, Path(alt.source))

    assert worker.kpis == offline.kpis
    assert worker.final == offline.final
    assert worker.sla_breaches == offline.sla_breaches

    # Negative control: the bundled policy through the worker breaches less at grid level.
    bundled = through_worker(kafka_bootstrap, tmp_path / "bundled", recording, None)
    assert bundled.sla_breaches[Level.GRID] < offline.sla_breaches[Level.GRID]
    assert bundled.kpis != offline.kpis
