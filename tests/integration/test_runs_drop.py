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

from gridflow.runs import write_record

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


def test_drop_removes_a_what_if_policys_run_and_keeps_its_sibling(
    tmp_path: Path, kafka_bootstrap: str, clickhouse_url: str
) -> None:
    stamp = uuid.uuid4().hex[:10]
    client = Client.from_url(clickhouse_url)
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    folders = {}
    for policy in ("base", "alt"):
        name, database = f"whatif-{stamp}-{policy}", f"whatif_{stamp}_{policy}"
        admin.create_topics([NewTopic(f"{name}.incidents", 1, 1)])
        client.execute(f"CREATE DATABASE {database}")
        folders[policy] = tmp_path / "whatif" / stamp / policy
        write_record(
            folders[policy],
            {"name": name, "kind": "whatif", "scenario": "normal_day", "seed": 1, "scale": 0.5}
            | {"policy_version": policy, "started_at": "2026-12-01T09:00:00+08:00", "database": database}
            | {
                "topic_prefix": f"{name}.",
                "kafka": kafka_bootstrap,
                "clickhouse": "",
                "folder": str(folders[policy]),
            },
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDFLOW_")}
    env |= {"GRIDFLOW_STATE_DIR": str(tmp_path), "GRIDFLOW_CLICKHOUSE_URL": clickhouse_url}

    def drop(policy: str) -> subprocess.CompletedProcess[str]:
        argv = [*GRIDFLOW, "runs", "--drop", f"whatif-{stamp}-{policy}"]
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)

    first = drop("alt")
    after_first = (set(admin.list_topics()), {row[0] for row in client.execute("SHOW DATABASES")})
    folders_after_first = (folders["alt"].exists(), folders["base"].exists())
    second = drop("base")
    after_second = (set(admin.list_topics()), {row[0] for row in client.execute("SHOW DATABASES")})
    admin.close()
    client.disconnect()

    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert f"whatif-{stamp}-alt.incidents" not in after_first[0]
    assert f"whatif_{stamp}_alt" not in after_first[1]
    assert f"whatif-{stamp}-base.incidents" in after_first[0] and f"whatif_{stamp}_base" in after_first[1]
    assert folders_after_first == (False, True)
    assert f"whatif_{stamp}_base" not in after_second[1]
    assert not (tmp_path / "whatif" / stamp).exists()  # the stamp's folder goes with its last policy
