"""The local server's per-user passwords (infra/passwords.py): made once, kept, owner-only, rotatable."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.errors import ConfigError
from infra.passwords import ensure_passwords, passwords_file, read_passwords
from infra.settings import ClickHouseSettings, ServiceSettings, sink_url


def test_each_user_gets_its_own_password_kept_across_starts(tmp_path: Path) -> None:
    users = ["gridflow_writer", "county_150802", "county_150821"]
    first = ensure_passwords(tmp_path, users)
    assert len(set(first.values())) == 3 and all(len(p) >= 24 for p in first.values())
    assert ensure_passwords(tmp_path, users) == first
    assert not passwords_file(tmp_path).stat().st_mode & 0o077


def test_deleting_a_line_rotates_only_that_password(tmp_path: Path) -> None:
    users = ["county_150802", "county_150821"]
    first = ensure_passwords(tmp_path, users)
    path = passwords_file(tmp_path)
    path.write_text("".join(f"{u}={p}\n" for u, p in first.items() if u != "county_150802"))
    second = ensure_passwords(tmp_path, users)
    assert second["county_150821"] == first["county_150821"]
    assert second["county_150802"] != first["county_150802"]
    path.write_text("county_150802=set-by-the-operator=with-equals\n")
    assert read_passwords(tmp_path) == {"county_150802": "set-by-the-operator=with-equals"}


def test_a_bad_line_is_named_without_showing_it(tmp_path: Path) -> None:
    passwords_file(tmp_path).parent.mkdir(parents=True)
    passwords_file(tmp_path).write_text("s3cret-without-user\n")
    with pytest.raises(ConfigError) as bad:
        read_passwords(tmp_path)
    assert "line 1" in str(bad.value) and "s3cret" not in str(bad.value)


def test_the_sink_url_takes_the_writer_password_from_the_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("infra.settings.local_clickhouse_binary", lambda: "/usr/bin/clickhouse-server")
    services = ServiceSettings(state_dir=tmp_path, clickhouse_tcp_port=9111)
    with pytest.raises(ConfigError, match="gridflow services up"):
        sink_url(services, ClickHouseSettings(database="db1"))
    ensure_passwords(tmp_path, ["gridflow_writer"])
    passwords_file(tmp_path).write_text("gridflow_writer=a/b@c\n")
    assert sink_url(services, ClickHouseSettings(database="db1")) == (
        "clickhouse://gridflow_writer:a%2Fb%40c@127.0.0.1:9111/db1"
    )
    explicit = ClickHouseSettings(url="clickhouse://x:y@h:9000/z")
    assert sink_url(services, explicit) == "clickhouse://x:y@h:9000/z"
