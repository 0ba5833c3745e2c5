"""`gridflow runs --drop NAME` deletes exactly that run's topics, database and folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from clickhouse_driver import Client
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

GRIDFLOW = [sys.executable, "-m", "gridflow.cli"]


def test_drop_removes_the_runs_topics_database_and_folder(
    tmp_path: Path, kafka_bootstrap: str, clickhouse_url: str
) -> None:
    stamp = uuid.uuid4().hex[:10]
    prefix, other = f"demo-{stamp}.", f"demo-{stamp}x."
    database = f"demo_{stamp}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics(
        [NewTopic(n, 1, 1) for n in (f"{prefix}incidents", f"{prefix}intake", f"{other}keep")]
    )
    client = Client.from_url(clickhouse_url)
    client.execute(f"CREATE DATABASE {database}")
    folder = tmp_path / "demo" / stamp
    folder.mkdir(parents=True)
    record = {"name": f"demo-{stamp}", "kind": "demo", "scenario": "normal_day", "seed": 1, "scale": 0.5}
    record |= {"policy_version": "x", "started_at": "2026-12-01T09:00:00+08:00", "database": database}
    record |= {"topic_prefix": prefix, "kafka": kafka_bootstrap, "clickhouse": "", "folder": str(folder)}
    (folder / "run.json").write_text(json.dumps(record), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDFLOW_")}
    env |= {"GRIDFLOW_STATE_DIR": str(tmp_path), "GRIDFLOW_CLICKHOUSE_URL": clickhouse_url}

    result = subprocess.run(
        [*GRIDFLOW, "runs", "--drop", f"demo-{stamp}"], env=env, capture_output=True, text=True, timeout=60
    )

    topics = set(admin.list_topics())
    databases = {row[0] for row in client.execute("SHOW DATABASES")}
    admin.delete_topics([f"{other}keep"])
    admin.close()
    client.disconnect()
    assert result.returncode == 0, result.stderr
    assert "deleted 2 topics" in result.stdout
    assert not {f"{prefix}incidents", f"{prefix}intake"} & topics
    assert f"{other}keep" in topics
    assert database not in databases
    assert not folder.exists()
