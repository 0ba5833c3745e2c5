"""gridflow sinks: everything that lands in ClickHouse, and the analyst queries over it.

- :func:`connect` opens a :class:`Writer` from a URL: ``clickhouse://user:pass@host:port/db`` (a server via
  clickhouse-driver, :mod:`sinks.native`) or ``chdb:///path/to/dir`` (embedded, :mod:`sinks.embedded`);
- :func:`apply_migrations` creates or upgrades the schema (:mod:`sinks.ddl`, ``sinks/migrations/``);
- :mod:`sinks.rows` turns decoded messages into native column-wise blocks for ``Writer.insert_block``;
- :mod:`sinks.queries` loads and runs the analyst query pack (``sinks/queries/*.sql``).
"""

from sinks.connection import connect
from sinks.ddl import apply_migrations, drop_database
from sinks.errors import (
    ClickHouseRejected,
    ClickHouseUnavailable,
    ClickHouseUrlError,
    EngineBusyError,
    MigrationError,
    SinkError,
)
from sinks.queries import Query, load_queries, run_query
from sinks.rows import COLUMNS, Batch, Block, Source, blocks_of
from sinks.url import parse_url, with_database
from sinks.writer import QueryResult, Writer

__all__ = [
    "COLUMNS",
    "Batch",
    "Block",
    "ClickHouseRejected",
    "ClickHouseUnavailable",
    "ClickHouseUrlError",
    "EngineBusyError",
    "MigrationError",
    "Query",
    "QueryResult",
    "SinkError",
    "Source",
    "Writer",
    "apply_migrations",
    "blocks_of",
    "connect",
    "drop_database",
    "load_queries",
    "parse_url",
    "run_query",
    "with_database",
]
