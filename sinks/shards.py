"""The warehouse on several clickhouse-server shards, behind Distributed tables of the same names.

Layout, for database ``<db>`` on the cluster named by ``GRIDFLOW_CLICKHOUSE_CLUSTER`` (``remote_servers``
in each server's config; docker-compose's ``cluster`` profile calls it ``gridflow_shards``):

- ``<db>_shard`` on every shard: the ordinary schema, applied by the same migrations as on one server or
  on chdb (:func:`sinks.ddl.apply_migrations`), with its dimension tables filled;
- ``<db>`` on every shard: what the sink writes to and analysts read, under the names they already use.
  Each base table is a Distributed table over the shards' ``<db>_shard`` tables, *sharded by the id its
  views collapse on*; each view is a Distributed table over the shards' views; the dimension tables and
  ``schema_version``, identical on every shard, are plain views of the local copy.

Why shard by the collapsing id: a redelivered row has the same id as its original, so it lands on the same
shard, and each shard's ``*_distinct`` view collapses it there. The union of the shards' views therefore
holds every id once, and a query over the Distributed view sees every row exactly once. (Sharding by
anything else, say at random, would put a redelivery on the other shard, where no view could collapse it.)
Transitions follow their incident (same shard), so a join of the two stays within one shard.

The sink writes through the Distributed tables with ``insert_distributed_sync`` (see :mod:`sinks.native`):
an insert returns once every shard holds its rows, so committing the Kafka offsets after it stays safe.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import quote

from sinks import catalog
from sinks.connection import connect
from sinks.ddl import apply_migrations
from sinks.dimensions import TABLES as DIMENSION_TABLES
from sinks.dimensions import load_dimensions
from sinks.errors import MigrationError
from sinks.url import NativeUrl, parse_url, with_database
from sinks.writer import Writer

# Base table → the column whose hash picks its shard: the id its view collapses on (or groups under).
SHARD_BY: Final = {
    "grid_reports": "event_id",
    "camera_alerts": "event_id",
    "dispositions": "event_id",
    "incidents": "incident_id",
    "transitions": "incident_id",  # with its incident; transition ids never span incidents
    "dead_letters": "dead_letter_id",
    "county_alerts": "alert_id",
    "intake_hourly": "",  # filled on each shard by its materialized views, never inserted into
}
# Tables every shard holds whole: read from the local copy, never summed over the shards.
EVERY_SHARD: Final = frozenset({*DIMENSION_TABLES, "schema_version"})


def local_database(database: str) -> str:
    """Where each shard keeps its own rows of ``database``."""
    return f"{database}_shard"


def shard_urls(url: str, writer: Writer, cluster: str) -> list[str]:
    """The URL of each shard of ``cluster`` (as the server of ``url`` lists it), with ``url``'s user."""
    rows = writer.query(
        f"SELECT host_address, port FROM system.clusters WHERE cluster = '{cluster}' "
        "ORDER BY shard_num, replica_num"
    ).rows
    if not rows:
        raise MigrationError(f"cluster {cluster!r}: not in system.clusters of {writer.url} (remote_servers)")
    front = parse_url(url)
    if not isinstance(front, NativeUrl):
        raise MigrationError(f"cluster {cluster!r}: shards are clickhouse-servers, not chdb ({writer.url})")
    user, password = quote(front.user, safe=""), quote(front.password, safe="")
    return [f"clickhouse://{user}:{password}@{host}:{port}/{writer.database}" for host, port in rows]


def apply_sharded(url: str, cluster: str) -> list[str]:
    """Apply the schema to every shard of ``cluster`` and put the Distributed layer on each; idempotent.

    ``url`` reaches any shard, on the database analysts and the sink use. Returns the shard URLs
    (passwords included: for connecting, not for printing).
    """
    with connect(url) as writer:
        urls = shard_urls(url, writer, cluster)
    for url in urls:
        with connect(with_database(url, local_database(writer.database))) as shard:
            apply_migrations(shard)
            load_dimensions(shard)
    for url in urls:
        with connect(url) as front:
            _front(front, cluster)
    return urls


def _front(writer: Writer, cluster: str) -> None:
    db, local = writer.database, local_database(writer.database)
    writer.execute(f"CREATE DATABASE IF NOT EXISTS {db}")
    columns = catalog.columns(writer, local)
    for name, engine in sorted(catalog.engines(writer, local).items()):
        if not catalog.readable(engine, name):
            continue  # they fire on each shard's inserts; nothing to read through them
        if name in EVERY_SHARD:
            writer.execute(f"CREATE VIEW IF NOT EXISTS {db}.{name} AS SELECT * FROM {local}.{name}")
            continue
        if engine != "View" and name not in SHARD_BY:
            raise MigrationError(
                f"table {local}.{name}: no shard placement; add it to sinks.shards.SHARD_BY (its collapsing "
                "id) or EVERY_SHARD (the same rows on every shard)"
            )
        # Inserts are synchronous, so the Distributed table holds no rows of its own.
        key = SHARD_BY.get(name, "")
        sharding = f"cityHash64(toString({key}))" if key else ""
        catalog.ensure_distributed(writer, db, name, columns[name], f"{cluster}, {local}, {name}", sharding)
