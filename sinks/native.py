"""The ClickHouse server backend: clickhouse-driver over the native TCP protocol.

Inserts are column-wise (``client.execute("INSERT INTO t (cols) VALUES", columns, columnar=True)``), the
fastest path clickhouse-driver has. Values arrive in native form (epoch ints for ``DateTime``, int codes for
``Enum8``), which spares the driver its per-value datetime conversion; ``UUID``, ``Enum8`` and ``Nullable``
columns still cost clickhouse-driver a Python loop per value, and that encoding is most of this path's CPU
(``bench/bench_insert.py`` measures it against clickhouse-client). A writer is not thread-safe: give each
thread its own.

Errors are translated at this boundary: a lost or refused connection and transient server states become
:class:`~sinks.errors.ClickHouseUnavailable` (retry, keep the Kafka offsets); anything else the server
refuses becomes :class:`~sinks.errors.ClickHouseRejected`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Final, Self

from clickhouse_driver import Client
from clickhouse_driver import errors as driver_errors

from sinks.dialect import Dialect, parse_version
from sinks.errors import TRANSIENT_CODES, ClickHouseRejected, ClickHouseUnavailable
from sinks.url import NativeUrl
from sinks.writer import QueryResult, check_block, normalise

DEFAULT_SEND_RECEIVE_TIMEOUT: Final = 300.0
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class NativeWriter:
    """A :class:`~sinks.writer.Writer` on a ClickHouse server; open it with :meth:`open`."""

    def __init__(self, url: NativeUrl, client: Client, dialect: Dialect) -> None:
        self._url = url
        self._client = client
        self._dialect = dialect

    @classmethod
    def open(cls, url: NativeUrl) -> NativeWriter:
        """Connect (within ``url.connect_timeout`` seconds per address) and read the server version."""
        options = dict(url.options)
        connect_timeout = float(options.pop("connect_timeout", url.connect_timeout))
        send_receive_timeout = float(options.pop("send_receive_timeout", DEFAULT_SEND_RECEIVE_TIMEOUT))
        # The handshake gets the connect timeout, not the query timeout: a port that accepts connections but
        # does not speak ClickHouse's protocol (Kafka's, say) must fail in seconds, not after five minutes.
        handshake_timeout = min(send_receive_timeout, max(connect_timeout, 1.0))
        client = Client(
            host=url.host,
            port=url.port,
            user=url.user,
            password=url.password,
            # Connect to ``default``: the target database may not exist until the migrations create it.
            database="default",
            connect_timeout=connect_timeout,
            send_receive_timeout=handshake_timeout,
            **options,
        )
        writer = cls(url, client, Dialect((0,)))
        try:
            with writer._translated("connect"):
                rows = client.execute("SELECT version()")
        except ClickHouseUnavailable as exc:
            client.disconnect()
            raise ClickHouseUnavailable(_unreachable(url, handshake_timeout, exc)) from None
        except ClickHouseRejected as exc:
            client.disconnect()
            if isinstance(exc.__cause__, driver_errors.ServerException):
                raise  # the server answered (bad user or password, …): its own words say it best
            raise ClickHouseUnavailable(_unreachable(url, handshake_timeout, exc)) from None
        client.connection.send_receive_timeout = send_receive_timeout
        if client.connection.socket is not None:
            client.connection.socket.settimeout(send_receive_timeout)
        writer._dialect = Dialect(parse_version(str(rows[0][0])))
        return writer

    @property
    def database(self) -> str:
        """The database that tables live in."""
        return self._url.database

    @property
    def dialect(self) -> Dialect:
        """The server's version and capabilities."""
        return self._dialect

    @property
    def url(self) -> str:
        """The server URL without the password."""
        return self._url.display()

    @property
    def client(self) -> Client:
        """The underlying clickhouse-driver client, for benchmarks and diagnostics."""
        return self._client

    def execute(self, sql: str, settings: Mapping[str, int | str] | None = None) -> None:
        """Run one statement that returns no rows."""
        with self._translated("execute"):
            self._client.execute(sql, settings=dict(settings) if settings else None)

    def query(self, sql: str) -> QueryResult:
        """Run one ``SELECT``; values normalised as described in :class:`~sinks.writer.QueryResult`."""
        with self._translated("query"):
            rows, meta = self._client.execute(sql, with_column_types=True)
        types = tuple(kind for _, kind in meta)
        float32 = tuple("Float32" in kind for kind in types)
        return QueryResult(
            columns=tuple(name for name, _ in meta),
            types=types,
            rows=[tuple(normalise(v, f) for v, f in zip(row, float32, strict=True)) for row in rows],
        )

    def insert_block(
        self, table: str, columns: Mapping[str, Sequence[Any]], dedup_token: str | None = None
    ) -> int:
        """Insert one column-wise block; see :meth:`sinks.writer.Writer.insert_block`."""
        count = check_block(table, columns)
        if count == 0:
            return 0
        _check_identifiers(table, columns)
        sql = f"INSERT INTO {self.database}.{table} ({', '.join(columns)}) VALUES"
        # The driver converts values in place (UUID → int, …); copies keep the caller's block intact for a
        # retry after an outage.
        data = [list(values) for values in columns.values()]
        # Into a Distributed table (a sharded warehouse, sinks/shards.py) the insert returns only once every
        # shard holds its rows, so the sink's commit after it still means "landed"; other tables ignore it.
        settings = {"insert_distributed_sync": 1, **self._dialect.insert_settings(dedup_token)}
        with self._translated(f"insert into {self.database}.{table}"):
            self._client.execute(sql, data, columnar=True, settings=settings)
        return count

    def close(self) -> None:
        """Disconnect; idempotent."""
        self._client.disconnect()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        where = f"{self._url.host}:{self._url.port}"
        try:
            yield
        except driver_errors.ServerException as e:
            first_line = _first_line(e.message)
            if e.code in TRANSIENT_CODES:
                raise ClickHouseUnavailable(
                    f"ClickHouse at {where} is temporarily unable to {action}: {first_line}"
                ) from e
            raise ClickHouseRejected(
                f"ClickHouse at {where} rejected {action} (code {e.code}): {first_line}", e.code
            ) from e
        except (driver_errors.NetworkError, driver_errors.SocketTimeoutError) as e:
            raise ClickHouseUnavailable(f"cannot reach ClickHouse at {where} ({action}): {e.message}") from e
        except (OSError, EOFError) as e:  # socket timeouts are OSErrors too
            raise ClickHouseUnavailable(f"cannot reach ClickHouse at {where} ({action}): {e!r}") from e
        except driver_errors.Error as e:
            # Client-side failures (a value the column cannot encode, an unknown type): the block is bad.
            raise ClickHouseRejected(f"{action} failed on the client for {where}: {e}", e.code) from e
        except (TypeError, ValueError, OverflowError) as e:
            raise ClickHouseRejected(f"{action}: a value cannot be encoded for ClickHouse: {e}") from e


def _unreachable(url: NativeUrl, timeout: float, exc: Exception) -> str:
    """One line for a failed handshake: refused, silent, or something that is not ClickHouse."""
    where = f"{url.host}:{url.port}"
    cause = exc.__cause__
    if isinstance(cause, driver_errors.SocketTimeoutError | TimeoutError):
        return (
            f"ClickHouse at {where}: no answer in ClickHouse's native protocol within {timeout:g} s "
            "(is it a ClickHouse server's TCP port, usually 9000?)"
        )
    if isinstance(cause, driver_errors.NetworkError):
        text = (cause.message or "").rsplit(" (", 1)[0].strip() or "network error"
        return f"ClickHouse at {where}: {text.lower()}"
    if isinstance(cause, EOFError | driver_errors.UnexpectedPacketFromServerError | driver_errors.Error):
        return (
            f"ClickHouse at {where}: the server there does not speak ClickHouse's native protocol "
            "(is it a ClickHouse server's TCP port, usually 9000?)"
        )
    return f"ClickHouse at {where}: {exc}"


def _first_line(message: str | None) -> str:
    text = (message or "").strip()
    # Old servers append a stack trace after the first line.
    line = text.split("\n", 1)[0].removeprefix("DB::Exception: ")
    return re.split(r"[.,]? Stack trace", line, maxsplit=1)[0]


def _check_identifiers(table: str, columns: Mapping[str, Sequence[Any]]) -> None:
    for name in (table, *columns):
        if not _IDENTIFIER.match(name):
            raise ValueError(f"not a plain identifier: {name!r}")
