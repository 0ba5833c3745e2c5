"""Landing a batch on the real clickhouse-server: refused rows are isolated and dead-lettered."""

from __future__ import annotations

import datetime as dt
import uuid

from schemas.decode import decode_message
from schemas.enums import MessageStatus
from schemas.errors import DecodeError
from schemas.examples import examples
from schemas.messages import DeadLetter
from sinks import apply_migrations, connect, with_database
from sinks.backoff import Backoff
from sinks.landing import REJECTED, Origin, Pending, land
from sinks.queries import run_query
from sinks.rows import Source, dead_letter_row, grid_report_row


def test_a_refused_row_becomes_a_dead_letter_and_the_others_land(
    clickhouse_url: str, ch_database: str
) -> None:
    report = examples().report
    pending = Pending()
    for offset in range(7):
        msg = report.model_copy(update={"event_id": uuid.uuid4()})
        row = list(grid_report_row(msg, Source("t.intake.grid_reports", 2, offset), b"{}", 1_750_000_000))
        if offset == 4:
            row[10] = -1  # parties: UInt32 cannot hold it, so the block is refused
        pending.add(
            "grid_reports",
            tuple(row),
            Origin(Source("t.intake.grid_reports", 2, offset), b"{}", MessageStatus.EXERCISE),
        )
    with connect(with_database(clickhouse_url, ch_database)) as writer:
        apply_migrations(writer)
        stats = land(
            writer,
            pending,
            ingested_at=1_750_000_000,
            processed_at=dt.datetime(2025, 6, 17, tzinfo=dt.UTC),
            backoff=Backoff(first=0.01),
        )
        assert (stats.inserted, stats.rejected) == (6, 1)
        assert writer.query(f"SELECT count() FROM {ch_database}.grid_reports_distinct").scalar() == 6
        letters = writer.query(
            "SELECT error_class, source_topic, source_partition, source_offset "
            f"FROM {ch_database}.dead_letters"
        ).rows
        assert letters == [(REJECTED, "t.intake.grid_reports", 2, 4)]


def test_worker_and_sink_dead_letters_group_as_one_class(clickhouse_url: str, ch_database: str) -> None:
    """The sink's dead letter for bytes that do not decode and the worker's share one error class."""
    raw = b'{"kind": "grid_report", "truncated'
    try:
        decode_message(raw)
    except DecodeError as error:
        by_sink = DeadLetter.for_record(
            status=MessageStatus.EXERCISE,
            topic="t.intake.grid_reports",
            partition=0,
            offset=1,
            raw=raw,
            error=error,
            processed_at=dt.datetime(2025, 6, 17, tzinfo=dt.UTC),
        )
    # What the worker publishes for another such record (streams.runner), landed from the deadletter topic.
    by_worker = by_sink.model_copy(
        update={"dead_letter_id": uuid.uuid4(), "source_offset": 2, "error_class": "decode_error"}
    )
    pending = Pending()
    for letter in (by_sink, by_worker):
        origin = Origin(Source("t.deadletter", 0, letter.source_offset), raw, MessageStatus.EXERCISE)
        pending.add("dead_letters", dead_letter_row(letter, 1_750_000_000), origin)
    with connect(with_database(clickhouse_url, ch_database)) as writer:
        apply_migrations(writer)
        land(
            writer,
            pending,
            ingested_at=1_750_000_000,
            processed_at=dt.datetime(2025, 6, 17, tzinfo=dt.UTC),
            backoff=Backoff(first=0.01),
        )
        rows = run_query(writer, "dead_letters_by_error").rows
    assert [(row[1], row[2]) for row in rows] == [("decode_error", 2)]
