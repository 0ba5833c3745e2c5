"""Open a :class:`~sinks.writer.Writer` from a ClickHouse URL: the one entry point to both backends.

>>> from sinks import connect
>>> with connect("clickhouse://default:@127.0.0.1:9000/gridflow") as writer:   # a server
...     writer.query("SELECT 1").scalar()
>>> with connect("chdb:///var/lib/gridflow/chdb") as writer:                   # embedded
...     ...
"""

from __future__ import annotations

from sinks.url import ChdbUrl, parse_url
from sinks.writer import Writer


def connect(url: str) -> Writer:
    """Connect to the engine named by ``url`` (see :mod:`sinks.url` for the accepted forms).

    Raises :class:`~sinks.errors.ClickHouseUrlError` for a bad URL,
    :class:`~sinks.errors.ClickHouseUnavailable` when the server cannot be reached within the connect
    timeout (3 s by default, ``?connect_timeout=``), and :class:`~sinks.errors.EngineBusyError` when chdb
    is bound to another data directory.
    """
    parsed = parse_url(url)
    # Backends are imported on demand so that using one never loads the other's library.
    if isinstance(parsed, ChdbUrl):
        from sinks.embedded import EmbeddedWriter

        return EmbeddedWriter.open(parsed)
    from sinks.native import NativeWriter

    return NativeWriter.open(parsed)
