"""The roles of sinks/access.py on the current engine, through chdb (the compose server cannot run here).

chdb cannot create users or log in as one (shown below), but it loads users.xml, whose grants are the same
GRANT/REVOKE text and whose row filters are the same expressions. So each role is loaded as chdb's only user,
``default``, and the engine enforces it: the analyst is refused INSERT, ALTER, DROP and the raw payloads; a
county user sees only its county, through the tables and through the views. chdb binds one data directory
per process, so every step runs in a process of its own.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from schemas.geography import geography
from sinks.access import (
    ANALYST,
    SCRIPT,
    WRITER,
    Role,
    county_user,
    main,
    migrated_shape,
    roles,
    script,
    statements,
    users_xml,
)

DB = "gf"

# Loads the store, then runs each query as the user of the config given (or none): {sql: "ok:<rows>" | code}.
RUN = textwrap.dedent(
    """
    import json, re, sys
    from chdb import session
    path, config, queries = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    s = session.Session(f"{path}?config-file={config}" if config else path)
    out = {}
    for sql in queries:
        try:
            out[sql] = "ok:" + s.query(sql, "TSV").bytes().decode().strip()
        except Exception as exc:
            m = re.search(r"Code: (\\d+)", str(exc))
            out[sql] = m.group(1) if m else str(exc)
    s.close()
    print(json.dumps(out))
    """
)

LOAD = textwrap.dedent(
    """
    import sys, uuid
    from schemas.examples import examples
    from schemas.geography import geography
    from sinks import connect
    from sinks.ddl import apply_migrations
    from sinks.dimensions import load_dimensions
    from sinks.rows import COLUMNS, Source, grid_report_row
    counties = sys.argv[2:4]
    with connect(f"chdb://{sys.argv[1]}?database=gf") as admin:
        apply_migrations(admin)
        load_dimensions(admin)
        rows = []
        for i, county in enumerate(counties):
            grid = next(g.code for g in geography().grids() if g.code.startswith(county))
            report = examples().report.model_copy(update={"event_id": uuid.uuid4(), "grid_code": grid})
            rows.append(grid_report_row(report, Source("t", 0, i), b'{"reporter":"pii_x"}', 0))
        block = dict(zip(COLUMNS["grid_reports"], map(list, zip(*rows, strict=True)), strict=True))
        admin.insert_block("grid_reports", block)
    """
)


def _counties() -> tuple[str, str]:
    codes = [unit.code for unit in geography().counties()]
    return codes[0], codes[1]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("access") / "store"
    subprocess.run([sys.executable, "-c", LOAD, str(path), *_counties()], check=True, timeout=120)
    return path


def _run(store: Path | str, config: Path | None, queries: list[str]) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(store), str(config or ""), json.dumps(queries)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _as(store: Path, role: Role, queries: list[str]) -> dict[str, str]:
    """Run ``queries`` with chdb's ``default`` user holding exactly ``role``'s rights."""
    users = store.parent / f"users-{role.user}.xml"
    users.write_text(users_xml(role, DB))
    config = store.parent / f"config-{role.user}.xml"
    config.write_text(
        f"<clickhouse><user_directories><users_xml><path>{users}</path></users_xml>"
        "</user_directories></clickhouse>\n"
    )
    return _run(store, config, queries)


def _role(user: str) -> Role:
    return next(r for r in roles(DB, migrated_shape()) if r.user == user)


DENIED = "497"  # ACCESS_DENIED
READONLY = "164"  # READONLY


def test_chdb_has_no_sql_access_control_and_always_runs_as_default(store: Path) -> None:
    """The minimal experiment behind loading roles through users.xml: CREATE USER, CREATE ROW POLICY and
    GRANT fail in a chdb session, and asking for another user changes nothing."""
    got = _run(
        store,
        None,
        [
            "SELECT currentUser()",
            "CREATE USER gf_probe IDENTIFIED WITH sha256_password BY 'x'",
            f"CREATE ROW POLICY gf_probe ON {DB}.grid_reports FOR SELECT USING 1 TO ALL",
            f"GRANT SELECT ON {DB}.* TO gf_probe",
        ],
    )
    assert got["SELECT currentUser()"] == "ok:default"
    assert [v for k, v in got.items() if k.startswith(("CREATE", "GRANT"))] == [DENIED, DENIED, "511"]
    asked = _run(f"{store.parent / 'other'}?user={ANALYST}", None, ["SELECT currentUser()"])
    assert asked == {"SELECT currentUser()": "ok:default"}


def test_every_statement_parses_on_the_current_engine(store: Path) -> None:
    sql = statements(DB, migrated_shape(), {r.user: "'pw'" for r in roles(DB, migrated_shape())})
    assert len(sql) > 20
    got = _run(store, None, [f"SELECT formatQuery({_literal(s)})" for s in sql])
    bad = {k: v for k, v in got.items() if not v.startswith("ok:")}
    assert not bad


def _literal(sql: str) -> str:
    return "'" + sql.replace("\\", "\\\\").replace("'", "\\'") + "'"


def test_the_analyst_reads_but_no_raw_payload_and_changes_nothing(store: Path) -> None:
    refused = [
        f"SELECT raw FROM {DB}.grid_reports",
        f"SELECT * FROM {DB}.grid_reports",
        f"SELECT raw FROM {DB}.camera_alerts",
        f"SELECT raw_preview FROM {DB}.dead_letters",
        f"SELECT raw_base64 FROM {DB}.dead_letters",
        f"INSERT INTO {DB}.grid_reports (description) VALUES ('x')",
        f"ALTER TABLE {DB}.grid_reports DELETE WHERE 1",
        f"ALTER TABLE {DB}.grid_reports DROP COLUMN description",
        f"DROP TABLE {DB}.grid_reports",
        f"CREATE TABLE {DB}.mine (n UInt8) ENGINE = Memory",
    ]
    allowed = [
        f"SELECT count() FROM {DB}.grid_reports",
        f"SELECT count() FROM {DB}.grid_reports_distinct",
        f"SELECT uniqExact(reporter_id) FROM {DB}.grid_reports",
        f"SELECT count() FROM {DB}.incidents_latest",
        f"SELECT error_class FROM {DB}.dead_letters",
    ]
    got = _as(store, _role(ANALYST), allowed + refused + ["SHOW GRANTS"])
    assert got[allowed[0]] == got[allowed[1]] == "ok:2"
    assert got[allowed[2]] == "ok:1"
    assert all(got[sql].startswith("ok:") for sql in allowed)
    assert {sql: got[sql] for sql in refused} == {sql: DENIED for sql in refused}
    assert f"REVOKE SELECT(raw) ON {DB}.grid_reports FROM default" in got["SHOW GRANTS"]


def test_a_county_user_sees_only_its_county(store: Path) -> None:
    for county, other in (_counties(), _counties()[::-1]):
        got = _as(
            store,
            _role(county_user(county)),
            [
                f"SELECT county_code FROM {DB}.grid_reports",
                f"SELECT county_code FROM {DB}.grid_reports_distinct",
                f"SELECT count() FROM {DB}.grid_reports WHERE county_code = '{other}'",
                f"SELECT raw FROM {DB}.grid_reports",
                f"SELECT count() FROM {DB}.transitions",
                f"INSERT INTO {DB}.grid_reports (description) VALUES ('x')",
                f"DROP TABLE {DB}.grid_reports",
                "SHOW GRANTS",
                f"SELECT name FROM {DB}.units WHERE code = '{other}'",
            ],
        )
        values = list(got.values())
        assert values[:3] == [f"ok:{county}", f"ok:{county}", "ok:0"]
        assert values[3:7] == [DENIED] * 4
        assert f"GRANT SELECT ON {DB}.grid_reports TO default" in values[7]
        assert f"GRANT SELECT ON {DB}.transitions" not in values[7]
        # the names of every unit, the other county's too: the dimension tables hold no one's data
        assert values[8] == f"ok:{geography().unit(other).name}"


def test_the_writer_inserts_but_cannot_drop_alter_or_create(store: Path) -> None:
    got = _as(
        store,
        _role(WRITER),
        [
            f"INSERT INTO {DB}.grid_reports SELECT * FROM {DB}.grid_reports LIMIT 1",
            f"SELECT count() FROM {DB}.grid_reports",
            f"DROP TABLE {DB}.grid_reports",
            f"ALTER TABLE {DB}.grid_reports DROP COLUMN description",
            f"CREATE TABLE {DB}.mine (n UInt8) ENGINE = Memory",
        ],
    )
    assert list(got.values()) == ["ok:", "ok:3", DENIED, DENIED, DENIED]


def test_the_compose_init_script_is_generated_from_the_same_roles() -> None:
    assert main(["--check"]) == 0, "run python -m sinks.access"
    text = SCRIPT.read_text()
    shape = migrated_shape()
    assert text == script(shape)
    # Every GRANT/REVOKE chdb is given appears in the script, for the same user.
    for role in roles("gridflow", shape):
        for clause in role.grants:
            grantee = " FROM " if clause.startswith("REVOKE") else " TO "
            assert f"{clause}{grantee}{role.user};" in text
    # No password is written in it: each comes from the user's environment variable.
    assert not re.search(r"^[^#].* BY '[^$]", text, re.MULTILINE)


def test_every_raw_column_and_every_county_table_is_covered() -> None:
    shape = migrated_shape()
    analyst = _role(ANALYST)
    for table, columns in shape.columns.items():
        for column in columns & {"raw", "raw_base64", "raw_preview"}:
            assert f"REVOKE SELECT({column}) ON {DB}.{table}" in analyst.grants
    county = _role(county_user(_counties()[0]))
    assert set(county.filtered) == {t for t in shape.tables if "county_code" in shape.columns[t]}
