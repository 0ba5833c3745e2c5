"""ClickHouse URL parsing (sinks.url): the accepted forms, defaults, and one-line errors for the rest."""

from __future__ import annotations

import pytest

from schemas.errors import GridflowError
from sinks.errors import ClickHouseUrlError
from sinks.url import ChdbUrl, NativeUrl, mask_password, parse_url, with_database


def test_server_url_with_everything() -> None:
    url = parse_url(
        "clickhouse://analyst:s%40cret@db.example:9440/gridflow_prod?secure=1&connect_timeout=1.5"
    )

    assert url == NativeUrl(
        host="db.example",
        port=9440,
        user="analyst",
        password="s@cret",
        database="gridflow_prod",
        options={"secure": True, "connect_timeout": 1.5},
    )
    assert url.connect_timeout == 1.5
    assert "s@cret" not in url.display() and "s@cret" not in repr(url)


def test_server_url_defaults_user_port_and_database() -> None:
    url = parse_url("clickhouse://127.0.0.1")

    assert isinstance(url, NativeUrl)
    assert (url.user, url.password, url.port, url.database) == ("default", "", 9000, "gridflow")
    assert url.connect_timeout == 3.0


def test_server_url_with_empty_password_and_trailing_slash() -> None:
    url = parse_url("clickhouse://default:@127.0.0.1:19000/")

    assert isinstance(url, NativeUrl)
    assert (url.user, url.password, url.port, url.database) == ("default", "", 19000, "gridflow")


def test_chdb_url_takes_path_and_database_parameter() -> None:
    assert parse_url("chdb:///var/lib/gridflow/chdb/") == ChdbUrl("/var/lib/gridflow/chdb", "gridflow")
    assert parse_url("chdb:///tmp/x?database=g2") == ChdbUrl("/tmp/x", "g2")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgres://localhost/db", "scheme postgres"),
        ("localhost:9000", "expected clickhouse://"),
        ("clickhouse:///gridflow", "no host"),
        ("clickhouse://host:notaport/db", "bad ClickHouse URL"),
        ("clickhouse://host:9000/grid-flow", "not a plain identifier"),
        ("clickhouse://host:9000/db?timeout=3", "unknown option 'timeout'"),
        ("clickhouse://host:9000/db?secure=maybe", "not a boolean"),
        ("clickhouse://host:9000/db?connect_timeout=0", "must be > 0"),
        ("chdb://relative/dir", "absolute data directory"),
        ("chdb://", "no data directory"),
        ("chdb:///tmp/x?user=me", "unknown option"),
        ("chdb:///tmp/x?database=1db", "not a plain identifier"),
    ],
)
def test_bad_urls_raise_one_line_errors_naming_url_and_expectation(url: str, says: str) -> None:
    with pytest.raises(ClickHouseUrlError) as caught:
        parse_url(url)

    message = str(caught.value)
    assert says in message
    assert "\n" not in message
    assert isinstance(caught.value, GridflowError) and isinstance(caught.value, ValueError)


def test_errors_never_show_the_password() -> None:
    with pytest.raises(ClickHouseUrlError) as caught:
        parse_url("clickhouse://u:hunter2@host:9000/bad-name")

    assert "hunter2" not in str(caught.value)
    assert "u:***@host" in str(caught.value)


def test_mask_password() -> None:
    assert mask_password("clickhouse://u:p@h:1/d") == "clickhouse://u:***@h:1/d"
    assert mask_password("clickhouse://u@h:1/d") == "clickhouse://u@h:1/d"


def test_with_database_replaces_the_database_in_both_forms() -> None:
    assert with_database("clickhouse://default:@127.0.0.1:19000/default", "t1") == (
        "clickhouse://default:@127.0.0.1:19000/t1"
    )
    assert with_database("chdb:///tmp/store", "t2") == "chdb:///tmp/store?database=t2"
    with pytest.raises(ClickHouseUrlError):
        with_database("chdb:///tmp/store", "no-dashes")
