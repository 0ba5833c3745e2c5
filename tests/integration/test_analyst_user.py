"""The read-only ``analyst`` user of the local clickhouse-server (its users.xml template in
gridflow/services/templates/clickhouse-users.xml).

Analysts may read everything and change nothing: SELECT works, INSERT and CREATE are refused by the server
(readonly=1), whatever client they use.
"""

from __future__ import annotations

import pytest

from infra.settings import ServiceSettings
from sinks import ClickHouseRejected, connect, parse_url
from sinks.url import NativeUrl


def _analyst_url(clickhouse_url: str, database: str, settings: ServiceSettings) -> str:
    server = parse_url(clickhouse_url)
    assert isinstance(server, NativeUrl)
    if server.port != settings.clickhouse_tcp_port:
        pytest.skip("the analyst user is configured by `gridflow services`; this server came from elsewhere")
    password = settings.analyst_password.get_secret_value()
    return f"clickhouse://analyst:{password}@{server.host}:{server.port}/{database}"


def test_analyst_can_select_but_not_insert_or_create(
    clickhouse_url: str, ch_database: str, test_settings: ServiceSettings
) -> None:
    with connect(f"{clickhouse_url.rsplit('/', 1)[0]}/{ch_database}") as admin:
        admin.execute(f"CREATE TABLE {ch_database}.facts (n UInt32) ENGINE = MergeTree() ORDER BY n")
        admin.insert_block("facts", {"n": [1, 2, 3]})
    with connect(_analyst_url(clickhouse_url, ch_database, test_settings)) as analyst:
        assert analyst.query(f"SELECT sum(n) FROM {ch_database}.facts").scalar() == 6
        with pytest.raises(ClickHouseRejected) as refused_insert:
            analyst.insert_block("facts", {"n": [4]})
        with pytest.raises(ClickHouseRejected) as refused_create:
            analyst.execute(f"CREATE TABLE {ch_database}.mine (n UInt32) ENGINE = Memory")
        with pytest.raises(ClickHouseRejected):
            analyst.execute(f"DROP TABLE {ch_database}.facts")
        assert analyst.query(f"SELECT count() FROM {ch_database}.facts").scalar() == 3
    assert refused_insert.value.code == refused_create.value.code == 164  # READONLY
