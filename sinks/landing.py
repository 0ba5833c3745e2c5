"""Landing one batch: pending rows per table with their Kafka origin, inserted with retries and bisection.

The Kafka sink (:mod:`sinks.sink`) fills a :class:`Pending` from consumed records and hands it to
:func:`land`. Two kinds of failure are told apart (:mod:`sinks.errors`):

- :class:`~sinks.errors.ClickHouseUnavailable` (an outage, a timeout): the same block is retried with
  backoff (:mod:`sinks.backoff`) until it lands or the sink is asked to stop; nothing is dead-lettered, and
  the caller holds the Kafka offsets meanwhile;
- :class:`~sinks.errors.ClickHouseRejected` (the engine refuses the data): the block is split in halves until
  the refused rows are isolated; the good rows land and each refused row becomes a dead letter carrying the
  engine's reason and the row's source topic/partition/offset.

Rows are inserted into ``table_map[table]`` (the identity, or the negative control's plain tables of
:mod:`sinks.nodedup`); a ``dedup_token`` derived from the rows' Kafka coordinates is sent where the engine
understands it, so re-inserting the very same block after an ambiguous failure is a no-op.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from schemas.enums import DeadLetterReason, MessageStatus
from schemas.messages import DeadLetter
from sinks.backoff import Backoff, retry_unavailable
from sinks.errors import ClickHouseRejected
from sinks.rows import COLUMNS, Block, Row, Source, dead_letter_row
from sinks.writer import Writer

# The error class of a dead letter for a row the engine refused.
REJECTED = DeadLetterReason.CLICKHOUSE_REJECTED


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a pending row came from: its Kafka coordinates, its raw bytes and the message's status flag."""

    source: Source
    raw: bytes
    status: MessageStatus


@dataclass(slots=True)
class Pending:
    """Rows waiting for the next insert, per table, each with its :class:`Origin` (same order)."""

    rows: dict[str, list[Row]] = field(default_factory=lambda: {table: [] for table in COLUMNS})
    origins: dict[str, list[Origin]] = field(default_factory=lambda: {table: [] for table in COLUMNS})

    def add(self, table: str, row: Row, origin: Origin) -> None:
        self.rows[table].append(row)
        self.origins[table].append(origin)

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    def clear(self) -> None:
        for table in COLUMNS:
            self.rows[table] = []
            self.origins[table] = []


@dataclass(slots=True)
class LandingStats:
    """What :func:`land` did: rows inserted, rows dead-lettered by rejection, inserts retried."""

    inserted: int = 0
    rejected: int = 0
    retries: int = 0


def dedup_token(table: str, origins: list[Origin]) -> str:
    """A token naming exactly these rows: the table plus every (topic, partition, offset) in order."""
    digest = hashlib.blake2b(table.encode(), digest_size=16)
    for origin in origins:
        src = origin.source
        digest.update(f"|{src.topic}:{src.partition}:{src.offset}".encode())
    return f"{table}:{digest.hexdigest()}"


def land(
    writer: Writer,
    pending: Pending,
    *,
    ingested_at: int,
    processed_at: dt.datetime,
    backoff: Backoff,
    table_map: Mapping[str, str] | None = None,
    use_tokens: bool = True,
    should_stop: Callable[[], bool] = lambda: False,
) -> LandingStats:
    """Insert every pending row; raises :class:`~sinks.backoff.Stopped` if stopped during an outage.

    Dead letters for refused rows are inserted last, into ``dead_letters`` (itself retried on outages).
    ``processed_at`` is the wall-clock time recorded on those dead letters.
    """
    lander = _Lander(
        writer, backoff, dict(table_map or {}), use_tokens, should_stop, ingested_at, processed_at
    )
    for table in COLUMNS:
        if pending.rows[table]:
            lander.rows(table, pending.rows[table], pending.origins[table])
    if lander.letters:
        target = lander.table_map.get("dead_letters", "dead_letters")
        block = _block("dead_letters", lander.letters)
        # A refused dead letter cannot be dead-lettered again: let that surface as an error to the operator.
        lander.stats.retries += retry_unavailable(
            lambda: writer.insert_block(target, block, dedup_token=None), backoff, should_stop
        )
    return lander.stats


def _block(table: str, rows: list[Row]) -> dict[str, list[Any]]:
    block = Block(table)
    for row in rows:
        block.append(row)
    return block.columns()


@dataclass(slots=True)
class _Lander:
    writer: Writer
    backoff: Backoff
    table_map: dict[str, str]
    use_tokens: bool
    should_stop: Callable[[], bool]
    ingested_at: int
    processed_at: dt.datetime
    stats: LandingStats = field(default_factory=LandingStats)
    letters: list[Row] = field(default_factory=list)

    def rows(self, table: str, rows: list[Row], origins: list[Origin]) -> None:
        target = self.table_map.get(table, table)
        columns = _block(table, rows)
        token = dedup_token(table, origins) if self.use_tokens else None
        try:
            self.stats.retries += retry_unavailable(
                lambda: self.writer.insert_block(target, columns, dedup_token=token),
                self.backoff,
                self.should_stop,
            )
            self.stats.inserted += len(rows)
            return
        except ClickHouseRejected as refused:
            if len(rows) == 1:
                self._dead_letter(origins[0], f"{target}: {refused}")
                return
        # Bisect: the halves the engine accepts land; the refused rows are isolated one by one.
        half = len(rows) // 2
        self.rows(table, rows[:half], origins[:half])
        self.rows(table, rows[half:], origins[half:])

    def _dead_letter(self, origin: Origin, reason: str) -> None:
        letter = DeadLetter.for_record(
            status=origin.status,
            topic=origin.source.topic,
            partition=origin.source.partition,
            offset=origin.source.offset,
            raw=origin.raw,
            error=REJECTED,
            error_message=reason,
            processed_at=self.processed_at,
        )
        self.letters.append(dead_letter_row(letter, self.ingested_at))
        self.stats.rejected += 1
