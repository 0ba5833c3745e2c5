"""Benchmark the ClickHouse insert path against clickhouse-client inserting the same rows in the same run.

Run it as a command (not part of the test suite), against a running clickhouse-server::

    .venv/bin/python bench/bench_insert.py --url clickhouse://default:@127.0.0.1:19000/ --rows 500000
    .venv/bin/python bench/bench_insert.py --chdb /tmp/gridflow-bench-chdb     # also the embedded path

For each table it builds one 50k-row batch from realistic contract messages (schemas.messages) with the
row builders (sinks.rows), then inserts ``--rows`` rows in ``--batch``-row blocks through
``Writer.insert_block`` (clickhouse-driver, columnar, native form), and the same rows rendered as
TabSeparated through one ``clickhouse-client --query "INSERT … FORMAT TabSeparated"`` process. Every block
gets fresh ids so nothing is deduplicated. Columns printed per table:

- builder: messages → native columns (rows/s);
- driver, client, ratio: rows/s (wall clock) of the two insert paths, and driver ÷ client;
- driver, client r/cpu-s, cpu ratio: rows per CPU-second spent by this process, clickhouse-client and the
  server together (read from /proc, server found with ``ss``), and client CPU ÷ driver CPU. On a shared box
  other load stretches wall time but not CPU time, so these compare the paths fairly there;
- objects: one block in "Python object" form (datetime objects, enum names), the form docs/architecture.md
  measured at 35k rows/s;
- chdb: the embedded path with ``--chdb DIR``.

The goal for the driver path is 300,000 rows/s on a 2-core machine with the server on the same box. Each
figure is the best of ``--repeat`` interleaved runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import html
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemas import geography, taxonomy
from schemas.enums import (
    AlertType,
    DispositionAction,
    IncidentStatus,
    Level,
    MessageStatus,
    TransitionReason,
)
from schemas.ids import incident_id_for, transition_id_for
from schemas.messages import (
    CameraAlert,
    Disposition,
    GeoPoint,
    GridReport,
    Incident,
    MessageUnion,
    Reporter,
    Transition,
)
from sinks import Writer, apply_migrations, codes, connect, drop_database, with_database
from sinks.rows import COLUMNS, Batch, Columns, Source
from sinks.url import NativeUrl, parse_url

TZ = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=TZ)
GOAL_ROWS_PER_S = 300_000
# Which id column is replaced per block so that every block holds new rows.
ID_COLUMN = {
    "grid_reports": "event_id",
    "camera_alerts": "event_id",
    "dispositions": "event_id",
    "incidents": "incident_id",
    "transitions": "transition_id",
}
ENUM_NAMES: dict[str, dict[int, str]] = {
    "message_status": {v: str(k) for k, v in codes.MESSAGE_STATUS.items()},
    "alert_type": {v: str(k) for k, v in codes.ALERT_TYPE.items()},
    "action": {v: str(k) for k, v in codes.DISPOSITION_ACTION.items()},
    "status": {v: str(k) for k, v in codes.INCIDENT_STATUS.items()},
    "from_status": {v: str(k) for k, v in codes.INCIDENT_STATUS.items()},
    "to_status": {v: str(k) for k, v in codes.INCIDENT_STATUS.items()},
    "reason": {v: str(k) for k, v in codes.TRANSITION_REASON.items()},
    "level": dict(codes.LEVEL_NAMES),
    "from_level": dict(codes.LEVEL_NAMES),
    "to_level": dict(codes.LEVEL_NAMES),
    "unit_level": dict(codes.LEVEL_NAMES),
}


# ---- realistic messages ------------------------------------------------------------------------------------


@dataclass
class World:
    rng: random.Random
    grids: list[tuple[str, float, float]]
    categories: list[str]

    @classmethod
    def create(cls, seed: int = 7) -> World:
        grids = [(u.code, u.centroid.lon, u.centroid.lat) for u in geography().grids()]
        return cls(random.Random(seed), grids, sorted(taxonomy().categories))

    def when(self, i: int) -> dt.datetime:
        return START + dt.timedelta(seconds=i * 3)

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)


def grid_reports(world: World, n: int) -> list[MessageUnion]:
    out: list[MessageUnion] = []
    for i in range(n):
        grid, lon, lat = world.rng.choice(world.grids)
        out.append(
            GridReport(
                status=MessageStatus.EXERCISE,
                event_id=world.uuid(),
                grid_code=grid,
                occurred_at=world.when(i),
                reported_at=world.when(i) + dt.timedelta(minutes=2),
                location=GeoPoint(lon=lon, lat=lat),
                category=world.rng.choice(world.categories),
                description="邻里因院墙滴水发生口角，双方情绪激动，网格员已到场劝解",
                parties=world.rng.randint(1, 5),
                injured=0,
                reporter=Reporter(id=f"R{i % 5000:05d}", phone="13800000000"),
                severity_hint=None,
            )
        )
    return out


def camera_alerts(world: World, n: int) -> list[MessageUnion]:
    out: list[MessageUnion] = []
    types = list(AlertType)
    for i in range(n):
        grid, lon, lat = world.rng.choice(world.grids)
        out.append(
            CameraAlert(
                status=MessageStatus.EXERCISE,
                event_id=world.uuid(),
                camera_id=f"CAM-{grid}-{world.rng.randint(1, 4):02d}",
                grid_code=grid,
                location=GeoPoint(lon=lon, lat=lat),
                alert_type=world.rng.choice(types),
                confidence=round(world.rng.random(), 3),
                object_count=world.rng.randint(0, 80),
                detected_at=world.when(i),
                snapshot_sha256=hashlib.sha256(str(i).encode()).hexdigest(),
            )
        )
    return out


def dispositions(world: World, n: int) -> list[MessageUnion]:
    out: list[MessageUnion] = []
    actions = list(DispositionAction)
    for i in range(n):
        grid, _, _ = world.rng.choice(world.grids)
        out.append(
            Disposition(
                status=MessageStatus.EXERCISE,
                event_id=world.uuid(),
                incident_id=world.uuid(),
                grid_code=grid,
                unit_code=grid[:9],
                action=world.rng.choice(actions),
                at=world.when(i),
                note="已到场处置",
            )
        )
    return out


def incidents(world: World, n: int) -> list[MessageUnion]:
    out: list[MessageUnion] = []
    for i in range(n):
        grid, _, _ = world.rng.choice(world.grids)
        first = world.uuid()
        out.append(
            Incident(
                message_status=MessageStatus.EXERCISE,
                incident_id=incident_id_for(first),
                category=world.rng.choice(world.categories),
                severity=2,
                grid_code=grid,
                township_code=grid[:9],
                county_code=grid[:6],
                level=Level.VILLAGE,
                handling_unit=grid[:12],
                status=IncidentStatus.IN_PROGRESS,
                source_event_ids=(first,),
                opened_at=world.when(i),
                due_at=world.when(i) + dt.timedelta(hours=24),
                resolved_at=None,
                updated_at=world.when(i) + dt.timedelta(minutes=5),
                version=2,
                reasons=("route.severity.2", "disposition.accept"),
            )
        )
    return out


def transitions(world: World, n: int) -> list[MessageUnion]:
    out: list[MessageUnion] = []
    for i in range(n):
        grid, _, _ = world.rng.choice(world.grids)
        incident = world.uuid()
        out.append(
            Transition(
                status=MessageStatus.EXERCISE,
                transition_id=transition_id_for(incident, 2),
                incident_id=incident,
                seq=2,
                from_status=IncidentStatus.OPEN,
                to_status=IncidentStatus.OPEN,
                from_level=Level.GRID,
                to_level=Level.VILLAGE,
                reason=TransitionReason.SLA_BREACH,
                at=world.when(i),
                rule_ids=("sla.grid.4h",),
                source_event_id=None,
                handling_unit=grid[:12],
            )
        )
    return out


MAKERS: dict[str, Callable[[World, int], list[MessageUnion]]] = {
    "grid_reports": grid_reports,
    "camera_alerts": camera_alerts,
    "dispositions": dispositions,
    "incidents": incidents,
    "transitions": transitions,
}


# ---- the three insert paths --------------------------------------------------------------------------------


def build_block(messages: Sequence[MessageUnion], table: str) -> tuple[Columns, float]:
    """Native columns for ``messages`` through the row builders, and the builder's rows/s."""
    started = time.perf_counter()
    batch = Batch()
    for offset, msg in enumerate(messages):
        if table in ("grid_reports", "camera_alerts", "dispositions"):
            batch.add_message(msg, Source(f"intake.{table}", 0, offset), b'{"kind":"bench"}', 1_772_409_600)
        else:
            batch.add_message(msg, ingested_at=1_772_409_600)
    elapsed = time.perf_counter() - started
    return batch.blocks()[table], len(messages) / elapsed


def with_fresh_ids(columns: Columns, table: str, rng: random.Random) -> Columns:
    fresh = dict(columns)
    fresh[ID_COLUMN[table]] = [
        uuid.UUID(int=rng.getrandbits(128), version=4) for _ in columns[ID_COLUMN[table]]
    ]
    return fresh


def python_object_form(columns: Columns) -> Columns:
    """The same block with datetime objects and enum names, as code that skips native form would pass."""
    converted: Columns = {}
    for name, values in columns.items():
        if name in ENUM_NAMES:
            names = ENUM_NAMES[name]
            converted[name] = [None if v is None else names[v] for v in values]
        elif name.endswith("_at") or name == "at":
            converted[name] = [None if v is None else dt.datetime.fromtimestamp(v, TZ) for v in values]
        else:
            converted[name] = list(values)
    return converted


def tsv_field(value: Any, enum_names: dict[int, str] | None) -> str:
    if value is None:
        return "\\N"
    if enum_names is not None:
        return enum_names[value]
    if isinstance(value, list):
        return (
            "["
            + ",".join("'" + str(item).replace("\\", "\\\\").replace("'", "\\'") + "'" for item in value)
            + "]"
        )
    text = str(value)
    if isinstance(value, str):
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    return text


def write_tsv(blocks: list[Columns], path: str) -> None:
    names = list(blocks[0])
    enums = [ENUM_NAMES.get(name) for name in names]
    with open(path, "w", encoding="utf-8") as out:
        for block in blocks:
            columns = [block[name] for name in names]
            for row in zip(*columns, strict=True):
                out.write("\t".join(tsv_field(v, e) for v, e in zip(row, enums, strict=True)))
                out.write("\n")


@dataclass(frozen=True)
class Cost:
    """What one run cost: wall seconds and CPU seconds of this process, its children and the server."""

    wall: float
    cpu: float  # this process + child processes (clickhouse-client) + the server process, when known

    def better(self, other: Cost | None) -> Cost:
        if other is None:
            return self
        return Cost(min(self.wall, other.wall), min(self.cpu, other.cpu))


class Meter:
    """Measures a block of work; the server's CPU is read from /proc when its pid is known."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid

    def __enter__(self) -> Meter:
        self._wall = time.perf_counter()
        self._cpu = self._cpu_now()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cost = Cost(time.perf_counter() - self._wall, self._cpu_now() - self._cpu)

    def _cpu_now(self) -> float:
        own = time.process_time()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (
            own
            + children.ru_utime
            + children.ru_stime
            + (server_cpu(self.server_pid) if self.server_pid else 0.0)
        )


def server_cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (fields 14 and 15 of /proc/pid/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def find_server_pid(url: NativeUrl) -> int | None:
    """The pid listening on the server's port, for a server on this machine (via ``ss``)."""
    ss = shutil.which("ss")
    if url.host not in ("127.0.0.1", "localhost", "::1") or ss is None:
        return None
    listing = subprocess.run(
        [ss, "-ltnpH", f"sport = :{url.port}"], capture_output=True, text=True, check=False
    )
    found = re.search(r"pid=(\d+)", listing.stdout)
    return int(found.group(1)) if found else None


def time_native(meter: Meter, writer: Writer, table: str, blocks: list[Columns]) -> Cost:
    with meter:
        for block in blocks:
            writer.insert_block(table, block)
    return meter.cost


def time_client(
    meter: Meter, url: NativeUrl, database: str, table: str, columns: Sequence[str], tsv_path: str
) -> Cost:
    client = shutil.which("clickhouse-client")
    if client is None:
        raise SystemExit("clickhouse-client is not on PATH")
    command = [
        client,
        "--host",
        url.host,
        "--port",
        str(url.port),
        "--user",
        url.user,
        "--query",
        f"INSERT INTO {database}.{table} ({', '.join(columns)}) FORMAT TabSeparated",
    ]
    with tempfile.TemporaryDirectory() as private:
        if url.password:
            # Never on the command line (any user's `ps` shows it): a client config only we can read.
            config = Path(private) / "client.xml"
            fd = os.open(config, os.O_WRONLY | os.O_CREAT, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(f"<config><password>{html.escape(url.password)}</password></config>")
            command += ["--config-file", str(config)]
        with meter, open(tsv_path, "rb") as stdin:
            subprocess.run(command, stdin=stdin, check=True)
    return meter.cost


HEADER = [
    "table",
    "cols",
    "builder r/s",
    "driver r/s",
    "client r/s",
    "ratio",
    "driver r/cpu-s",
    "client r/cpu-s",
    "cpu ratio",
    "objects r/s",
    "chdb r/s",
]
WIDTHS = [14, 5, 13, 12, 12, 7, 16, 16, 11, 13, 11]


def row_text(cells: Sequence[str]) -> str:
    """One line of the result table: the first cell left-aligned, the numbers right-aligned."""
    return "".join(
        cell.ljust(width) if i == 0 else cell.rjust(width)
        for i, (cell, width) in enumerate(zip(cells, WIDTHS, strict=True))
    )


# ---- main --------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--url",
        default=os.environ.get("GRIDFLOW_BENCH_CLICKHOUSE_URL", "clickhouse://default:@127.0.0.1:19000/"),
        help="ClickHouse server (native protocol); a scratch database is created and dropped",
    )
    parser.add_argument("--rows", type=int, default=500_000, help="rows per table and path")
    parser.add_argument("--batch", type=int, default=50_000, help="rows per insert block")
    parser.add_argument("--tables", default="grid_reports,camera_alerts,transitions,incidents")
    parser.add_argument("--repeat", type=int, default=3, help="runs per path; the best one counts")
    parser.add_argument("--chdb", metavar="DIR", help="also time the embedded chdb path in DIR (emptied)")
    args = parser.parse_args(argv)

    parsed = parse_url(args.url)
    if not isinstance(parsed, NativeUrl):
        raise SystemExit("--url must be a clickhouse:// server URL")
    tables = [t for t in args.tables.split(",") if t]
    batches = max(1, args.rows // args.batch)
    database = f"gfbench_{uuid.uuid4().hex[:8]}"
    world = World.create()
    writer = connect(with_database(args.url, database))
    server_pid = find_server_pid(parsed)
    meter = Meter(server_pid)
    print(
        f"ClickHouse {writer.dialect.version_text} at {writer.url}; {batches} x {args.batch} rows per table "
        f"and path, best of {args.repeat}; server pid {server_pid or 'unknown (no CPU columns)'}"
    )
    print(row_text(HEADER))
    results: list[tuple[str, float]] = []
    try:
        apply_migrations(writer)
        with tempfile.TemporaryDirectory() as scratch:
            for table in tables:
                messages = MAKERS[table](world, args.batch)
                base, builder_rate = build_block(messages, table)
                rows = batches * args.batch
                native: Cost | None = None
                client: Cost | None = None
                objects: Cost | None = None
                chdb_rate: float | None = None
                # Best of --repeat interleaved runs per path: other load on a shared box only slows runs.
                for _ in range(args.repeat):
                    builder_rate = max(builder_rate, build_block(messages, table)[1])
                    blocks = [with_fresh_ids(base, table, world.rng) for _ in range(batches)]
                    native = time_native(meter, writer, table, blocks).better(native)
                    tsv = os.path.join(scratch, f"{table}.tsv")
                    write_tsv([with_fresh_ids(base, table, world.rng) for _ in range(batches)], tsv)
                    columns = list(COLUMNS[table])
                    client = time_client(meter, parsed, database, table, columns, tsv).better(client)
                    one = [python_object_form(with_fresh_ids(base, table, world.rng))]
                    objects = time_native(meter, writer, table, one).better(objects)
                    if args.chdb:
                        rate = time_chdb(args.chdb, table, blocks)
                        chdb_rate = rate if chdb_rate is None else max(chdb_rate, rate)
                assert native is not None and client is not None and objects is not None
                native_rate, client_rate = rows / native.wall, rows / client.wall
                results.append((table, native_rate))
                cells = [
                    table,
                    str(len(COLUMNS[table])),
                    f"{builder_rate:,.0f}",
                    f"{native_rate:,.0f}",
                    f"{client_rate:,.0f}",
                    f"{native_rate / client_rate:.2f}",
                    f"{rows / native.cpu:,.0f}" if server_pid else "-",
                    f"{rows / client.cpu:,.0f}" if server_pid else "-",
                    f"{client.cpu / native.cpu:.2f}" if server_pid else "-",
                    f"{args.batch / objects.wall:,.0f}",
                    "" if chdb_rate is None else f"{chdb_rate:,.0f}",
                ]
                print(row_text(cells))
                sys.stdout.flush()
    finally:
        drop_database(writer)
        writer.close()
    best = max(rate for _, rate in results)
    print(f"goal: native path >= {GOAL_ROWS_PER_S:,} rows/s; best table {best:,.0f} rows/s")
    return 0


def time_chdb(directory: str, table: str, blocks: list[Columns]) -> float:
    """rows/s of the embedded writer for the same blocks (a fresh database in ``directory``)."""
    shutil.rmtree(directory, ignore_errors=True)
    with connect(f"chdb://{os.path.abspath(directory)}?database=gfbench") as embedded:
        apply_migrations(embedded)
        started = time.perf_counter()
        for block in blocks:
            embedded.insert_block(table, block)
        elapsed = time.perf_counter() - started
    return sum(len(block[ID_COLUMN[table]]) for block in blocks) / elapsed


if __name__ == "__main__":
    raise SystemExit(main())
