"""The embedded backend: the current ClickHouse engine in-process through chdb (``chdb:///path/to/dir``).

chdb runs one engine per process, bound to one data directory until every session on it is closed, and a
data directory belongs to one process at a time. So this module keeps a single process-wide engine handle:
writers opened on the same directory share it (reference-counted, calls serialised by a lock), a writer for
a different directory raises :class:`~sinks.errors.EngineBusyError` until the others are closed, and a
directory held by another process is reported as such instead of chdb's bare "Error initializing".

Inserts use chdb's streaming insert with the ``JSONColumns`` format: the column-wise block is serialised by
orjson in one call (UUIDs, ints and ``None`` map directly) and parsed by the engine in C++. Measured on the
``transitions`` table in rows per CPU-second of the whole process: JSONColumns 507k, ArrowStream (pyarrow
arrays) 317k, TabSeparated built in Python 96k, JSONEachRow 77k; the ``Python()`` table function rejects
lists and ``None``.
"""

from __future__ import annotations

import fcntl
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Protocol, Self, cast

import orjson
from chdb import session as chdb_session

from sinks.dialect import Dialect, parse_version
from sinks.errors import TRANSIENT_CODES, ClickHouseRejected, ClickHouseUnavailable, EngineBusyError
from sinks.url import ChdbUrl
from sinks.writer import QueryResult, Value, check_block

_CODE = re.compile(r"Code: (\d+)\.")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Query results come back as JSONCompact; these make numbers JSON numbers rather than quoted strings.
_SESSION_SETTINGS: Final = (
    "SET output_format_json_quote_64bit_integers = 0",
    "SET output_format_json_quote_decimals = 0",
)


class _Result(Protocol):
    def bytes(self) -> bytes: ...


class _Inserter(Protocol):
    def append(self, data: bytes) -> None: ...

    def finish(self) -> object: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> object: ...


class _Session(Protocol):
    """The part of ``chdb.session.Session`` used here (chdb ships no annotations for it)."""

    def query(self, sql: str, fmt: str = "CSV") -> _Result: ...

    def send_insert(self, query: str, fmt: str = "CSV") -> _Inserter: ...

    def close(self) -> None: ...


_new_session = cast(Callable[[str], _Session], chdb_session.Session)


@dataclass
class _Engine:
    """The process's chdb engine: one data directory, shared by every open writer on it."""

    path: str
    session: _Session
    dialect: Dialect
    refs: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)


_engine: _Engine | None = None
_engine_guard = threading.Lock()


def current_path() -> str | None:
    """The data directory the process's chdb engine is bound to, or None when no writer is open."""
    with _engine_guard:
        return _engine.path if _engine is not None else None


class EmbeddedWriter:
    """A :class:`~sinks.writer.Writer` on the in-process chdb engine; open it with :meth:`open`."""

    def __init__(self, url: ChdbUrl, engine: _Engine) -> None:
        self._url = url
        self._engine: _Engine | None = engine

    @classmethod
    def open(cls, url: ChdbUrl) -> EmbeddedWriter:
        """Bind to ``url.path`` (creating it), sharing the engine with writers already on that path."""
        global _engine
        path = str(Path(url.path).resolve())
        with _engine_guard:
            if _engine is not None and _engine.path != path:
                raise EngineBusyError(
                    f"chdb in this process already owns {_engine.path}; close its writers before opening "
                    f"{path} (chdb runs one engine per process)"
                )
            if _engine is None:
                _engine = _start_engine(path)
            _engine.refs += 1
            return cls(url, _engine)

    @property
    def database(self) -> str:
        """The database that tables live in."""
        return self._url.database

    @property
    def dialect(self) -> Dialect:
        """The engine's version and capabilities."""
        return self._live().dialect

    @property
    def url(self) -> str:
        """The chdb URL."""
        return self._url.display()

    def execute(self, sql: str, settings: Mapping[str, int | str] | None = None) -> None:
        """Run one statement that returns no rows."""
        engine = self._live()
        with engine.lock, self._translated("execute"):
            # A trailing SETTINGS clause would bind to CREATE TABLE's own settings, so use SET; they stay
            # in force for the shared session, which is why only harmless settings are passed here.
            for name, value in (settings or {}).items():
                engine.session.query(f"SET {name} = {_literal(value)}")
            engine.session.query(sql, "TabSeparated")

    def query(self, sql: str) -> QueryResult:
        """Run one ``SELECT``; values normalised as described in :class:`~sinks.writer.QueryResult`."""
        engine = self._live()
        with engine.lock, self._translated("query"):
            result = engine.session.query(sql, "JSONCompact")
        payload = result.bytes()
        if not payload:
            return QueryResult(columns=(), types=(), rows=[])
        parsed = orjson.loads(payload)
        meta = parsed["meta"]
        types = tuple(str(column["type"]) for column in meta)
        # JSON prints a whole float as 1, not 1.0; give float columns floats, as the server backend does.
        floats = [i for i, kind in enumerate(types) if kind.removeprefix("Nullable(").startswith("Float")]
        rows: list[tuple[Value, ...]] = []
        for raw_row in parsed["data"]:
            row = list(raw_row)
            for i in floats:
                if isinstance(row[i], int):
                    row[i] = float(row[i])
            rows.append(tuple(row))
        return QueryResult(columns=tuple(str(column["name"]) for column in meta), types=types, rows=rows)

    def insert_block(
        self, table: str, columns: Mapping[str, Sequence[Any]], dedup_token: str | None = None
    ) -> int:
        """Insert one column-wise block; see :meth:`sinks.writer.Writer.insert_block`."""
        count = check_block(table, columns)
        if count == 0:
            return 0
        for name in (table, *columns):
            if not _IDENTIFIER.match(name):
                raise ValueError(f"not a plain identifier: {name!r}")
        engine = self._live()
        sql = f"INSERT INTO {self.database}.{table} ({', '.join(columns)})"
        settings = engine.dialect.insert_settings(dedup_token)
        if settings:
            sql += " SETTINGS " + ", ".join(f"{k} = {_literal(v)}" for k, v in settings.items())
        what = f"insert into {self.database}.{table}"
        try:
            body = orjson.dumps(dict(columns), option=orjson.OPT_NON_STR_KEYS)
        except TypeError as e:
            raise ClickHouseRejected(f"{what}: a value cannot be encoded: {e}") from e
        with engine.lock, self._translated(what), engine.session.send_insert(sql, "JSONColumns") as inserter:
            inserter.append(body)
            inserter.finish()
        return count

    def close(self) -> None:
        """Release this writer's share of the engine; the last one out closes the chdb session."""
        global _engine
        engine, self._engine = self._engine, None
        if engine is None:
            return
        with _engine_guard:
            engine.refs -= 1
            if engine.refs == 0:
                with engine.lock:
                    engine.session.close()
                if _engine is engine:
                    _engine = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _live(self) -> _Engine:
        if self._engine is None:
            raise ClickHouseUnavailable(f"chdb writer for {self._url.path} is closed")
        return self._engine

    @contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        try:
            yield
        except RuntimeError as e:
            text = str(e).removeprefix("Streaming insert finish failed: ")
            match = _CODE.search(text)
            code = int(match.group(1)) if match else None
            line = text.strip().split("\n", 1)[0]
            if code in TRANSIENT_CODES:
                raise ClickHouseUnavailable(f"chdb at {self._url.path} is unable to {action}: {line}") from e
            raise ClickHouseRejected(f"chdb at {self._url.path} rejected {action}: {line}", code) from e


def _start_engine(path: str) -> _Engine:
    os.makedirs(path, exist_ok=True)
    try:
        session = _new_session(path)
    except RuntimeError as e:
        holder = _locked_by_other_process(path)
        if holder:
            raise EngineBusyError(
                f"chdb data directory {path} is in use by another process ({holder}); one process owns a "
                "data directory at a time"
            ) from e
        raise ClickHouseUnavailable(f"cannot start chdb on {path}: {str(e).strip()}") from e
    try:
        for statement in _SESSION_SETTINGS:
            session.query(statement)
        version = str(session.query("SELECT version()", "TabSeparated").bytes().decode()).strip()
    except RuntimeError as e:
        session.close()
        raise ClickHouseUnavailable(f"chdb on {path} does not answer: {str(e).strip()}") from e
    return _Engine(path=path, session=session, dialect=Dialect(parse_version(version)))


def _locked_by_other_process(path: str) -> str | None:
    """Describe who holds the engine's lock file in ``path``, if someone does."""
    status = Path(path) / "status"
    if not status.exists():
        return None
    try:
        with open(status, "rb+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                text = status.read_text(errors="replace").strip().replace("\n", ", ")
                return text or "lock file held"
            fcntl.flock(handle, fcntl.LOCK_UN)
    except OSError:
        return None
    return None


def _literal(value: int | str) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
