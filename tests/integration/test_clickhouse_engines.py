"""Round trips through both ClickHouse engines: the server over the native protocol, and embedded chdb."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from clickhouse_driver import Client


def test_clickhouse_server_round_trip(clickhouse_url: str, ch_database: str) -> None:
    client = Client.from_url(clickhouse_url)
    client.execute(f"CREATE TABLE {ch_database}.t (id UInt32, name String) ENGINE = MergeTree ORDER BY id")
    client.execute(f"INSERT INTO {ch_database}.t (id, name) VALUES", [(1, "临河区"), (2, "五原县")])

    rows = client.execute(f"SELECT id, name FROM {ch_database}.t ORDER BY id")

    assert rows == [(1, "临河区"), (2, "五原县")]
    assert client.execute("SELECT version()")[0][0].startswith(("18.", "19.", "2"))


CHDB_SCRIPT = """
import sys
from chdb import session
s = session.Session(sys.argv[1])
s.query("CREATE DATABASE IF NOT EXISTS g")
s.query("CREATE TABLE IF NOT EXISTS g.t (id UInt32, name String) ENGINE = MergeTree ORDER BY id")
if sys.argv[2] == "write":
    s.query("INSERT INTO g.t VALUES (1, '磴口县'), (2, '杭锦后旗')")
print(s.query("SELECT id, name FROM g.t ORDER BY id", "TSV"), end="")
s.close()
"""


def test_chdb_round_trip_persists_across_processes(tmp_path: Path) -> None:
    # chdb holds one data directory per process, so each step runs in its own interpreter.
    path = str(tmp_path / "store")
    write = subprocess.run([sys.executable, "-c", CHDB_SCRIPT, path, "write"], capture_output=True, text=True)
    read = subprocess.run([sys.executable, "-c", CHDB_SCRIPT, path, "read"], capture_output=True, text=True)

    assert write.returncode == 0, write.stderr
    assert read.returncode == 0, read.stderr
    assert read.stdout == "1\t磴口县\n2\t杭锦后旗\n"
