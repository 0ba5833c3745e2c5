"""What a database holds, read from the server's catalogue, and Distributed tables kept in step with it.

Both the role databases (:mod:`sinks.roles`) and the sharded front (:mod:`sinks.shards`) are Distributed
tables over tables that migrations create and sometimes rebuild; :func:`ensure_distributed` is the one place
that makes such a table and makes it again when its source changed shape.
"""

from __future__ import annotations

from sinks.writer import Writer

Columns = list[tuple[str, str]]  # (name, type) in the table's order


def engines(writer: Writer, database: str) -> dict[str, str]:
    """Each table and view of ``database`` → its engine."""
    rows = writer.query(f"SELECT name, engine FROM system.tables WHERE database = '{database}'").rows
    return {str(name): str(engine) for name, engine in rows}


def columns(writer: Writer, database: str) -> dict[str, Columns]:
    """Each table and view of ``database`` → its columns in order."""
    found: dict[str, Columns] = {}
    for table, name, kind in writer.query(
        f"SELECT table, name, type FROM system.columns WHERE database = '{database}'"
    ).rows:
        found.setdefault(str(table), []).append((str(name), str(kind)))
    return found


def readable(engine: str, name: str) -> bool:
    """Whether a table is read by analysts: materialized views' triggers and their inner tables are not."""
    return engine != "MaterializedView" and not name.startswith(".inner")


def ensure_distributed(
    writer: Writer, database: str, table: str, wanted: Columns, target: str, sharding: str = ""
) -> None:
    """``database.table`` as a Distributed table with columns ``wanted`` over ``target``
    (``cluster, database, table`` as the engine takes them, ``sharding`` appended when given)."""
    rows = writer.query(
        f"SELECT name, type FROM system.columns WHERE database = '{database}' AND table = '{table}'"
    ).rows
    existing = [(str(name), str(kind)) for name, kind in rows] or None
    if existing == wanted:
        return
    if existing is not None:
        # Its source was rebuilt by a migration; a Distributed table holds no rows, so dropping it loses none.
        writer.execute(f"DROP TABLE IF EXISTS {database}.{table}")
    shown = ", ".join(f"`{name}` {kind}" for name, kind in wanted)
    key = f", {sharding}" if sharding else ""
    writer.execute(
        f"CREATE TABLE IF NOT EXISTS {database}.{table} ({shown}) ENGINE = Distributed({target}{key})",
        settings=writer.dialect.ddl_settings(),
    )
