"""`gridflow demo --secure`: the whole demo on the secured local broker, each process as its own principal.

The demo starts its own SASL_SSL broker (a state directory and ports of the test's own) and runs init as
``admin``, the simulator as ``publisher``, the worker as ``worker``, the sink as ``sink`` and the command
centre as ``command``. Then: the simulator's ledger is all in the store, once (0 lost, 0 duplicated);
``infra.lag`` reads the sink's lag (0) with the admin's settings and cannot without them; and no password of
any principal, nor the ClickHouse URL's, appears on any process's command line while the pipeline runs or in
any log or in the demo's output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sink_harness import TEST_PII_KEY, delivery, wait_until

from gridflow.services.kafka_secure import SecureMaterial
from gridflow.services.process import free_port
from infra import lag
from sinks import connect, with_database
from sinks.sink import sink_topics

pytestmark = pytest.mark.slow


def _cmdlines() -> bytes:
    found = b""
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                found += (proc / "cmdline").read_bytes() + b"\n"
            except OSError:
                continue  # gone meanwhile, or not ours to read
    return found


def test_the_demo_runs_on_the_secured_broker_with_nothing_lost_or_repeated(
    clickhouse_url: str, ch_database: str, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    kafka_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDFLOW_")}
    env.update(
        GRIDFLOW_STATE_DIR=str(state),
        GRIDFLOW_KAFKA_PORT=str(kafka_port),
        GRIDFLOW_KAFKA_CONTROLLER_PORT=str(free_port()),
        GRIDFLOW_CLICKHOUSE_URL=with_database(clickhouse_url, ch_database),
        GRIDFLOW_PII_KEY=TEST_PII_KEY,
        GRIDFLOW_START_TIMEOUT_S="180",  # the secured broker's start, on a loaded machine
    )
    args = ["demo", "--secure", "--duration", "2h", "--speed", "900", "--scale", "0.3"]
    args += ["--database", ch_database, "--no-live", "--web-port", "0"]
    output = tmp_path / "demo.out"
    with output.open("wb") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "gridflow.cli", *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    material = SecureMaterial(state / "kafka", kafka_port)
    try:
        # While every process of the pipeline runs: no secret on any command line.
        runs = state / "demo"
        try:
            wait_until(lambda: any(runs.glob("*/simulate.log")), 240, "the demo to start its simulator", demo)
        except AssertionError as failed:
            raise AssertionError(f"{failed}:\n{output.read_text()}") from None
        secrets = [*material.passwords().values(), TEST_PII_KEY]
        cmdlines = _cmdlines()
        assert all(secret.encode() not in cmdlines for secret in secrets)
        assert demo.wait(timeout=600) == 0, output.read_text()
    finally:
        if demo.poll() is None:
            demo.terminate()
            demo.wait(timeout=60)
    try:
        run = json.loads(next(runs.glob("*/run.json")).read_text())
        folder = Path(run["folder"])
        with connect(with_database(clickhouse_url, ch_database)) as writer:
            verdict = delivery(folder / "ledger.jsonl", writer)
        assert verdict.expected > 100 and (verdict.lost, verdict.duplicated) == (0, 0), verdict

        admin = material.env("admin")
        options = {
            "security_protocol": admin["GRIDFLOW_KAFKA_SECURITY_PROTOCOL"],
            "sasl_mechanism": admin["GRIDFLOW_KAFKA_SASL_MECHANISM"],
            "sasl_plain_username": "admin",
            "sasl_plain_password": admin["GRIDFLOW_KAFKA_SASL_PASSWORD"],
            "ssl_cafile": admin["GRIDFLOW_KAFKA_SSL_CAFILE"],
        }
        bootstrap = admin["GRIDFLOW_KAFKA_BOOTSTRAP"]
        prefix = run["topic_prefix"]
        started = time.monotonic()
        assert lag.lag(bootstrap, f"{prefix}gridflow-sink", sink_topics(prefix), options) == 0
        assert time.monotonic() - started < 30
        # The same question without the credentials fails (in a process of its own: it may hang, not raise).
        code = f"from infra import lag; from sinks.sink import sink_topics as t; lag.lag({bootstrap!r}, "
        code += f"{prefix + 'gridflow-sink'!r}, t({prefix!r}))"
        try:
            refused = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60).returncode
        except subprocess.TimeoutExpired:
            refused = -1
        assert refused != 0

        logs = [output, *folder.glob("*.log"), *(state / "kafka" / "log").glob("*")]
        for log in logs:
            text = log.read_text("utf-8", "replace")
            assert all(secret not in text for secret in secrets), log
        assert "SASL_SSL" in output.read_text()
    finally:
        subprocess.run(
            [sys.executable, "-m", "gridflow.cli", "services", "down"], env=env, timeout=120, check=False
        )
