"""What each ClickHouse role may read: the analyst's database and one database per county.

clickhouse-server 18.16 has neither column grants nor row policies; what it has is ``allow_databases`` per
user (users.xml) and the Distributed engine, whose queries reach the shards as the cluster's own user. So
each role gets a database of its own that holds only what it may see, as Distributed tables over the store,
reached through the ``gridflow_roles`` cluster (one local shard, the internal read-only ``gridflow_reader``
user; both written by ``gridflow services up``):

- ``<db>_analyst``: every table and view of ``<db>`` without the payloads as received (``raw``, and a dead
  letter's ``raw_base64`` and ``raw_preview``: :data:`sinks.access.HIDDEN_COLUMNS`);
  the columns that remain hold no personal data in clear (``reporter_id`` is a keyed token, see
  :mod:`schemas.personal`, so repeat reporters can still be counted);
- ``<db>_county_<code>``: the tables and views that have a ``county_code``, without ``raw``, over views in
  ``<db>_by_county`` that keep only that county's rows, and the dimension tables (names for the codes,
  :data:`sinks.dimensions.TABLES`) whole.

A column left out of a Distributed table cannot be selected through it, and a role user's queries on
``<db>`` itself are refused (``allow_databases``). The users are readonly, so INSERT, ALTER and DROP are
refused too. A role's Distributed table is made again when the store's table changed shape (a migration
that rebuilds it), so a role never reads yesterday's columns. :func:`apply_roles` is idempotent and runs in
``gridflow init`` wherever the cluster exists (the local server); elsewhere it does nothing.
"""

from __future__ import annotations

from typing import Final

from schemas.geography import geography
from sinks import access, catalog
from sinks.dimensions import TABLES as DIMENSION_TABLES
from sinks.writer import Writer

CLUSTER: Final = "gridflow_roles"
HIDDEN_COLUMNS: Final = frozenset(access.HIDDEN_COLUMNS)
COUNTY_COLUMN: Final = "county_code"


def analyst_database(database: str) -> str:
    return f"{database}_analyst"


def county_database(database: str, county: str) -> str:
    return f"{database}_county_{county}"


def filtered_database(database: str) -> str:
    return f"{database}_by_county"


def has_role_cluster(writer: Writer) -> bool:
    return (
        int(str(writer.query(f"SELECT count() FROM system.clusters WHERE cluster = '{CLUSTER}'").scalar()))
        > 0
    )


def _shapes(writer: Writer) -> dict[str, catalog.Columns]:
    """Each table/view of the store → its (column, type) pairs; materialized views' triggers aside."""
    kinds = catalog.engines(writer, writer.database)
    return {
        table: found
        for table, found in catalog.columns(writer, writer.database).items()
        if catalog.readable(kinds.get(table, ""), table)
    }


def apply_roles(writer: Writer) -> list[str]:
    """Create the role databases of ``writer.database``; returns them (none without the cluster)."""
    if not has_role_cluster(writer):
        return []
    db = writer.database
    shapes = _shapes(writer)
    analyst = analyst_database(db)
    writer.execute(f"CREATE DATABASE IF NOT EXISTS {analyst}")
    for table, columns in shapes.items():
        _distributed(writer, analyst, table, columns, db, table)
    filtered = filtered_database(db)
    writer.execute(f"CREATE DATABASE IF NOT EXISTS {filtered}")
    made = [analyst]
    for county in (unit.code for unit in geography().counties()):
        target = county_database(db, county)
        writer.execute(f"CREATE DATABASE IF NOT EXISTS {target}")
        for table in DIMENSION_TABLES:
            if table in shapes:
                _distributed(writer, target, table, shapes[table], db, table)
        for table, columns in shapes.items():
            if COUNTY_COLUMN not in {name for name, _ in columns}:
                continue
            view = f"{table}_{county}"
            writer.execute(
                f"CREATE VIEW IF NOT EXISTS {filtered}.{view} AS "
                f"SELECT * FROM {db}.{table} WHERE {COUNTY_COLUMN} = '{county}'"
            )
            _distributed(writer, target, table, columns, filtered, view)
        made.append(target)
    return made


def _distributed(
    writer: Writer, database: str, table: str, columns: catalog.Columns, source_db: str, source: str
) -> None:
    kept = [(name, kind) for name, kind in columns if name not in HIDDEN_COLUMNS]
    catalog.ensure_distributed(writer, database, table, kept, f"{CLUSTER}, {source_db}, {source}")
