"""The ClickHouse layer on both real engines: Debian's clickhouse-server (native protocol) and chdb.

Each test runs twice, on a fresh database of the session's server and on a fresh chdb data directory: the DDL
applies (twice), the tables match the row builders, redelivered rows are visible once through the views,
and failures surface as the documented errors.
"""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence

import pytest
from sinks_scenario import (
    CAMERA_ALERTS,
    DEAD_LETTERS,
    DISTINCT_COUNTS,
    GRID_REPORTS,
    INCIDENT_VERSIONS,
    INTAKE,
    REDELIVERED,
    RULE_OF,
    STORIES,
    TRANSITIONS,
)

from schemas.enums import MessageStatus
from schemas.messages import MessageUnion
from schemas.stages import CountyAlert
from sinks import (
    COLUMNS,
    ClickHouseRejected,
    ClickHouseUnavailable,
    EngineBusyError,
    Writer,
    apply_migrations,
    blocks_of,
    connect,
    with_database,
)
from sinks.ddl import TABLES, VIEWS, applied_versions, migration_status, migrations
from sinks.embedded import current_path
from sinks.rows import now_epoch


@pytest.fixture(params=["server", "chdb"])
def writer(request: pytest.FixtureRequest) -> Iterator[Writer]:
    """A writer on a fresh database: the session's clickhouse-server, or a fresh chdb directory."""
    if request.param == "server":
        url = with_database(request.getfixturevalue("clickhouse_url"), request.getfixturevalue("ch_database"))
    else:
        url = request.getfixturevalue("chdb_url")
    with connect(url) as opened:
        yield opened


def insert_all(
    writer: Writer, messages: Sequence[MessageUnion | CountyAlert], ingested_at: int = 1_772_409_600
) -> None:
    for table, columns in blocks_of(messages, ingested_at=ingested_at).items():
        writer.insert_block(table, columns)


def count(writer: Writer, table: str) -> int:
    value = writer.query(f"SELECT count() FROM {writer.database}.{table}").scalar()
    assert isinstance(value, int)
    return value


def test_migrations_apply_once_and_are_recorded(writer: Writer) -> None:
    first = apply_migrations(writer)
    second = apply_migrations(writer)

    assert first == [m.version for m in migrations()]
    assert second == []
    assert applied_versions(writer) == set(first)
    names = {
        str(row[0])
        for row in writer.query(f"SELECT name FROM system.tables WHERE database = '{writer.database}'").rows
    }
    assert {*TABLES, *VIEWS, "schema_version", "intake_hourly"} <= names
    recorded = writer.query(
        f"SELECT count(), uniqExact(version), any(engine_version) FROM {writer.database}.schema_version"
    ).rows[0]
    assert recorded[:2] == (len(first), len(first))
    assert recorded[2] == writer.dialect.version_text
    assert all(state.applied and not state.edited_since for state in migration_status(writer))


def test_tables_have_the_columns_the_row_builders_fill(writer: Writer) -> None:
    apply_migrations(writer)

    for table, expected in COLUMNS.items():
        rows = writer.query(
            f"SELECT name FROM system.columns WHERE database = '{writer.database}' AND table = '{table}'"
        ).rows
        assert tuple(str(row[0]) for row in rows) == expected, table


def test_redelivered_rows_are_visible_once_through_the_views(writer: Writer) -> None:
    apply_migrations(writer)
    insert_all(writer, [*INTAKE, *INCIDENT_VERSIONS, *TRANSITIONS, *DEAD_LETTERS])
    insert_all(writer, REDELIVERED, ingested_at=1_772_413_200)  # an hour later, as after a sink restart

    for view, expected in DISTINCT_COUNTS.items():
        assert count(writer, view) == expected, view
    # The duplicates did reach storage (no dedup token was given), so the views are what removed them.
    stored = sum(count(writer, table) for table in ("grid_reports", "camera_alerts", "dispositions"))
    assert stored > DISTINCT_COUNTS["events_distinct"]
    assert count(writer, "transitions") == len(TRANSITIONS) + 5


def test_incidents_latest_takes_the_highest_version_whatever_the_arrival_order(writer: Writer) -> None:
    apply_migrations(writer)
    versions = STORIES["C"].versions()
    insert_all(writer, list(reversed(versions)))
    insert_all(writer, versions[:2])

    rows = writer.query(
        f"SELECT version, status, level, reopen_count, toString(resolved_at), reasons "
        f"FROM {writer.database}.incidents_latest"
    ).rows
    assert rows == [
        (
            6,
            "closed",
            "township",
            1,
            "2026-03-03 16:00:00",
            [RULE_OF[step[1]] for step in STORIES["C"].steps],
        )
    ]


def test_values_round_trip_in_native_form(writer: Writer) -> None:
    apply_migrations(writer)
    insert_all(writer, [GRID_REPORTS[0], CAMERA_ALERTS[0], TRANSITIONS[0], DEAD_LETTERS[2]], now_epoch())
    db = writer.database

    report = writer.query(
        f"SELECT toString(event_id), message_status, occurred_at, raw FROM {db}.grid_reports"
    )
    alert = writer.query(f"SELECT alert_type, category, confidence, camera_id FROM {db}.camera_alerts")
    step = writer.query(
        f"SELECT from_status, from_level, to_level, reason, source_event_id FROM {db}.transitions"
    )
    letter = writer.query(f"SELECT raw_base64, raw_size, error_class FROM {db}.dead_letters")

    assert report.rows[0][:3] == (str(GRID_REPORTS[0].event_id), "exercise", "2026-03-02 08:00:00")
    assert '"phone":"13800000000"' in str(report.rows[0][3])  # the raw JSON as received
    assert alert.rows == [("fight", "fight", 0.75, CAMERA_ALERTS[0].camera_id)]
    assert step.rows == [(None, None, "grid", "initial_routing", str(TRANSITIONS[0].source_event_id))]
    assert letter.rows[0][1:] == (len(DEAD_LETTERS[2].raw), "decode_error")


def test_raw_json_expires_after_ninety_days_where_the_engine_has_ttl(writer: Writer) -> None:
    apply_migrations(writer)
    insert_all(writer, [GRID_REPORTS[1]], ingested_at=now_epoch() - 91 * 86_400)
    insert_all(writer, [GRID_REPORTS[2]], ingested_at=now_epoch())
    writer.execute(f"OPTIMIZE TABLE {writer.database}.grid_reports FINAL")

    rows = writer.query(
        f"SELECT description, raw != '' FROM {writer.database}.grid_reports ORDER BY description"
    )
    # The parsed columns stay either way; only the raw JSON (with the reporter's phone) is dropped.
    assert rows.rows == [("测试上报 rB", 0 if writer.dialect.has_ttl else 1), ("测试上报 rC", 1)]


def test_dedup_token_drops_a_repeated_block_where_the_engine_has_it(writer: Writer) -> None:
    apply_migrations(writer)
    block = blocks_of(TRANSITIONS, ingested_at=1)["transitions"]

    writer.insert_block("transitions", block, dedup_token="incident_transitions:0:0-24")
    writer.insert_block("transitions", block, dedup_token="incident_transitions:0:0-24")

    stored = count(writer, "transitions")
    if writer.dialect.has_dedup_token:
        assert stored == len(TRANSITIONS)
    else:  # 18.16: the token is not sent; the ReplacingMergeTree key and the view still collapse the copy
        assert stored == 2 * len(TRANSITIONS)
    assert count(writer, "transitions_distinct") == len(TRANSITIONS)


def test_materialized_hourly_counts_are_exact_under_redelivery(writer: Writer) -> None:
    apply_migrations(writer)
    insert_all(writer, GRID_REPORTS)
    insert_all(writer, GRID_REPORTS[:3])

    total = writer.query(
        f"SELECT sum(n) FROM (SELECT uniqExactMerge(events) AS n FROM {writer.database}.intake_hourly "
        "GROUP BY hour, kind, county_code, category)"
    ).scalar()
    assert total == len(GRID_REPORTS)


def test_rejected_statements_raise_clickhouse_rejected(writer: Writer) -> None:
    apply_migrations(writer)

    with pytest.raises(ClickHouseRejected) as caught:
        writer.query(f"SELECT no_such_column FROM {writer.database}.incidents")
    assert caught.value.code == 47  # UNKNOWN_IDENTIFIER
    with pytest.raises(ClickHouseRejected):
        writer.insert_block("no_such_table", {"x": [1]})
    with pytest.raises(ValueError, match="differ in length"):
        writer.insert_block("transitions", {"seq": [1, 2], "handling_unit": ["150802"]})


def test_unreachable_server_fails_within_the_connect_timeout() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()

    with pytest.raises(ClickHouseUnavailable) as caught:
        connect(f"clickhouse://default:@127.0.0.1:{port}/gridflow?connect_timeout=1")

    assert time.monotonic() - started < 5
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_chdb_engine_is_bound_to_one_directory_at_a_time(tmp_path_factory: pytest.TempPathFactory) -> None:
    first, second = tmp_path_factory.mktemp("chdb_a"), tmp_path_factory.mktemp("chdb_b")

    with connect(f"chdb://{first}") as a, connect(f"chdb://{first}?database=other") as shared:
        assert current_path() == str(first)
        assert a.query("SELECT 1").scalar() == shared.query("SELECT 1").scalar() == 1
        with pytest.raises(EngineBusyError, match=str(first)):
            connect(f"chdb://{second}")
    assert current_path() is None
    with connect(f"chdb://{second}") as b:
        assert b.query("SELECT 2").scalar() == 2


HOLD_SCRIPT = """
import sys, time
from chdb import session
held = session.Session(sys.argv[1])
held.query("SELECT 1")
print("holding", flush=True)
sys.stdin.read()
"""


def test_chdb_directory_held_by_another_process_is_reported(tmp_path_factory: pytest.TempPathFactory) -> None:
    held, free = tmp_path_factory.mktemp("chdb_held"), tmp_path_factory.mktemp("chdb_free")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SCRIPT, str(held)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with pytest.raises(EngineBusyError, match="in use by another process"):
            connect(f"chdb://{held}")
    finally:
        holder.communicate("", timeout=60)
    # The failed attempt leaves this process free to open another directory.
    with connect(f"chdb://{free}") as writer:
        assert writer.query("SELECT 3").scalar() == 3


def test_county_alerts_and_policy_columns_land_and_collapse(writer: Writer) -> None:
    T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    # Migration 0004: county alerts get a table and a view; incidents and transitions record the policy
    # they were decided under and the units notified.
    apply_migrations(writer)
    alert = CountyAlert(
        status=MessageStatus.EXERCISE,
        alert_id=CountyAlert.id_for("150802", "fight", T0),
        county_code="150802",
        category="fight",
        townships=("150802001", "150802002"),
        signal_ids=(uuid.UUID(int=1), uuid.UUID(int=2)),
        window_start=T0,
        at=T0,
        rule_id="K-CLU-001",
        policy_version="fengqiao/2026.1",
    )
    first = STORIES["C"].versions()[-1]
    version = first.model_copy(update={"notified_units": ("150802",), "policy_version": "fengqiao/2026.1"})
    step = TRANSITIONS[0].model_copy(update={"policy_version": "fengqiao/2026.1"})
    insert_all(writer, [alert, version, step])
    insert_all(writer, [alert])  # redelivered

    db = writer.database
    assert writer.query(
        f"SELECT count(), any(townships), any(policy_version) FROM {db}.county_alerts_distinct"
    ).rows == [(1, ["150802001", "150802002"], "fengqiao/2026.1")]
    assert writer.query(
        f"SELECT notified_units, policy_version FROM {db}.incidents_latest "
        f"WHERE incident_id = '{version.incident_id}'"
    ).rows == [(["150802"], "fengqiao/2026.1")]
    assert writer.query(f"SELECT DISTINCT policy_version FROM {db}.transitions_distinct").rows == [
        ("fengqiao/2026.1",)
    ]


def test_names_load_once_and_plain_levels_take_to_string(writer: Writer) -> None:
    from sinks.dimensions import load_dimensions

    apply_migrations(writer)
    first = load_dimensions(writer)
    second = load_dimensions(writer)
    insert_all(writer, TRANSITIONS)
    db = writer.database

    assert first["units"] == count(writer, "units") > 3000 and first["categories"] > 20
    assert second == {"units": 0, "categories": 0, "rules": 0, "policy_parameters": 0}
    assert writer.query(f"SELECT name FROM {db}.units WHERE code = '150823101'").scalar() == "西小召镇"
    levels = writer.query(f"SELECT DISTINCT toString(from_level) FROM {db}.transitions_named").rows
    assert ("",) in levels and ("grid",) in levels
    # What 18.16 refuses on the Nullable(Enum8) column of transitions_distinct works on the view.
    empty = writer.query(f"SELECT count() FROM {db}.transitions_named WHERE from_level = ''").scalar()
    assert (
        empty
        == writer.query(f"SELECT count() FROM {db}.transitions_distinct WHERE isNull(from_level)").scalar()
    )


def test_every_table_column_has_a_comment(writer: Writer) -> None:
    """Column comments are in the engine itself (system.columns, DESCRIBE), on 18.16 as on the current one."""
    apply_migrations(writer)
    db = writer.database
    tables = {
        str(name)
        for name, engine in writer.query(
            f"SELECT name, engine FROM system.tables WHERE database = '{db}'"
        ).rows
        if "View" not in str(engine)
    }
    rows = writer.query(f"SELECT table, name, comment FROM system.columns WHERE database = '{db}'").rows
    columns = [(str(t), str(c), str(text)) for t, c, text in rows if str(t) in tables]

    assert {"grid_reports", "incidents", "transitions", "units", "rules", "policy_parameters"} <= tables
    assert len(columns) > 150
    assert [(t, c) for t, c, text in columns if not text.strip()] == []
    described = {str(row[0]): str(row[4]) for row in writer.query(f"DESCRIBE TABLE {db}.incidents").rows}
    assert described["overdue"].startswith("1 when unresolved past the city deadline")


def test_rules_policy_and_pinyin_names_join_the_facts(writer: Writer) -> None:
    """An analyst can read a transition's rule ids and a unit's code back in words, in SQL alone."""
    from sinks.dimensions import load_dimensions

    apply_migrations(writer)
    loaded = load_dimensions(writer)
    # The scenario's transitions carry made-up rule ids; this one carries real ones.
    step = TRANSITIONS[0].model_copy(update={"rule_ids": ("C-RPT-009", "C-LVL-003", "E-UPG-001")})
    insert_all(writer, [step])
    db = writer.database

    assert loaded["rules"] > 60 and loaded["policy_parameters"] > 25
    assert writer.query(
        f"SELECT name, name_pinyin FROM {db}.units WHERE code IN ('150823101', '150800') ORDER BY code"
    ).rows == [("巴彦淖尔市", "Bayannaoer Shi"), ("西小召镇", "Xixiaozhao Zhen")]
    assert writer.query(f"SELECT count() FROM {db}.units WHERE name_pinyin = ''").scalar() == 0
    assert writer.query(
        f"SELECT family, levels, policy_version FROM {db}.rules WHERE rule_id = 'E-UPG-001'"
    ).rows == [("escalation", [], "fengqiao/2026.1")]
    assert writer.query(
        f"SELECT value, seconds FROM {db}.policy_parameters WHERE parameter = 'default_sla.grid'"
    ).rows == [("4 hours", 14_400)]
    # Every rule id the transition carries has a meaning (one JOIN, as 18.16 needs).
    named = writer.query(
        f"SELECT rule_id, meaning FROM (SELECT DISTINCT arrayJoin(rule_ids) AS rule_id "
        f"FROM {db}.transitions_distinct) AS fired "
        f"ANY LEFT JOIN (SELECT rule_id, meaning FROM {db}.rules) AS r USING (rule_id) ORDER BY rule_id"
    ).rows
    assert [rule for rule, _ in named] == ["C-LVL-003", "C-RPT-009", "E-UPG-001"]
    assert all(str(meaning) for _, meaning in named), named
