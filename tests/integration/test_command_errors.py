"""Every command's failures, run as a user would: one line naming the value, within 10 s, and nothing left.

One table of cases: bad arguments, output paths that cannot be written, a Kafka that does not answer, a
ClickHouse that refuses or is not ClickHouse at all (Kafka's port). For each: exit status not 0, exactly one
line on stderr saying what was wrong, no traceback, under 10 s, and no side effect: no topic, no database, no
file or folder created.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gridflow.services.process import free_port

# The console script, as a user runs it.
GRIDFLOW = [str(Path(sys.executable).parent / "gridflow")]
BOUND_S = 10.0


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    expected: str  # in the one line on stderr
    kafka: str = "ok"  # ok | refused | silent
    clickhouse: str = "ok"  # ok | refused | kafka (a port that speaks Kafka, not ClickHouse)
    env: dict[str, str] = field(default_factory=dict)  # overrides


CASES = [
    Case("sql on Kafka's port", ("sql", "SELECT 1"), "native protocol", clickhouse="kafka"),
    Case("sql refused", ("sql", "SELECT 1"), "connection refused", clickhouse="refused"),
    Case("sql missing file", ("sql", "--file", "{tmp}/none.sql"), "--file"),
    Case("init refused", ("init",), "connection refused", clickhouse="refused"),
    Case("init on Kafka's port", ("init",), "native protocol", clickhouse="kafka"),
    Case("init without Kafka", ("init",), "Kafka at 127.0.0.1:1", kafka="refused"),
    Case("report refused", ("report", "--out", "{tmp}/r.html"), "connection refused", clickhouse="refused"),
    Case("report into a missing folder", ("report", "--out", "{tmp}/missing/r.html"), "does not exist"),
    Case("report into /proc", ("report", "--out", "/proc/gridflow-report.html"), "cannot write"),
    Case("report bad database", ("report", "--database", "a-b"), "--database 'a-b'"),
    Case("demo into /proc", ("demo", "--out", "/proc/gridflow-report.html"), "cannot write"),
    Case("demo bad duration", ("demo", "--duration", "5x"), "--duration '5x'"),
    Case("demo bad scenario", ("demo", "--scenario", "nope"), "--scenario 'nope'"),
    Case("demo refused", ("demo", "--no-live"), "connection refused", clickhouse="refused"),
    Case("demo without Kafka", ("demo", "--no-live"), "Kafka at 127.0.0.1:1", kafka="refused"),
    Case("command-center alerts is a file", ("command-center", "--alerts", "{tmp}/file"), "is a file"),
    Case("command-center without Kafka", ("command-center", "--no-view"), "Kafka at", kafka="refused"),
    Case("command-center silent Kafka", ("command-center", "--no-view"), "Kafka at", kafka="silent"),
    Case("sink without Kafka", ("sink",), "Kafka at 127.0.0.1:1", kafka="refused"),
    Case("sink silent Kafka", ("sink",), "Kafka at", kafka="silent"),
    Case("sink refused", ("sink",), "connection refused", clickhouse="refused"),
    Case("sink bad batch", ("sink", "--batch-rows", "0"), "--batch-rows 0"),
    Case("sink without a PII key", ("sink",), "GRIDFLOW_PII_KEY", env={"GRIDFLOW_PII_KEY": ""}),
    Case("worker without Kafka", ("worker", "--kafka-wait", "0"), "Kafka at 127.0.0.1:1", kafka="refused"),
    Case("worker bad wait", ("worker", "--kafka-wait", "-1"), "--kafka-wait -1"),
    Case("simulate without Kafka", ("simulate", "--duration", "1h"), "Kafka at 127.0.0.1:1", kafka="refused"),
    Case("simulate bad duration", ("simulate", "--duration", "5x"), "--duration '5x'"),
    Case(
        "simulate out in a missing folder", ("simulate", "--out", "{tmp}/missing/x.jsonl"), "does not exist"
    ),
    Case("replay missing file", ("replay", "{tmp}/none.jsonl"), "cannot read"),
]


@pytest.fixture(scope="module")
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says anything."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        yield silent.getsockname()[1]


def _topics(bootstrap: str) -> set[str]:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return set(admin.list_topics())
    finally:
        admin.close()


def _databases(url: str) -> set[str]:
    from clickhouse_driver import Client

    client = Client.from_url(url)
    try:
        return {row[0] for row in client.execute("SHOW DATABASES")}
    finally:
        client.disconnect()


def _tree(root: Path) -> set[Path]:
    return set(root.rglob("*"))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_command_fails_in_one_line_within_seconds_and_leaves_nothing(
    case: Case, tmp_path: Path, kafka_bootstrap: str, clickhouse_url: str, silent_port: int
) -> None:
    kafka_host = kafka_bootstrap.split(",")[0]
    bootstrap = {"ok": kafka_bootstrap, "refused": "127.0.0.1:1", "silent": f"127.0.0.1:{silent_port}"}
    database = f"gferr_{uuid.uuid4().hex[:10]}"
    server = clickhouse_url.rsplit("/", 1)[0]
    urls = {
        "ok": f"{server}/{database}",
        "refused": f"clickhouse://default:@127.0.0.1:{free_port()}/{database}",
        "kafka": f"clickhouse://default:@{kafka_host}/{database}",
    }
    (tmp_path / "file").write_text("not a folder")
    state = tmp_path / "state"
    state.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDFLOW_")}
    env |= {
        "GRIDFLOW_STATE_DIR": str(state),
        "GRIDFLOW_KAFKA_BOOTSTRAP": bootstrap[case.kafka],
        "GRIDFLOW_KAFKA_TOPIC_PREFIX": f"{database}.",
        "GRIDFLOW_CLICKHOUSE_URL": urls[case.clickhouse],
        "GRIDFLOW_PII_KEY": "a-test-key-of-32-characters-long",
    }
    env |= case.env
    args = [a.replace("{tmp}", str(tmp_path)) for a in case.args]
    topics_before, databases_before, files_before = (
        _topics(kafka_bootstrap),
        _databases(clickhouse_url),
        _tree(tmp_path),
    )

    started = time.monotonic()
    result = subprocess.run(
        [*GRIDFLOW, *args], env=env, capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path
    )
    elapsed = time.monotonic() - started

    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0, result.stdout
    assert len(lines) == 1, result.stderr
    assert case.expected in lines[0], lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert elapsed < BOUND_S, f"{elapsed:.1f} s: {lines[0]}"
    assert _topics(kafka_bootstrap) == topics_before
    assert _databases(clickhouse_url) == databases_before
    assert _tree(tmp_path) == files_before
    assert not Path("/proc/gridflow-report.html").exists()
