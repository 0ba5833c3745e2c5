"""Landing a batch on the real clickhouse-server: refused rows are isolated and dead-lettered."""

from __future__ import annotations

import datetime as dt
import uuid

from schemas.enums import MessageStatus
from schemas.examples import examples
from sinks import apply_migrations, connect, with_database
from sinks.backoff import Backoff
from sinks.landing import REJECTED, Origin, Pending, land
from sinks.rows import Source, grid_report_row


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
