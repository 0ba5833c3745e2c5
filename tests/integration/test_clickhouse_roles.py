"""ClickHouse users by role on the local clickhouse-server (users.xml from gridflow/services, sinks/roles.py).

A server of the test's own (its users.xml binds the role users to one database name) gets the schema, two
grid reports from different counties and the role databases; then each user tries what its role allows and
what it must not do.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from gridflow.services.clickhouse import ClickHouseService
from gridflow.services.process import free_port
from infra.passwords import passwords_file, read_passwords
from infra.settings import ClickHouseSettings, ServiceSettings, local_clickhouse_binary, sink_url
from schemas.examples import examples
from schemas.geography import geography
from sinks import ClickHouseRejected, connect
from sinks.ddl import apply_migrations
from sinks.dimensions import load_dimensions
from sinks.roles import analyst_database, apply_roles, county_database
from sinks.rows import COLUMNS, Source, grid_report_row
from sinks.writer import Writer

pytestmark = pytest.mark.skipif(local_clickhouse_binary() is None, reason="needs clickhouse-server on PATH")

SETTINGS = {"analyst": "analyst-pw-1"}
PASSWORDS: dict[str, str] = {}  # the writer's and the county users', read from the state directory


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str]]:
    database = f"gfroles_{uuid.uuid4().hex[:8]}"
    mp = pytest.MonkeyPatch()
    mp.setenv("GRIDFLOW_CLICKHOUSE_DATABASE", database)
    settings = ServiceSettings(
        state_dir=tmp_path_factory.mktemp("roles-state"),
        clickhouse_tcp_port=free_port(),
        clickhouse_http_port=free_port(),
        analyst_password=SecretStr(SETTINGS["analyst"]),
        start_timeout_s=90,
    )
    service = ClickHouseService(settings)
    service.up()
    PASSWORDS.update(read_passwords(settings.state))
    try:
        port = settings.clickhouse_tcp_port
        with connect(f"clickhouse://default:@127.0.0.1:{port}/default") as admin:
            admin.execute(f"CREATE DATABASE {database}")
        with connect(f"clickhouse://default:@127.0.0.1:{port}/{database}") as admin:
            apply_migrations(admin)
            load_dimensions(admin)
            _insert_reports(admin)
            made = apply_roles(admin)
            assert made[0] == analyst_database(database) and len(made) == 1 + len(geography().counties())
            assert apply_roles(admin) == made  # idempotent
        yield port, database
    finally:
        service.down()
        mp.undo()
        assert not Path(settings.state / "clickhouse" / "users.xml").stat().st_mode & 0o077
        assert not passwords_file(settings.state).stat().st_mode & 0o077


def _counties() -> tuple[str, str]:
    codes = [unit.code for unit in geography().counties()]
    return codes[0], codes[1]


def _insert_reports(admin: Writer) -> None:
    base = examples().report
    rows = []
    for i, county in enumerate(_counties()):
        grid = next(g.code for g in geography().grids() if g.code.startswith(county))
        report = base.model_copy(update={"event_id": uuid.uuid4(), "grid_code": grid})
        rows.append(grid_report_row(report, Source("t", 0, i), b'{"reporter":"pii_x"}', 0))
    admin.insert_block(
        "grid_reports", dict(zip(COLUMNS["grid_reports"], map(list, zip(*rows, strict=True)), strict=True))
    )


def _as(port: int, user: str, password: str, database: str) -> Writer:
    return connect(f"clickhouse://{user}:{password}@127.0.0.1:{port}/{database}")


def test_the_analyst_reads_its_database_but_no_raw_payload_and_changes_nothing(
    server: tuple[int, str],
) -> None:
    port, db = server
    mine = analyst_database(db)
    with _as(port, "analyst", SETTINGS["analyst"], mine) as analyst:
        assert analyst.query(f"SELECT count() FROM {mine}.grid_reports").scalar() == 2
        assert analyst.query(f"SELECT count() FROM {mine}.grid_reports_distinct").scalar() == 2
        assert analyst.query(f"SELECT uniqExact(reporter_id) FROM {mine}.grid_reports").scalar() == 1
        refused = [
            f"SELECT raw FROM {mine}.grid_reports",
            f"SELECT raw FROM {db}.grid_reports",
            f"SELECT count() FROM {db}.grid_reports",
            f"SELECT raw FROM {mine}.dead_letters",
            f"INSERT INTO {mine}.grid_reports (description) VALUES ('x')",
            f"ALTER TABLE {db}.grid_reports DELETE WHERE 1",
            f"ALTER TABLE {mine}.grid_reports DROP COLUMN description",
            f"DROP TABLE {mine}.grid_reports",
            f"DROP TABLE {db}.grid_reports",
            f"CREATE TABLE {mine}.mine (n UInt8) ENGINE = Memory",
        ]
        for sql in refused:
            with pytest.raises(ClickHouseRejected):
                analyst.execute(sql)
        with pytest.raises(ClickHouseRejected):
            analyst.insert_block("grid_reports", {"description": ["x"]})
    with _as(port, "default", "", db) as admin:
        assert admin.query(f"SELECT count() FROM {db}.grid_reports").scalar() == 2  # nothing changed


def test_a_county_user_sees_only_its_county(server: tuple[int, str]) -> None:
    port, db = server
    first, second = _counties()
    for county in (first, second):
        mine = county_database(db, county)
        with _as(port, f"county_{county}", PASSWORDS[f"county_{county}"], mine) as user:
            rows = user.query(f"SELECT county_code FROM {mine}.grid_reports").rows
            assert [str(r[0]) for r in rows] == [county]
            # the names of every unit, the other counties' too: the dimension tables hold no one's data
            other = second if county == first else first
            name = user.query(f"SELECT name FROM {mine}.units WHERE code = '{other}'").scalar()
            assert name == geography().unit(other).name
            for sql in (
                f"SELECT count() FROM {db}.grid_reports",
                f"SELECT count() FROM {analyst_database(db)}.grid_reports",
                f"SELECT raw FROM {mine}.grid_reports",
            ):
                with pytest.raises(ClickHouseRejected):
                    user.execute(sql)


def test_a_role_reads_a_table_rebuilt_by_a_migration_with_its_new_columns(server: tuple[int, str]) -> None:
    port, db = server
    with _as(port, "default", "", db) as admin:
        admin.execute(f"ALTER TABLE {db}.units ADD COLUMN name_test String DEFAULT 'x'")
        apply_roles(admin)
    with _as(port, "analyst", SETTINGS["analyst"], analyst_database(db)) as analyst:
        assert analyst.query(f"SELECT any(name_test) FROM {analyst_database(db)}.units").scalar() == "x"


def test_the_writer_inserts_but_cannot_drop_alter_or_create(server: tuple[int, str]) -> None:
    port, db = server
    with _as(port, "gridflow_writer", PASSWORDS["gridflow_writer"], db) as writer:
        _insert_reports(writer)
        for sql in (
            f"DROP TABLE {db}.grid_reports",
            f"ALTER TABLE {db}.grid_reports DROP COLUMN description",
            f"CREATE TABLE {db}.mine (n UInt8) ENGINE = Memory",
        ):
            with pytest.raises(ClickHouseRejected):
                writer.execute(sql)
    with _as(port, "default", "", db) as admin:
        assert admin.query(f"SELECT count() FROM {db}.grid_reports").scalar() == 4


def test_a_wrong_password_is_refused(server: tuple[int, str]) -> None:
    port, db = server
    with pytest.raises(Exception) as refused, _as(port, "analyst", "x-wrong-x", analyst_database(db)) as user:
        user.query("SELECT 1")
    assert "x-wrong-x" not in str(refused.value)


def test_each_county_user_has_its_own_password(server: tuple[int, str]) -> None:
    port, db = server
    first, second = _counties()
    assert len({PASSWORDS[f"county_{c.code}"] for c in geography().counties()}) == len(geography().counties())
    mine = county_database(db, first)
    wrong = PASSWORDS[f"county_{second}"]
    with pytest.raises(Exception) as refused, _as(port, f"county_{first}", wrong, mine) as user:
        user.query("SELECT 1")
    assert wrong not in str(refused.value)


def test_the_sink_reaches_the_local_server_as_the_writer(
    server: tuple[int, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, db = server
    monkeypatch.delenv("GRIDFLOW_CLICKHOUSE_URL", raising=False)
    state = tmp_path / "state"
    (state / "clickhouse").mkdir(parents=True)
    passwords_file(state).write_text(f"gridflow_writer={PASSWORDS['gridflow_writer']}\n")
    url = sink_url(
        ServiceSettings(state_dir=state, clickhouse_tcp_port=port), ClickHouseSettings(database=db)
    )
    assert url.startswith("clickhouse://gridflow_writer:")
    with connect(url) as writer:
        # 18.16 has no currentUser(): the query finds itself in system.processes.
        who = "SELECT user FROM system.processes WHERE query LIKE '%gf_whoami%'"
        assert writer.query(who).scalar() == "gridflow_writer"
        with pytest.raises(ClickHouseRejected):
            writer.execute(f"DROP TABLE {db}.grid_reports")
