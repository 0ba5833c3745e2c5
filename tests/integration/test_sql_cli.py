"""`gridflow sql` as an analyst runs it: formats, the display limit with its total, stdin, piped tables."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

GRIDFLOW = [str(Path(sys.executable).parent / "gridflow")]
UUID = "6f1c2a9e-5b1d-4c3e-9f20-7d8e9a0b1c2d"
ROWS = "SELECT number AS n, concat('县', toString(number)) AS name FROM system.numbers LIMIT 5"


def sql(url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDFLOW_")}
    env["GRIDFLOW_CLICKHOUSE_URL"] = url
    return subprocess.run(
        [*GRIDFLOW, "sql", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_csv_has_a_header_and_every_row(clickhouse_url: str, ch_database: str) -> None:
    url = clickhouse_url.rsplit("/", 1)[0] + f"/{ch_database}"

    result = sql(url, "--format", "csv", ROWS)

    assert result.returncode == 0, result.stderr
    assert list(csv.reader(io.StringIO(result.stdout))) == [
        ["n", "name"],
        *[[str(i), f"县{i}"] for i in range(5)],
    ]
    assert result.stderr == ""


def test_limit_shows_the_total(clickhouse_url: str, ch_database: str) -> None:
    url = clickhouse_url.rsplit("/", 1)[0] + f"/{ch_database}"

    as_json = sql(url, "--format", "json", "--limit", "2", ROWS)
    as_table = sql(url, "--limit", "3", ROWS)

    assert [row["n"] for row in json.loads(as_json.stdout)] == [0, 1]
    assert "2 of 5 rows shown" in as_json.stderr
    assert "3 of 5 rows shown" in as_table.stdout
    assert "县2" in as_table.stdout and "县3" not in as_table.stdout


def test_query_from_stdin_as_tsv(clickhouse_url: str, ch_database: str) -> None:
    url = clickhouse_url.rsplit("/", 1)[0] + f"/{ch_database}"

    result = sql(url, "--format", "tsv", "-", stdin=ROWS + ";\n")

    assert result.stdout.splitlines()[:2] == ["n\tname", "0\t县0"]


def test_piped_table_keeps_a_uuid_on_one_line(clickhouse_url: str, ch_database: str) -> None:
    url = clickhouse_url.rsplit("/", 1)[0] + f"/{ch_database}"
    wide = ", ".join(f"'{'x' * 30}' AS c{i}" for i in range(4))

    result = sql(url, f"SELECT '{UUID}' AS incident_id, {wide}")

    assert result.returncode == 0, result.stderr
    assert any(UUID in line for line in result.stdout.splitlines()), result.stdout


def test_markdown(clickhouse_url: str, ch_database: str) -> None:
    url = clickhouse_url.rsplit("/", 1)[0] + f"/{ch_database}"

    result = sql(url, "--format", "markdown", ROWS)

    assert result.stdout.splitlines()[:3] == ["| n | name |", "|---|---|", "| 0 | 县0 |"]
