"""Row builders, enum codes, migration rendering and query pack files: the sinks parts needing no server."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any

import pytest
from sinks_scenario import (
    CAMERA_ALERTS,
    DEAD_LETTERS,
    DISPOSITIONS,
    EX,
    GRID_REPORTS,
    INCIDENT_VERSIONS,
    STORIES,
    T0,
    TRANSITIONS,
)

from schemas.enums import (
    AlertType,
    DispositionAction,
    IncidentStatus,
    Level,
    MessageStatus,
    TransitionReason,
)
from schemas.messages import ClockTick
from sinks import codes
from sinks.ddl import TABLES, migrations
from sinks.dialect import Dialect, parse_version
from sinks.queries import QueryPackError, get_query, load_queries
from sinks.rows import (
    COLUMNS,
    NO_SOURCE,
    Batch,
    Block,
    Source,
    blocks_of,
    camera_alert_row,
    dead_letter_row,
    grid_report_row,
    incident_row,
    transition_row,
    unit_level,
)

OLD = Dialect((18, 16, 1))
NEW = Dialect((26, 9, 2, 1))


def named(table: str, row: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(COLUMNS[table], row, strict=True))


@pytest.mark.parametrize(
    ("enum", "table"),
    [
        (MessageStatus, codes.MESSAGE_STATUS),
        (AlertType, codes.ALERT_TYPE),
        (DispositionAction, codes.DISPOSITION_ACTION),
        (IncidentStatus, codes.INCIDENT_STATUS),
        (TransitionReason, codes.TRANSITION_REASON),
    ],
)
def test_every_enum_member_has_a_distinct_code(enum: type, table: dict[str, int]) -> None:
    assert set(table) == {member.value for member in enum}  # type: ignore[attr-defined]
    assert len(set(table.values())) == len(table)
    assert all(0 < code < 128 for code in table.values())


def test_level_codes_are_the_level_numbers() -> None:
    assert {int(level) for level in Level} == set(codes.LEVEL_NAMES)
    assert codes.enum8(codes.LEVEL_NAMES) == (
        "Enum8('grid' = 1, 'village' = 2, 'township' = 3, 'county' = 4, 'city' = 5)"
    )


def test_enum8_renders_codes_in_order() -> None:
    assert codes.enum8({"b": 2, "a": 1}) == "Enum8('a' = 1, 'b' = 2)"


def test_grid_report_row_is_in_native_form() -> None:
    report = GRID_REPORTS[0]
    row = named("grid_reports", grid_report_row(report, Source("t", 3, 42), b"{}", 1_700_000_000))

    assert row["event_id"] == report.event_id
    assert row["message_status"] == codes.MESSAGE_STATUS[EX]
    assert row["occurred_at"] == int(T0.timestamp()) and isinstance(row["occurred_at"], int)
    assert row["township_code"] == report.grid_code[:9] and row["county_code"] == report.grid_code[:6]
    assert (row["source_topic"], row["source_partition"], row["source_offset"]) == ("t", 3, 42)
    assert row["severity_hint"] is None
    # The phone number is personal data: only the raw JSON keeps it, never a column.
    assert report.reporter.phone not in [str(v) for v in row.values()]


def test_camera_alert_row_maps_alert_type_to_code_and_category() -> None:
    alert = CAMERA_ALERTS[3]  # fire_smoke
    row = named("camera_alerts", camera_alert_row(alert, NO_SOURCE, b"{}", 0))

    assert row["alert_type"] == codes.ALERT_TYPE[AlertType.FIRE_SMOKE]
    assert row["category"] == "fire"


def test_incident_row_converts_times_levels_and_optionals() -> None:
    merged = STORIES["H"].versions()[-1]
    row = named("incidents", incident_row(merged, 5))

    assert row["level"] == 2 and row["status"] == codes.INCIDENT_STATUS[IncidentStatus.MERGED]
    assert row["merged_into"] == STORIES["G"].incident_id
    assert row["resolved_at"] is None and isinstance(row["due_at"], int)
    assert row["source_event_ids"] == list(merged.source_event_ids)
    assert row["overdue"] == 0 and row["ingested_at"] == 5


def test_first_transition_has_null_from_columns() -> None:
    first = TRANSITIONS[0]
    row = named("transitions", transition_row(first, 0))

    assert row["from_status"] is None and row["from_level"] is None
    assert row["reason"] == codes.TRANSITION_REASON[TransitionReason.INITIAL_ROUTING]
    assert row["rule_ids"] == ["E-ROUTE-001"]


def test_dead_letter_keeps_raw_bytes_exactly_and_a_readable_preview() -> None:
    letter = DEAD_LETTERS[1]
    row = named("dead_letters", dead_letter_row(letter, 0))

    assert base64.b64decode(row["raw_base64"]) == letter.raw
    assert row["raw_preview"].startswith("\ufffd\ufffd binary")


@pytest.mark.parametrize(
    ("code", "level"),
    [("150802001001001", 1), ("150802001001", 2), ("150802001", 3), ("150821", 4), ("150800", 5)],
)
def test_unit_level_from_code(code: str, level: int) -> None:
    assert unit_level(code) == level


def test_blocks_of_splits_by_table_and_skips_clock_ticks() -> None:
    tick = ClockTick(status=MessageStatus.EXERCISE, source="sim", partition=0, at=T0, seq=1)
    blocks = blocks_of([*GRID_REPORTS, *DISPOSITIONS, tick, *INCIDENT_VERSIONS[:3]], ingested_at=7)

    assert set(blocks) == {"grid_reports", "dispositions", "incidents"}
    assert len(blocks["grid_reports"]["event_id"]) == len(GRID_REPORTS)
    assert blocks["incidents"]["ingested_at"] == [7, 7, 7]
    assert list(blocks["dispositions"]) == list(COLUMNS["dispositions"])


def test_batch_counts_and_clears() -> None:
    batch = Batch()
    for report in GRID_REPORTS:
        assert batch.add_intake(report, NO_SOURCE, b"{}", 1)
    batch.add_message(TRANSITIONS[0], ingested_at=1)

    assert len(batch) == len(GRID_REPORTS) + 1
    batch.clear()
    assert len(batch) == 0 and batch.blocks() == {}


def test_block_rejects_a_row_of_the_wrong_width() -> None:
    with pytest.raises(ValueError, match="transitions"):
        Block("transitions").append((uuid.uuid4(),))


def test_every_table_has_a_column_list() -> None:
    assert set(COLUMNS) == set(TABLES)


@pytest.mark.parametrize("dialect", [OLD, NEW], ids=["18.16", "26.9"])
def test_migrations_render_without_leftover_placeholders(dialect: Dialect) -> None:
    for migration in migrations():
        for statement in migration.statements("gf_test", dialect):
            assert "{" not in statement and "}" not in statement, statement
            assert "--" not in statement.split("\n", 1)[0]


def test_old_server_gets_no_ttl_no_dedup_window_and_the_low_cardinality_setting() -> None:
    old = " ".join(s for m in migrations() for s in m.statements("g", OLD))
    new = " ".join(s for m in migrations() for s in m.statements("g", NEW))

    assert "TTL" not in old and "non_replicated_deduplication_window" not in old
    assert "TTL ingested_at" in new and "non_replicated_deduplication_window" in new
    assert OLD.ddl_settings() == {"allow_experimental_low_cardinality_type": 1} and NEW.ddl_settings() == {}
    assert OLD.insert_settings("tok") == {} and NEW.insert_settings("tok") == {
        "insert_deduplication_token": "tok"
    }


def test_parse_version() -> None:
    assert parse_version("18.16.1") == (18, 16, 1)
    assert parse_version('"26.9.2.1"') == (26, 9, 2, 1)
    assert parse_version("24.3.1.2672-lts") == (24, 3, 1, 2672)
    with pytest.raises(ValueError):
        parse_version("unknown")


def test_migration_files_are_numbered_from_one_without_gaps() -> None:
    assert [m.version for m in migrations()] == list(range(1, len(migrations()) + 1))


def test_every_query_states_its_question_and_uses_the_db_placeholder() -> None:
    queries = load_queries()

    assert len(queries) >= 10
    for query in queries.values():
        assert query.question.endswith("?"), query.name
        assert "{db}." in query.template
        assert "{db}" not in query.render("gridflow")


def test_unknown_query_and_bad_database_name_are_refused() -> None:
    with pytest.raises(QueryPackError, match="reopen_rate"):
        get_query("nope")
    with pytest.raises(QueryPackError):
        get_query("reopen_rate").render("x; DROP")


def test_normalise_makes_driver_values_match_the_engines_text_forms() -> None:
    from sinks.writer import normalise

    stamp = dt.datetime(2026, 3, 2, 8, 0, 5)
    assert normalise(stamp) == "2026-03-02 08:00:05"
    assert normalise(uuid.UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    assert normalise(float("nan")) is None and normalise(float("inf")) is None
    assert normalise(0.699999988079071, float32=True) == 0.7  # Float32 0.7 as the engine prints it
    assert normalise((1, (2.5, None))) == [1, [2.5, None]]
    assert normalise(True) == 1


def test_server_error_text_is_cut_to_its_first_line() -> None:
    from sinks.native import _first_line

    message = "DB::Exception: Unknown identifier: position. Stack trace:\n\n0. /lib/libclickhouse.so"
    assert _first_line(message) == "Unknown identifier: position"
    assert _first_line("DB::Exception: Table x doesn't exist., Stack trace:") == "Table x doesn't exist."
