"""The negative control's tables: plain MergeTree copies of the base tables, with no deduplication at all.

``gridflow sink --no-dedup`` exists ONLY so that the fault tests can show their oracle is able to fail. It
writes every row to ``<table>_nodedup`` (a plain ``MergeTree``: no replacing merges, no insert
deduplication window) and sends no ``insert_deduplication_token``. Nothing collapses a redelivered row
there, so after a crash of the sink between an insert and its offset commit the oracle counts duplicates.
Never use it for real data: analysts' views read the deduplicated base tables, which this mode bypasses.
"""

from __future__ import annotations

from typing import Final

from sinks.ddl import TABLES
from sinks.writer import Writer

SUFFIX: Final = "_nodedup"
_ID_COLUMN: Final = {
    "grid_reports": "event_id",
    "camera_alerts": "event_id",
    "dispositions": "event_id",
    "incidents": "incident_id",
    "transitions": "transition_id",
    "dead_letters": "dead_letter_id",
    "county_alerts": "alert_id",
}


def nodedup_tables(writer: Writer) -> dict[str, str]:
    """Create the plain copies where missing; returns ``{table: its copy}`` for :func:`sinks.landing.land`."""
    names: dict[str, str] = {}
    for table in TABLES:
        copy = table + SUFFIX
        writer.execute(
            f"CREATE TABLE IF NOT EXISTS {writer.database}.{copy} AS {writer.database}.{table} "
            f"ENGINE = MergeTree() ORDER BY {_ID_COLUMN[table]}",
            settings=writer.dialect.ddl_settings(),
        )
        names[table] = copy
    return names
