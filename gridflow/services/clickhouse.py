"""The local clickhouse-server: Debian's package run as a plain process with a project-local config.

Data, logs and users live under ``<state>/clickhouse``; it listens on loopback only. Two users: ``default``
(the pipeline) and ``analyst`` (read-only). When no server binary is on PATH, gridflow uses chdb, the embedded
engine, and there is nothing to start.
"""

from __future__ import annotations

from pathlib import Path

from gridflow.services.process import ManagedProcess, ensure_port_free
from gridflow.services.templates import render
from infra.probe import clickhouse_answers
from infra.settings import ServiceSettings, local_clickhouse_binary


class ClickHouseService:
    """Start, stop and describe the local clickhouse-server, if one is installed."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.home = settings.state / "clickhouse"
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
        values = {
            "state": str(self.settings.state),
            "tcp_port": str(self.settings.clickhouse_tcp_port),
            "http_port": str(self.settings.clickhouse_http_port),
            "analyst_password": self.settings.analyst_password.get_secret_value(),
        }
        (self.home / "users.xml").write_text(render("clickhouse-users.xml", values))
        config = self.home / "config.xml"
        config.write_text(render("clickhouse-config.xml", values))
        return config
