"""Parse the ClickHouse URL (``GRIDFLOW_CLICKHOUSE_URL``) into what a backend needs to open a connection.

Two forms are accepted::

    clickhouse://user:password@host:port/database?connect_timeout=3&secure=1   (server, native protocol)
    chdb:///absolute/path/to/data-dir?database=gridflow                         (embedded engine)

For the server form the database is the URL path; for chdb the path is the data directory, so the database
comes from the ``database`` query parameter. Both default to ``gridflow``. Anything else raises a one-line
:class:`~sinks.errors.ClickHouseUrlError` that names the URL (with the password masked) and what was expected.
Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import parse_qsl, unquote, urlsplit

from sinks.errors import ClickHouseUrlError

DEFAULT_DATABASE: Final = "gridflow"
DEFAULT_NATIVE_PORT: Final = 9000
DEFAULT_CONNECT_TIMEOUT: Final = 3.0
# A database name is spliced into DDL and queries, so only plain identifiers are allowed.
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_EXPECTED = "expected clickhouse://user:password@host:port/database or chdb:///absolute/path/to/dir"

# Query parameters passed through to clickhouse-driver (TLS and timeouts), with their types.
_NATIVE_OPTIONS: Final[dict[str, type]] = {
    "connect_timeout": float,
    "send_receive_timeout": float,
    "sync_request_timeout": float,
    "secure": bool,
    "verify": bool,
    "ca_certs": str,
    "certfile": str,
    "keyfile": str,
    "server_hostname": str,
    "compression": str,
    "client_name": str,
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True, slots=True)
class NativeUrl:
    """A ClickHouse server reached over the native TCP protocol."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    database: str
    options: dict[str, str | float | bool] = field(default_factory=dict)

    @property
    def connect_timeout(self) -> float:
        """Seconds allowed for the TCP connect and handshake."""
        value = self.options.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT)
        return float(value)

    def display(self) -> str:
        """The URL without its password, for logs and error messages."""
        return f"clickhouse://{self.user}@{self.host}:{self.port}/{self.database}"


@dataclass(frozen=True, slots=True)
class ChdbUrl:
    """The embedded chdb engine with its data directory."""

    path: str
    database: str

    def display(self) -> str:
        """The URL as the user would write it."""
        return f"chdb://{self.path}?database={self.database}"


ClickHouseUrl = NativeUrl | ChdbUrl


def mask_password(url: str) -> str:
    """``url`` with any password replaced by ``***`` so it can be printed."""
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@]*:)[^@/]*@", r"\1***@", url)


def parse_url(url: str) -> ClickHouseUrl:
    """Parse a ClickHouse URL; raises :class:`ClickHouseUrlError` naming the URL and what was expected."""
    shown = mask_password(url)
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ClickHouseUrlError(f"bad ClickHouse URL {shown!r}: {exc}; {_EXPECTED}") from None
    if parts.fragment:
        raise ClickHouseUrlError(f"bad ClickHouse URL {shown!r}: unexpected '#' fragment; {_EXPECTED}")
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    if parts.scheme == "clickhouse":
        if not parts.hostname:
            raise ClickHouseUrlError(f"bad ClickHouse URL {shown!r}: no host; {_EXPECTED}")
        database = _database(unquote(parts.path.strip("/")) or DEFAULT_DATABASE, shown)
        return NativeUrl(
            host=parts.hostname,
            port=port if port is not None else DEFAULT_NATIVE_PORT,
            user=unquote(parts.username) if parts.username else "default",
            password=unquote(parts.password) if parts.password else "",
            database=database,
            options=_native_options(params, shown),
        )
    if parts.scheme == "chdb":
        if parts.netloc:
            raise ClickHouseUrlError(
                f"bad ClickHouse URL {shown!r}: chdb needs an absolute data directory after three slashes; "
                f"{_EXPECTED}"
            )
        path = unquote(parts.path)
        if not path.startswith("/") or path.rstrip("/") == "":
            raise ClickHouseUrlError(f"bad ClickHouse URL {shown!r}: no data directory; {_EXPECTED}")
        unknown = sorted(set(params) - {"database"})
        if unknown:
            raise ClickHouseUrlError(
                f"bad ClickHouse URL {shown!r}: unknown option(s) {', '.join(unknown)}; chdb accepts only "
                "?database=NAME"
            )
        database = _database(params.get("database") or DEFAULT_DATABASE, shown)
        return ChdbUrl(path=path.rstrip("/") or "/", database=database)
    scheme = parts.scheme or "(none)"
    raise ClickHouseUrlError(f"unsupported ClickHouse URL {shown!r}: scheme {scheme}; {_EXPECTED}")


def _database(name: str, shown: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ClickHouseUrlError(
            f"bad ClickHouse URL {shown!r}: database {name!r} is not a plain identifier "
            "(letters, digits, underscore; not starting with a digit)"
        )
    return name


def _native_options(params: dict[str, str], shown: str) -> dict[str, str | float | bool]:
    options: dict[str, str | float | bool] = {}
    for key, raw in params.items():
        kind = _NATIVE_OPTIONS.get(key)
        if kind is None:
            known = ", ".join(sorted(_NATIVE_OPTIONS))
            raise ClickHouseUrlError(f"bad ClickHouse URL {shown!r}: unknown option {key!r} (known: {known})")
        if kind is bool:
            if raw.lower() not in _TRUE | _FALSE:
                raise ClickHouseUrlError(
                    f"bad ClickHouse URL {shown!r}: option {key}={raw!r} is not a boolean"
                )
            options[key] = raw.lower() in _TRUE
        elif kind is float:
            try:
                number = float(raw)
            except ValueError:
                raise ClickHouseUrlError(
                    f"bad ClickHouse URL {shown!r}: option {key}={raw!r} is not a number"
                ) from None
            if not number > 0:
                raise ClickHouseUrlError(f"bad ClickHouse URL {shown!r}: option {key}={raw!r} must be > 0")
            options[key] = number
        else:
            options[key] = raw
    return options


def with_database(url: str, database: str) -> str:
    """``url`` pointing at ``database`` instead (the path for servers, ``?database=`` for chdb)."""
    parsed = parse_url(url)
    _database(database, mask_password(url))
    if isinstance(parsed, ChdbUrl):
        return f"chdb://{parsed.path}?database={database}"
    parts = urlsplit(url.strip())
    return parts._replace(path=f"/{database}").geturl()
