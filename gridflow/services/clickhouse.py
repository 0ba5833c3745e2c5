"""The local clickhouse-server: Debian's package run as a plain process with a project-local config.

Data, logs and users live under ``<state>/clickhouse``; it listens on loopback only. Users by role (see
``templates/clickhouse-users.xml`` and :mod:`sinks.roles`): ``default`` (init, DDL), ``gridflow_writer`` (the
sink), ``analyst`` and one ``county_<code>`` user per county, read-only, each limited to its own database
over ``GRIDFLOW_CLICKHOUSE_DATABASE``. The writer's and the county users' passwords are made once into
the state directory (:mod:`infra.passwords`); the analyst's is ``GRIDFLOW_ANALYST_PASSWORD``. When no
server binary is on PATH, gridflow uses chdb, the embedded engine, and there is nothing to start.

Started with ``shard_ports`` (the native ports of every local server of a sharded warehouse, this one's
included), its config also names them as cluster ``gridflow_shards``, the one ``GRIDFLOW_CLICKHOUSE_CLUSTER``
points :mod:`sinks.shards` at (docker/clickhouse-shards.xml is the same cluster for docker-compose).
:func:`shard_services` lays out such servers for ``gridflow services up --shards N``: the usual server is
the first shard, and shard ``k`` listens on the configured ports plus ``k - 1``, with its data in
``<state>/clickhouse-shard<k>``.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from gridflow.services.process import ManagedProcess, ensure_port_free
from gridflow.services.templates import render
from infra.passwords import ensure_passwords
from infra.probe import clickhouse_answers
from infra.settings import WRITER_USER, ClickHouseSettings, ServiceSettings, load, local_clickhouse_binary
from schemas.geography import geography

SHARD_CLUSTER = "gridflow_shards"


class ClickHouseService:
    """Start, stop and describe the local clickhouse-server, if one is installed."""

    def __init__(
        self, settings: ServiceSettings, shard_ports: Sequence[int] = (), home: Path | None = None
    ) -> None:
        self.settings = settings
        self.shard_ports = tuple(shard_ports)
        self.home = home or settings.state / "clickhouse"
        self.process = ManagedProcess("clickhouse-server", self.home)

    @property
    def url(self) -> str:
        return f"clickhouse://default:@127.0.0.1:{self.settings.clickhouse_tcp_port}/gridflow"

    def up(self) -> str:
        binary = local_clickhouse_binary()
        if binary is None:
            chdb_dir = self.settings.state / "chdb"
            return f"clickhouse-server not on PATH: the embedded chdb engine will be used ({chdb_dir})"
        if self.process.pid() is not None:
            return f"clickhouse-server already running at 127.0.0.1:{self.settings.clickhouse_tcp_port}"
        self.check_ports()
        config = self._write_config()
        argv = [binary, f"--config-file={config}"]
        if Path(binary).name == "clickhouse":  # the single-binary distribution
            argv = [binary, "server", f"--config-file={config}"]
        pid = self.process.start(argv, cwd=self.home)
        port = self.settings.clickhouse_tcp_port
        self.process.wait_ready(lambda: clickhouse_answers(port), self.settings.start_timeout_s)
        return f"clickhouse-server running at 127.0.0.1:{port} (pid {pid}, data {self.home / 'data'})"

    def check_ports(self) -> None:
        """Raise PortInUseError unless both of the server's ports are free (when a server binary exists)."""
        if local_clickhouse_binary() is None:
            return
        ensure_port_free(self.settings.clickhouse_tcp_port, "ClickHouse native protocol")
        ensure_port_free(self.settings.clickhouse_http_port, "ClickHouse HTTP")

    def down(self) -> str:
        return "clickhouse-server stopped" if self.process.stop() else "clickhouse-server was not running"

    def status(self) -> str:
        if local_clickhouse_binary() is None:
            return f"clickhouse: no server binary; embedded chdb at {self.settings.state / 'chdb'}"
        pid = self.process.pid()
        if pid is None:
            return "clickhouse-server: not running"
        port = self.settings.clickhouse_tcp_port
        state = "answering" if clickhouse_answers(port) else "NOT answering"
        return f"clickhouse-server: pid {pid} at 127.0.0.1:{port}, {state}; data {self.home / 'data'}"

    def _write_config(self) -> Path:
        for sub in ("data", "tmp", "user_files", "format_schemas", "log"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        # The bridge user's password is made afresh at each start; only this server's two files hold it.
        reader_password = secrets.token_urlsafe(24)
        values = {
            "home": str(self.home),
            "tcp_port": str(self.settings.clickhouse_tcp_port),
            "http_port": str(self.settings.clickhouse_http_port),
            "reader_password": reader_password,
            "role_users": self._role_users(reader_password),
            "shard_cluster": _shard_cluster(self.shard_ports),
        }
        _write_private(self.home / "users.xml", render("clickhouse-users.xml", values))
        config = self.home / "config.xml"
        _write_private(config, render("clickhouse-config.xml", values))
        return config

    def _role_users(self, reader_password: str) -> str:
        from sinks.roles import analyst_database, county_database

        database = load(ClickHouseSettings).database
        s = self.settings
        counties = [unit.code for unit in geography().counties()]
        # The writer and each county user have a password of their own, kept in the state directory.
        passwords = ensure_passwords(s.state, [WRITER_USER, *(f"county_{c}" for c in counties)])
        users = [
            _user(WRITER_USER, passwords[WRITER_USER], "writer", None),
            _user("gridflow_reader", reader_password, "readonly", None),
            _user("analyst", s.analyst_password.get_secret_value(), "role", analyst_database(database)),
        ]
        for county in counties:
            user = f"county_{county}"
            users.append(_user(user, passwords[user], "role", county_database(database, county)))
        return "\n".join(users)


def shard_services(settings: ServiceSettings, shards: int) -> list[ClickHouseService]:
    """The local servers of a warehouse over ``shards`` of them (1: the usual server, not a cluster)."""
    if shards == 1:
        return [ClickHouseService(settings)]
    members = [
        settings.model_copy(
            update={
                "clickhouse_tcp_port": settings.clickhouse_tcp_port + k,
                "clickhouse_http_port": settings.clickhouse_http_port + k,
            }
        )
        for k in range(shards)
    ]
    ports = [member.clickhouse_tcp_port for member in members]
    return [
        ClickHouseService(
            member, ports, settings.state / ("clickhouse" if k == 0 else f"clickhouse-shard{k + 1}")
        )
        for k, member in enumerate(members)
    ]


def _user(name: str, password: str, profile: str, database: str | None) -> str:
    digest = hashlib.sha256(password.encode()).hexdigest()
    # ``default`` (empty) too: clients connect there first, as the target may not exist yet.
    allowed = (
        f"<allow_databases><database>default</database><database>{database}</database></allow_databases>"
        if database
        else ""
    )
    return (
        f"        <{name}><password_sha256_hex>{digest}</password_sha256_hex>"
        f"<networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>{profile}</profile>"
        f"<quota>default</quota>{allowed}</{name}>"
    )


def _shard_cluster(ports: Sequence[int]) -> str:
    """The ``remote_servers`` entry of a sharded warehouse on local servers: one shard per port."""
    if not ports:
        return ""
    shards = "".join(
        f"<shard><replica><host>127.0.0.1</host><port>{port}</port>"
        "<user>default</user><password></password></replica></shard>"
        for port in ports
    )
    return f"        <{SHARD_CLUSTER}>{shards}</{SHARD_CLUSTER}>"


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read: it holds a password or password hashes."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    path.chmod(0o600)
