"""The record of each demo and what-if run, and ``gridflow runs``: list them, say where the data is, drop one.

A demo writes ``run.json`` in its run folder (``$GRIDFLOW_STATE_DIR/demo/<stamp>/``): the scenario, seed,
scale, speed, the policy version it ran under, when, and where its data went (the ClickHouse database, the
Kafka topic prefix and bootstrap, the report). ``whatif --via-kafka`` writes the same record for each
policy it runs (``$GRIDFLOW_STATE_DIR/whatif/<stamp>/<policy>/``, kind ``whatif``, named
``whatif-<stamp>-<policy>``); offline what-if runs keep no data, so there is nothing to list. ``gridflow runs
--drop NAME`` deletes the run's topics, drops its database and removes its folder.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from infra.errors import ConfigError
from infra.probe import redact

RECORD = "run.json"


@dataclass(frozen=True, slots=True)
class Run:
    """One run: what was simulated, under which policy, when, and where its data lives."""

    name: str
    kind: str  # "demo" or "whatif"
    scenario: str
    seed: int
    scale: float
    policy_version: str
    started_at: str  # ISO, local time of the machine (a record of when, never used by a decision)
    database: str
    topic_prefix: str
    kafka: str
    clickhouse: str  # the URL without its password
    folder: str

    @classmethod
    def from_record(cls, record: dict[str, Any], folder: Path) -> Run:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in record.items() if k in known}
        values.setdefault("name", folder.name)
        values.setdefault("kind", folder.parent.name)
        values["folder"] = str(folder)
        return cls(**values)


def load_runs(state: Path) -> list[Run]:
    """Every run recorded under the state folder, oldest first; unreadable records are skipped."""
    runs = []
    # A demo's folder is <kind>/<stamp>/, a what-if policy's <kind>/<stamp>/<policy>/.
    for record in sorted([*state.glob(f"*/*/{RECORD}"), *state.glob(f"*/*/*/{RECORD}")]):
        try:
            runs.append(Run.from_record(json.loads(record.read_text(encoding="utf-8")), record.parent))
        except (OSError, ValueError, TypeError):
            continue
    return sorted(runs, key=lambda run: run.started_at)


def find_run(state: Path, name: str) -> Run:
    runs = load_runs(state)
    for run in runs:
        if name in (run.name, run.database):
            return run
    known = ", ".join(run.name for run in runs) or "none recorded"
    raise ConfigError(f"run {name!r}: not found under {state}; expected one of: {known}")


def drop_run(run: Run, url: str, kafka_options: dict[str, object]) -> list[str]:
    """Delete the run's topics, drop its database, remove its folder; one line per step."""
    from kafka import KafkaAdminClient

    from sinks.connection import connect
    from sinks.url import with_database

    lines = []
    admin = KafkaAdminClient(bootstrap_servers=run.kafka, **kafka_options)
    try:
        mine = sorted(t for t in admin.list_topics() if t.startswith(run.topic_prefix))
        if mine:
            admin.delete_topics(mine)
        lines.append(f"kafka {run.kafka}: deleted {len(mine)} topics {run.topic_prefix}*")
    finally:
        admin.close()
    with connect(with_database(url, run.database)) as writer:
        writer.execute(f"DROP DATABASE IF EXISTS {run.database}")
    lines.append(f"clickhouse: dropped database {run.database}")
    shutil.rmtree(run.folder, ignore_errors=True)
    lines.append(f"removed {run.folder}")
    parent = Path(run.folder).parent  # a what-if stamp's folder, once its last policy is dropped
    if run.kind == "whatif" and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
    return lines


def where(folder: Path, database: str, topic_prefix: str, kafka: str, url: str) -> dict[str, str]:
    """When a run started and where its data went, as record fields (the URL without its password)."""
    return {
        "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "database": database,
        "topic_prefix": topic_prefix,
        "kafka": kafka,
        "clickhouse": redact(url),
        "folder": str(folder),
    }


def write_record(folder: Path, record: dict[str, Any]) -> None:
    """Write a run's record (the fields of `Run`, and any more) into its folder, for ``gridflow runs``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def format_runs(runs: list[Run]) -> list[str]:
    if not runs:
        return ["no runs recorded (`gridflow demo` and `gridflow whatif --via-kafka` record theirs)"]
    header = ("name", "kind", "scenario", "seed", "scale", "policy", "started", "database", "topics")
    rows = [
        (r.name, r.kind, r.scenario, str(r.seed), f"{r.scale:g}", r.policy_version, r.started_at[:19],
         r.database, r.topic_prefix + "*")
        for r in runs
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
