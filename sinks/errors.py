"""Errors raised by the ClickHouse layer (``sinks``).

They hang off the project's tree (``infra.errors.GridflowError``)::

    GridflowError
     └── SinkError                    anything the ClickHouse layer raises on purpose
          ├── ClickHouseUrlError      a ClickHouse URL that cannot be used (also a ``ValueError``)
          ├── ClickHouseUnavailable   the engine cannot be reached or is busy: retry later, keep the offsets
          ├── ClickHouseRejected      the engine refused a statement or a block: retrying will not help
          ├── EngineBusyError         chdb's process-wide engine already owns another data directory
          └── MigrationError          the schema could not be brought to the current version

The split between *unavailable* and *rejected* is what the Kafka sink needs: an outage is retried with
backoff while the offsets are held, a rejected block is split and its bad rows go to the dead-letter table.
"""

from __future__ import annotations

from typing import Final

from schemas.errors import GridflowError

# Server error codes that describe a temporary state rather than a bad statement: retrying may succeed.
TRANSIENT_CODES: Final = frozenset(
    {
        3,  # UNEXPECTED_END_OF_FILE
        32,  # ATTEMPT_TO_READ_AFTER_EOF
        159,  # TIMEOUT_EXCEEDED
        160,  # TOO_SLOW
        202,  # TOO_MANY_SIMULTANEOUS_QUERIES
        203,  # NO_FREE_CONNECTION
        209,  # SOCKET_TIMEOUT
        210,  # NETWORK_ERROR
        236,  # ABORTED
        241,  # MEMORY_LIMIT_EXCEEDED
        242,  # TABLE_IS_READ_ONLY
        252,  # TOO_MANY_PARTS
        319,  # UNKNOWN_STATUS_OF_INSERT
        394,  # QUERY_WAS_CANCELLED
        425,  # SYSTEM_ERROR
    }
)


class SinkError(GridflowError):
    """Base class of the errors raised by ``sinks``."""


class ClickHouseUrlError(SinkError, ValueError):
    """A ClickHouse URL that is malformed or names something unsupported."""


class ClickHouseUnavailable(SinkError):
    """The engine is unreachable, timed out or is temporarily overloaded; the same call may succeed later."""


class ClickHouseRejected(SinkError):
    """The engine refused the statement or data (syntax, types, unknown table); ``code`` is ClickHouse's."""

    def __init__(self, message: str, code: int | None = None) -> None:
        self.code = code
        super().__init__(message)


class EngineBusyError(SinkError):
    """chdb runs one engine per process and it is already bound to a different data directory."""


class MigrationError(SinkError):
    """A migration file is malformed or one of its statements failed."""
