"""Row builders: decoded messages → column-wise blocks in ClickHouse's native form, one block per table.

Values are converted once, here, into what the engines take without further work: epoch seconds (int) for
``DateTime``, integer codes (:mod:`sinks.codes`) for ``Enum8``, ``uuid.UUID`` for ``UUID``, lists for
``Array``, ``None`` for ``Nullable``. (clickhouse-driver converts ``datetime`` objects one by one in Python;
with epoch ints the same blocks insert 1.5-3x faster, see ``bench/bench_insert.py``.)

Typical use in a sink::

    batch = Batch()
    for record in records:
        batch.add_intake(decode_intake(record.value), Source(record.topic, record.partition, record.offset),
                         record.value, ingested_at)
    for table, columns in batch.blocks().items():
        writer.insert_block(table, columns, dedup_token=...)
    batch.clear()

:data:`COLUMNS` is the column order of every table; a test checks it against the DDL.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from schemas import encode
from schemas.enums import AlertType
from schemas.geography import CITY_CODE
from schemas.messages import (
    CameraAlert,
    DeadLetter,
    Disposition,
    GridReport,
    Incident,
    IntakeUnion,
    MessageUnion,
    Transition,
)
from schemas.stages import CountyAlert
from schemas.taxonomy import taxonomy
from sinks.codes import (
    ALERT_TYPE,
    DISPOSITION_ACTION,
    INCIDENT_STATUS,
    MESSAGE_STATUS,
    TRANSITION_REASON,
)

Row = tuple[Any, ...]
Columns = dict[str, list[Any]]

_SOURCE = ("source_topic", "source_partition", "source_offset", "raw", "ingested_at")
COLUMNS: Final[Mapping[str, tuple[str, ...]]] = {
    "grid_reports": (
        "event_id",
        "message_status",
        "grid_code",
        "township_code",
        "county_code",
        "category",
        "occurred_at",
        "reported_at",
        "lon",
        "lat",
        "parties",
        "injured",
        "severity_hint",
        "reporter_id",
        "description",
        *_SOURCE,
    ),
    "camera_alerts": (
        "event_id",
        "message_status",
        "camera_id",
        "grid_code",
        "township_code",
        "county_code",
        "alert_type",
        "category",
        "confidence",
        "object_count",
        "detected_at",
        "lon",
        "lat",
        "snapshot_sha256",
        *_SOURCE,
    ),
    "dispositions": (
        "event_id",
        "message_status",
        "incident_id",
        "grid_code",
        "township_code",
        "county_code",
        "unit_code",
        "unit_level",
        "action",
        "at",
        "note",
        "body",
        "outcome",
        *_SOURCE,
    ),
    "incidents": (
        "incident_id",
        "message_status",
        "category",
        "severity",
        "level",
        "handling_unit",
        "grid_code",
        "township_code",
        "county_code",
        "status",
        "source_event_ids",
        "opened_at",
        "due_at",
        "resolved_at",
        "updated_at",
        "version",
        "reasons",
        "overdue",
        "reopen_count",
        "merged_into",
        "notified_units",
        "policy_version",
        "lead_body",
        "co_bodies",
        "body_rule",
        "ingested_at",
    ),
    "transitions": (
        "transition_id",
        "message_status",
        "incident_id",
        "seq",
        "from_status",
        "to_status",
        "from_level",
        "to_level",
        "reason",
        "at",
        "rule_ids",
        "source_event_id",
        "handling_unit",
        "notified_units",
        "policy_version",
        "lead_body",
        "co_bodies",
        "body_rule",
        "ingested_at",
    ),
    "county_alerts": (
        "alert_id",
        "message_status",
        "county_code",
        "category",
        "townships",
        "signal_ids",
        "window_start",
        "at",
        "rule_id",
        "policy_version",
        "ingested_at",
    ),
    "dead_letters": (
        "dead_letter_id",
        "message_status",
        "source_topic",
        "source_partition",
        "source_offset",
        "raw_base64",
        "raw_preview",
        "raw_size",
        "error_class",
        "error_message",
        "processed_at",
        "ingested_at",
    ),
}
TABLE_OF_KIND: Final[Mapping[str, str]] = {
    "grid_report": "grid_reports",
    "camera_alert": "camera_alerts",
    "disposition": "dispositions",
    "incident": "incidents",
    "transition": "transitions",
    "dead_letter": "dead_letters",
}
# A dead letter's raw bytes are kept exactly (base64); this many characters are also kept readable.
RAW_PREVIEW_CHARS: Final = 200
_LEVEL_BY_CODE_LENGTH: Final = {15: 1, 12: 2, 9: 3, 6: 4}


@dataclass(frozen=True, slots=True)
class Source:
    """Where a raw record was read: its Kafka coordinates."""

    topic: str
    partition: int
    offset: int


NO_SOURCE: Final = Source("", 0, 0)


def epoch(moment: dt.datetime) -> int:
    """Whole seconds since the epoch of an aware datetime (ClickHouse ``DateTime`` native form)."""
    return int(moment.timestamp())


def epoch_or_none(moment: dt.datetime | None) -> int | None:
    """:func:`epoch` for a ``Nullable(DateTime)``."""
    return None if moment is None else int(moment.timestamp())


def now_epoch() -> int:
    """The wall clock as epoch seconds: only for ``ingested_at``, which is recorded, never decided on."""
    return int(dt.datetime.now(dt.UTC).timestamp())


@functools.cache
def _alert_categories() -> dict[AlertType, str]:
    return dict(taxonomy().alert_categories)


def unit_level(code: str) -> int:
    """The level (1 grid … 5 city) of a unit code, from its length (the city is the one 6-digit exception)."""
    if code == CITY_CODE:
        return 5
    return _LEVEL_BY_CODE_LENGTH[len(code)]


def grid_report_row(msg: GridReport, source: Source, raw: bytes, ingested_at: int) -> Row:
    """A ``grid_reports`` row. The reporter's phone is not a column (personal data); it stays in ``raw``."""
    grid = msg.grid_code
    return (
        msg.event_id,
        MESSAGE_STATUS[msg.status],
        grid,
        grid[:9],
        grid[:6],
        msg.category,
        epoch(msg.occurred_at),
        epoch(msg.reported_at),
        msg.location.lon,
        msg.location.lat,
        msg.parties,
        msg.injured,
        msg.severity_hint,
        msg.reporter.id,
        msg.description,
        source.topic,
        source.partition,
        source.offset,
        raw.decode("utf-8", errors="replace"),
        ingested_at,
    )


def camera_alert_row(msg: CameraAlert, source: Source, raw: bytes, ingested_at: int) -> Row:
    """A ``camera_alerts`` row; ``category`` is the taxonomy category the alarm type opens."""
    grid = msg.grid_code
    return (
        msg.event_id,
        MESSAGE_STATUS[msg.status],
        msg.camera_id,
        grid,
        grid[:9],
        grid[:6],
        ALERT_TYPE[msg.alert_type],
        _alert_categories().get(msg.alert_type, msg.alert_type.value),
        msg.confidence,
        msg.object_count,
        epoch(msg.detected_at),
        msg.location.lon,
        msg.location.lat,
        msg.snapshot_sha256,
        source.topic,
        source.partition,
        source.offset,
        raw.decode("utf-8", errors="replace"),
        ingested_at,
    )


def disposition_row(msg: Disposition, source: Source, raw: bytes, ingested_at: int) -> Row:
    """A ``dispositions`` row; ``unit_level`` is the level of the unit that acted."""
    grid = msg.grid_code
    return (
        msg.event_id,
        MESSAGE_STATUS[msg.status],
        msg.incident_id,
        grid,
        grid[:9],
        grid[:6],
        msg.unit_code,
        unit_level(msg.unit_code),
        DISPOSITION_ACTION[msg.action],
        epoch(msg.at),
        msg.note,
        msg.body,
        msg.outcome or "",
        source.topic,
        source.partition,
        source.offset,
        raw.decode("utf-8", errors="replace"),
        ingested_at,
    )


def incident_row(msg: Incident, ingested_at: int) -> Row:
    """An ``incidents`` row (one version of the incident)."""
    return (
        msg.incident_id,
        MESSAGE_STATUS[msg.message_status],
        msg.category,
        msg.severity,
        int(msg.level),
        msg.handling_unit,
        msg.grid_code,
        msg.township_code,
        msg.county_code,
        INCIDENT_STATUS[msg.status],
        list(msg.source_event_ids),
        epoch(msg.opened_at),
        epoch_or_none(msg.due_at),
        epoch_or_none(msg.resolved_at),
        epoch(msg.updated_at),
        msg.version,
        list(msg.reasons),
        int(msg.overdue),
        msg.reopen_count,
        msg.merged_into,
        list(msg.notified_units),
        msg.policy_version,
        msg.lead_body,
        list(msg.co_bodies),
        msg.body_rule,
        ingested_at,
    )


def transition_row(msg: Transition, ingested_at: int) -> Row:
    """A ``transitions`` row."""
    return (
        msg.transition_id,
        MESSAGE_STATUS[msg.status],
        msg.incident_id,
        msg.seq,
        None if msg.from_status is None else INCIDENT_STATUS[msg.from_status],
        INCIDENT_STATUS[msg.to_status],
        None if msg.from_level is None else int(msg.from_level),
        int(msg.to_level),
        TRANSITION_REASON[msg.reason],
        epoch(msg.at),
        list(msg.rule_ids),
        msg.source_event_id,
        msg.handling_unit,
        list(msg.notified_units),
        msg.policy_version,
        msg.lead_body,
        list(msg.co_bodies),
        msg.body_rule,
        ingested_at,
    )


def county_alert_row(msg: CountyAlert, ingested_at: int) -> Row:
    """A ``county_alerts`` row."""
    return (
        msg.alert_id,
        MESSAGE_STATUS[msg.status],
        msg.county_code,
        msg.category,
        list(msg.townships),
        list(msg.signal_ids),
        epoch(msg.window_start),
        epoch(msg.at),
        msg.rule_id,
        msg.policy_version,
        ingested_at,
    )


def dead_letter_row(msg: DeadLetter, ingested_at: int) -> Row:
    """A ``dead_letters`` row: raw bytes exactly (base64, as on the wire) plus a readable preview."""
    return (
        msg.dead_letter_id,
        MESSAGE_STATUS[msg.status],
        msg.source_topic,
        msg.source_partition,
        msg.source_offset,
        base64.b64encode(msg.raw).decode("ascii"),
        msg.raw[: RAW_PREVIEW_CHARS * 4].decode("utf-8", errors="replace")[:RAW_PREVIEW_CHARS],
        msg.raw_size,
        msg.error_class,
        msg.error_message,
        epoch(msg.processed_at),
        ingested_at,
    )


def intake_row(msg: IntakeUnion, source: Source, raw: bytes, ingested_at: int) -> tuple[str, Row] | None:
    """The table and row for an intake message; ``None`` for a clock tick (ticks are not stored)."""
    if isinstance(msg, GridReport):
        return "grid_reports", grid_report_row(msg, source, raw, ingested_at)
    if isinstance(msg, CameraAlert):
        return "camera_alerts", camera_alert_row(msg, source, raw, ingested_at)
    if isinstance(msg, Disposition):
        return "dispositions", disposition_row(msg, source, raw, ingested_at)
    return None  # a clock tick


_INTAKE_TYPES: Final = (GridReport, CameraAlert, Disposition)


def message_row(
    msg: MessageUnion | CountyAlert,
    source: Source = NO_SOURCE,
    raw: bytes | None = None,
    ingested_at: int | None = None,
) -> tuple[str, Row] | None:
    """The table and row for any message (``raw`` defaults to the message's JSON); ``None`` for ticks."""
    landed = now_epoch() if ingested_at is None else ingested_at
    # Most frequent kinds first: this runs once per record. (A tuple, not a ``X | Y`` union: isinstance
    # with a union object is several times slower.)
    if isinstance(msg, _INTAKE_TYPES):
        return intake_row(msg, source, encode(msg) if raw is None else raw, landed)
    if isinstance(msg, Transition):
        return "transitions", transition_row(msg, landed)
    if isinstance(msg, Incident):
        return "incidents", incident_row(msg, landed)
    if isinstance(msg, DeadLetter):
        return "dead_letters", dead_letter_row(msg, landed)
    if isinstance(msg, CountyAlert):
        return "county_alerts", county_alert_row(msg, landed)
    return None  # a clock tick: not stored


class Block:
    """A growing batch for one table: rows are kept as tuples and turned column-wise in one pass."""

    __slots__ = ("_names", "_rows", "table")

    def __init__(self, table: str) -> None:
        self.table = table
        self._names = COLUMNS[table]
        self._rows: list[Row] = []

    def append(self, row: Row) -> None:
        """Add one row, given in :data:`COLUMNS` order."""
        if len(row) != len(self._names):
            raise ValueError(f"{self.table}: row has {len(row)} values, table has {len(self._names)} columns")
        self._rows.append(row)

    def __len__(self) -> int:
        return len(self._rows)

    def columns(self) -> Columns:
        """The block as ``{column: values}`` (new lists; transposed by ``zip`` in C, not value by value)."""
        if not self._rows:
            return {name: [] for name in self._names}
        transposed = zip(*self._rows, strict=True)
        return {name: list(values) for name, values in zip(self._names, transposed, strict=True)}

    def clear(self) -> None:
        """Empty the block."""
        self._rows = []


class Batch:
    """One :class:`Block` per table, filled message by message; what the sink flushes in one go."""

    def __init__(self) -> None:
        self._blocks: dict[str, Block] = {table: Block(table) for table in COLUMNS}

    def add(self, table: str, row: Row) -> None:
        """Add a row built by one of the ``*_row`` functions to ``table``'s block."""
        self._blocks[table].append(row)

    def add_intake(self, msg: IntakeUnion, source: Source, raw: bytes, ingested_at: int) -> bool:
        """Add an intake message; False for a clock tick, which is not stored."""
        built = intake_row(msg, source, raw, ingested_at)
        if built is None:
            return False
        self._blocks[built[0]].append(built[1])
        return True

    def add_message(
        self,
        msg: MessageUnion | CountyAlert,
        source: Source = NO_SOURCE,
        raw: bytes | None = None,
        ingested_at: int | None = None,
    ) -> bool:
        """Add any message (see :func:`message_row`); False for a clock tick."""
        built = message_row(msg, source, raw, ingested_at)
        if built is None:
            return False
        self._blocks[built[0]].append(built[1])
        return True

    def __len__(self) -> int:
        return sum(len(block) for block in self._blocks.values())

    def blocks(self) -> dict[str, Columns]:
        """The non-empty blocks by table."""
        return {table: block.columns() for table, block in self._blocks.items() if len(block)}

    def clear(self) -> None:
        """Empty every block (call after the insert, in ``finally``, as the sink batches)."""
        for block in self._blocks.values():
            block.clear()


def blocks_of(
    messages: Iterable[MessageUnion | CountyAlert], ingested_at: int | None = None
) -> dict[str, Columns]:
    """Column-wise blocks by table for ``messages`` (tests, replays and the benchmark)."""
    batch = Batch()
    landed = now_epoch() if ingested_at is None else ingested_at
    for msg in messages:
        batch.add_message(msg, ingested_at=landed)
    return batch.blocks()
