"""`gridflow services up|down|status` and the bad-address errors, run as a user would run them.

These start a second broker and server of their own (separate state dir and ports) so they never disturb the
session's services.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridflow.services.process import free_port

GRIDFLOW = [sys.executable, "-m", "gridflow.cli"]


def run(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GRIDFLOW_")}
    return subprocess.run(
        [*GRIDFLOW, *args], env={**clean, **env}, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def own_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {
        "GRIDFLOW_STATE_DIR": str(tmp_path / "state"),
        "GRIDFLOW_KAFKA_PORT": str(free_port()),
        "GRIDFLOW_KAFKA_CONTROLLER_PORT": str(free_port()),
        "GRIDFLOW_CLICKHOUSE_TCP_PORT": str(free_port()),
        "GRIDFLOW_CLICKHOUSE_HTTP_PORT": str(free_port()),
    }
    if "GRIDFLOW_CACHE_DIR" in os.environ:
        env["GRIDFLOW_CACHE_DIR"] = os.environ["GRIDFLOW_CACHE_DIR"]
    yield env
    run(env, "services", "down")


@pytest.mark.skipif(shutil.which("java") is None, reason="needs Java for the local broker")
def test_up_from_cold_twice_status_and_down(own_env: dict[str, str]) -> None:
    assert run(own_env, "services", "fetch").returncode == 0  # jars cached before the timed start

    started = time.monotonic()
    first = run(own_env, "services", "up")
    cold_start_s = time.monotonic() - started
    second = run(own_env, "services", "up")
    status = run(own_env, "services", "status")
    down = run(own_env, "services", "down")
    after = run(own_env, "services", "status")

    assert first.returncode == 0, first.stderr
    assert cold_start_s < 30, f"cold start took {cold_start_s:.1f} s"
    assert "kafka running at 127.0.0.1:" + own_env["GRIDFLOW_KAFKA_PORT"] in first.stdout
    assert "already running" in second.stdout
    assert "answering" in status.stdout and "NOT answering" not in status.stdout
    assert "kafka stopped" in down.stdout
    assert "kafka: not running" in after.stdout


def test_kafka_port_in_use_is_reported(own_env: dict[str, str]) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(own_env["GRIDFLOW_KAFKA_PORT"])))
        squatter.listen()
        result = run(own_env, "services", "up")

    assert result.returncode == 2
    assert f"port {own_env['GRIDFLOW_KAFKA_PORT']}" in result.stderr
    assert "already in use" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("GRIDFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:1", "Kafka at 127.0.0.1:1: connection refused"),
        ("GRIDFLOW_KAFKA_BOOTSTRAP", "no-such-host.invalid:9092", "cannot resolve host"),
        ("GRIDFLOW_KAFKA_PORT", "not-a-port", "GRIDFLOW_KAFKA_PORT='not-a-port'"),
    ],
)
def test_bad_kafka_address_fails_fast_in_one_line(variable: str, value: str, expected: str) -> None:
    started = time.monotonic()
    result = run({variable: value}, "services", "up", timeout=30)

    assert result.returncode == 2
    assert time.monotonic() - started < 15
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_silent_kafka_port_times_out_within_bound() -> None:
    # Something listens but never speaks Kafka: the metadata probe gives up within its bound.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        result = run({"GRIDFLOW_KAFKA_BOOTSTRAP": address}, "services", "up", timeout=60)
        elapsed = time.monotonic() - started

    assert result.returncode == 2
    assert elapsed < 20
    assert f"Kafka at {address}" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_clickhouse_url_fails_fast_in_one_line(kafka_bootstrap: str) -> None:
    port = free_port()
    result = run(
        {
            "GRIDFLOW_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "GRIDFLOW_CLICKHOUSE_URL": f"clickhouse://u:p@127.0.0.1:{port}/x",
        },
        "services",
        "up",
        timeout=30,
    )

    assert result.returncode == 2
    assert f"ClickHouse at 127.0.0.1:{port}" in result.stderr
    assert "refused" in result.stderr.lower()
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_missing_java_gives_one_line_with_the_alternatives(own_env: dict[str, str], tmp_path: Path) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    result = run({**own_env, "PATH": str(empty_bin)}, "services", "up")

    assert result.returncode == 2
    assert "java not found" in result.stderr
    assert "GRIDFLOW_KAFKA_BOOTSTRAP" in result.stderr and "docker compose" in result.stderr


def test_storage_formats_with_a_cluster_id_that_starts_with_a_dash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A random id is URL-safe base64 and starts with "-" about once in 64 runs; the tool must not read
    # it as an option.
    import gridflow.services.kafka as kafka_module
    from gridflow.services.kafka import KafkaService
    from infra.settings import ServiceSettings

    monkeypatch.setattr(kafka_module, "_cluster_id", lambda: "-abcDEFghiJKLmnoPQRstu")
    service = KafkaService(
        ServiceSettings(state_dir=tmp_path, kafka_port=free_port(), kafka_controller_port=free_port())
    )
    config = service._write_config()

    service._format(shutil.which("java") or "java", f"{service.fetch()}/*", config)

    assert (tmp_path / "kafka" / "data" / "meta.properties").exists()


@pytest.mark.skipif(shutil.which("clickhouse-server") is None, reason="needs a clickhouse-server binary")
def test_clickhouse_port_in_use_leaves_no_kafka_running(own_env: dict[str, str]) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(own_env["GRIDFLOW_CLICKHOUSE_HTTP_PORT"])))
        squatter.listen()
        result = run(own_env, "services", "up")
    status = run(own_env, "services", "status")

    assert result.returncode == 2
    assert f"port {own_env['GRIDFLOW_CLICKHOUSE_HTTP_PORT']}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "kafka: not running" in status.stdout


@pytest.mark.slow  # a real broker start: 40-110 s on a loaded machine
@pytest.mark.skipif(shutil.which("clickhouse-server") is None, reason="needs a clickhouse-server binary")
@pytest.mark.skipif(shutil.which("java") is None, reason="needs Java for the local broker")
def test_clickhouse_failing_to_start_stops_the_kafka_up_started(own_env: dict[str, str]) -> None:
    # The ports are free, so Kafka starts; then the real clickhouse-server exits during start-up, because its
    # data holds a database whose metadata it cannot load. `up` must take down the broker it started.
    own_env["GRIDFLOW_START_TIMEOUT_S"] = "240"  # the broker must get as far as running, even under load
    metadata = Path(own_env["GRIDFLOW_STATE_DIR"]) / "clickhouse" / "data" / "metadata"
    (metadata / "broken").mkdir(parents=True)
    (metadata / "broken.sql").write_text("ATTACH DATABASE broken ENGINE = NoSuchEngine\n", encoding="utf-8")

    result = run(own_env, "services", "up", timeout=300)
    status = run(own_env, "services", "status")

    assert result.returncode != 0
    assert "clickhouse-server exited during start-up" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert "kafka: not running" in status.stdout, status.stdout


@pytest.mark.skipif(shutil.which("clickhouse-server") is None, reason="needs a clickhouse-server binary")
def test_two_shards_up_init_over_them_status_and_down(own_env: dict[str, str], kafka_bootstrap: str) -> None:
    # The session's broker: only the clickhouse-servers are this test's own.
    env = {
        **own_env,
        "GRIDFLOW_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "GRIDFLOW_KAFKA_TOPIC_PREFIX": "svc-shards.",
    }
    second_port = int(own_env["GRIDFLOW_CLICKHOUSE_TCP_PORT"]) + 1

    up = run(env, "services", "up", "--shards", "2")
    assert up.returncode == 0, up.stderr
    assert f"clickhouse-server running at 127.0.0.1:{second_port}" in up.stdout, up.stdout
    assert "GRIDFLOW_CLICKHOUSE_CLUSTER=gridflow_shards" in up.stdout
    status = run(env, "services", "status")
    assert status.stdout.count("answering") == 2 and "NOT answering" not in status.stdout, status.stdout
    # A different count while they run is refused in one line, not half applied.
    changed = run(env, "services", "up", "--shards", "3")
    assert changed.returncode == 2 and "services down" in changed.stderr, changed.stderr
    assert len(changed.stderr.strip().splitlines()) == 1, changed.stderr

    init = run({**env, "GRIDFLOW_CLICKHOUSE_CLUSTER": "gridflow_shards"}, "init")
    assert init.returncode == 0, init.stderr
    assert "Distributed over 2 shards of cluster gridflow_shards" in init.stdout, init.stdout

    down = run(env, "services", "down")
    assert down.stdout.count("clickhouse-server stopped") == 2, down.stdout
    after = run(env, "services", "status")
    assert after.stdout.count("clickhouse-server: not running") == 1, after.stdout  # the count is forgotten
