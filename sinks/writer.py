"""The writer interface every ClickHouse backend implements, and the shape of query results.

Two backends implement :class:`Writer`: :mod:`sinks.native` (a ClickHouse server through clickhouse-driver)
and :mod:`sinks.embedded` (the in-process chdb engine). Callers get one from :func:`sinks.connect` and never
import a backend directly, so the Kafka sink, ``gridflow init`` and the tests run unchanged on either.

Tables are always addressed inside ``writer.database``; the backends qualify the names themselves.
Insert columns must already be in ClickHouse's native form (see :mod:`sinks.rows`): epoch seconds for
``DateTime``, integer codes for ``Enum8``, ``uuid.UUID`` for ``UUID``, lists for ``Array``, ``None`` for NULL.
"""

from __future__ import annotations

import datetime as dt
import math
import struct
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

from sinks.dialect import Dialect

# A query value after normalisation: what both engines can agree on.
Value = int | float | str | None | list[Any]


@dataclass(frozen=True, slots=True)
class QueryResult:
    """Rows of a query with their column names and ClickHouse types.

    Values are normalised so both engines return the same Python values: integers, floats, strings
    (``DateTime`` as ``'YYYY-MM-DD hh:mm:ss'`` in the column's time zone, ``UUID`` and ``Enum`` as text),
    ``None`` for NULL, NaN and infinities, and lists for arrays.
    """

    columns: tuple[str, ...]
    types: tuple[str, ...]
    rows: list[tuple[Value, ...]]

    def scalar(self) -> Value:
        """The single value of a one-row, one-column result."""
        if len(self.rows) != 1 or len(self.columns) != 1:
            raise ValueError(f"expected one value, got {len(self.rows)} rows x {len(self.columns)} columns")
        return self.rows[0][0]

    def dicts(self) -> list[dict[str, Value]]:
        """The rows as dicts keyed by column name."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@runtime_checkable
class Writer(Protocol):
    """A connection to one ClickHouse engine, bound to one database."""

    @property
    def database(self) -> str:
        """The database that tables live in (created by :func:`sinks.ddl.apply_migrations`)."""
        ...

    @property
    def dialect(self) -> Dialect:
        """The engine's version and what it supports."""
        ...

    @property
    def url(self) -> str:
        """Where this writer is connected, without the password, for messages."""
        ...

    def execute(self, sql: str, settings: Mapping[str, int | str] | None = None) -> None:
        """Run one statement that returns no rows (DDL, ``INSERT … SELECT``, ``OPTIMIZE``)."""
        ...

    def query(self, sql: str) -> QueryResult:
        """Run one ``SELECT`` and return all of its rows, normalised."""
        ...

    def insert_block(
        self, table: str, columns: Mapping[str, Sequence[Any]], dedup_token: str | None = None
    ) -> int:
        """Insert one block given column-wise into ``database.table``; returns the row count.

        All columns must have the same length. ``dedup_token`` makes a repeated insert of the same block a
        no-op where the engine supports ``insert_deduplication_token``; elsewhere it is ignored and
        duplicates are collapsed by the ReplacingMergeTree keys and the ``*_distinct``/``*_latest`` views.
        """
        ...

    def close(self) -> None:
        """Release the connection; idempotent."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


def check_block(table: str, columns: Mapping[str, Sequence[Any]]) -> int:
    """The common row count of a column-wise block; raises ValueError when columns differ in length."""
    if not columns:
        raise ValueError(f"insert into {table}: no columns")
    lengths = {name: len(values) for name, values in columns.items()}
    counts = set(lengths.values())
    if len(counts) != 1:
        raise ValueError(f"insert into {table}: columns differ in length: {lengths}")
    return counts.pop()


def normalise(value: Any, float32: bool = False) -> Value:
    """Map a value read by clickhouse-driver to the engine-neutral form described in :class:`QueryResult`.

    ``float32`` marks values of a ``Float32`` column: they are shortened to the fewest digits that still
    round-trip through 32 bits, which is how the engine itself prints them (0.1, not 0.10000000149011612).
    """
    if value is None or isinstance(value, bool | int | str):
        return int(value) if isinstance(value, bool) else value
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return _shortest_float32(value) if float32 else value
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [normalise(item, float32) for item in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _shortest_float32(value: float) -> float:
    packed = struct.pack("<f", value)
    for digits in range(6, 10):
        candidate = float(f"{value:.{digits}g}")
        if struct.pack("<f", candidate) == packed:
            return candidate
    return value
