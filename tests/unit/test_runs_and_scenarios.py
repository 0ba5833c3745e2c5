"""`gridflow runs` reads the demo's run records; `gridflow scenarios` says what surges and when."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gridflow.runs import find_run, format_runs, load_runs, write_record
from producers.describe import describe
from producers.scenario import scenario

GRIDFLOW = [sys.executable, "-m", "gridflow.cli"]


def _record(state: Path, stamp: str, started: str) -> None:
    folder = state / "demo" / stamp
    folder.mkdir(parents=True)
    record = {
        "scenario": "normal_day",
        "seed": 7,
        "scale": 0.5,
        "duration": None,
        "policy_file": "bundled",
        "policy_version": "2024.1",
        "name": f"demo-{stamp}",
        "kind": "demo",
        "speed": 720.0,
        "started_at": started,
        "database": f"demo_{stamp}",
        "topic_prefix": f"demo-{stamp}.",
        "kafka": "127.0.0.1:9092",
        "clickhouse": "chdb:///x",
        "folder": str(folder),
    }
    (folder / "run.json").write_text(json.dumps(record), encoding="utf-8")


def test_runs_are_listed_oldest_first_with_where_their_data_is(tmp_path: Path) -> None:
    _record(tmp_path, "20261201110000", "2026-12-01T11:00:00+08:00")
    _record(tmp_path, "20261201090000", "2026-12-01T09:00:00+08:00")
    (tmp_path / "demo" / "broken").mkdir()
    (tmp_path / "demo" / "broken" / "run.json").write_text("{not json", encoding="utf-8")

    runs = load_runs(tmp_path)
    lines = format_runs(runs)

    assert [run.name for run in runs] == ["demo-20261201090000", "demo-20261201110000"]
    assert lines[0].split() == [
        "name", "kind", "scenario", "seed", "scale", "policy", "started", "database", "topics"
    ]  # fmt: skip
    assert lines[1].split()[:6] == ["demo-20261201090000", "demo", "normal_day", "7", "0.5", "2024.1"]
    assert "demo_20261201090000" in lines[1] and "demo-20261201090000.*" in lines[1]
    assert find_run(tmp_path, "demo_20261201110000").name == "demo-20261201110000"


def test_what_if_runs_are_listed_beside_the_demos(tmp_path: Path) -> None:
    _record(tmp_path, "20261201090000", "2026-12-01T09:00:00+08:00")
    for policy, version in (("base", "fengqiao/2026.1"), ("alt", "fengqiao/2026.1-sla")):
        name = f"whatif-20261201100000-{policy}"
        write_record(
            tmp_path / "whatif" / "20261201100000" / policy,
            {
                "name": name,
                "kind": "whatif",
                "scenario": "ice_jam_flood",
                "seed": 3,
                "scale": 0.25,
                "policy_version": version,
                "started_at": "2026-12-01T10:00:00+08:00",
                "database": name.replace("-", "_"),
                "topic_prefix": f"{name}.",
                "kafka": "127.0.0.1:9092",
                "clickhouse": "chdb:///x",
                "folder": str(tmp_path / "whatif" / "20261201100000" / policy),
            },
        )

    runs = load_runs(tmp_path)
    lines = format_runs(runs)

    assert [(run.kind, run.name) for run in runs] == [
        ("demo", "demo-20261201090000"),
        ("whatif", "whatif-20261201100000-alt"),
        ("whatif", "whatif-20261201100000-base"),
    ]
    assert lines[2].split()[:6] == [
        "whatif-20261201100000-alt", "whatif", "ice_jam_flood", "3", "0.25", "fengqiao/2026.1-sla"
    ]  # fmt: skip
    assert "whatif_20261201100000_alt" in lines[2] and "2026-12-01T10:00:00" in lines[2]


def test_an_unknown_run_is_one_line(tmp_path: Path) -> None:
    _record(tmp_path, "20261201090000", "2026-12-01T09:00:00+08:00")

    result = subprocess.run(
        [*GRIDFLOW, "runs", "--drop", "nope"],
        env={"GRIDFLOW_STATE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"gridflow: run 'nope': not found under {tmp_path}; expected one of: demo-20261201090000"
    ]


def test_ice_jam_flood_says_when_its_surge_starts() -> None:
    lines = describe(scenario("ice_jam_flood"))

    assert any("surge: +25 reports/h from hour 6 to 48" in line and "ice_jam" in line for line in lines)
    assert any("nothing surges before hour 6" in line for line in lines)
