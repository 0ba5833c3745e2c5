"""The demo's child processes: each a ``gridflow`` command with its own log file and process group.

Children start in sessions of their own, so Ctrl-C in the terminal reaches only the demo, which stops them in
order (producer first, then the consumers): SIGTERM, a wait, SIGKILL after ``STOP_TIMEOUT_S``.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

from infra.errors import ServiceError

GRIDFLOW = [sys.executable, "-m", "gridflow.cli"]
STOP_TIMEOUT_S = 20.0  # then SIGKILL: at-least-once with idempotent effects makes that safe


def pipeline_env(bootstrap: str, prefix: str, url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GRIDFLOW_KAFKA_BOOTSTRAP=bootstrap,
        GRIDFLOW_KAFKA_TOPIC_PREFIX=prefix,
        GRIDFLOW_CLICKHOUSE_URL=url,
        PYTHONUNBUFFERED="1",
    )
    return env


def ensure_pii_key(env: dict[str, str], echo: Callable[[str], None]) -> None:
    """Give ``env`` a one-off GRIDFLOW_PII_KEY when none is set (demo and what-if runs), and say so.

    The sink refuses to run without a key. The key goes through the environment, never the command line;
    one per run keeps tokens consistent within the run and unlinkable to any other.
    """
    if not env.get("GRIDFLOW_PII_KEY"):
        env["GRIDFLOW_PII_KEY"] = secrets.token_urlsafe(32)
        echo("personal data: GRIDFLOW_PII_KEY is not set, so this run tokenises it with a one-off key")


class Pipeline:
    """The demo's child processes, their environment and log files."""

    def __init__(self, env: dict[str, str], run_dir: Path) -> None:
        self.env = env
        self.run_dir = run_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, IO[bytes]] = {}

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start ``gridflow <args>`` as ``name``; ``env`` adds to or overrides the pipeline's variables."""
        log = (self.run_dir / f"{name}.log").open("wb")
        # A session of its own: Ctrl-C in the terminal reaches only the demo, which stops children in order.
        proc = subprocess.Popen(
            [*GRIDFLOW, *args],
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[name], self.logs[name] = proc, log
        return proc

    def run(self, *args: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            [*GRIDFLOW, *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if result.returncode != 0:
            last = (result.stderr or result.stdout).strip().splitlines()
            raise ServiceError(f"gridflow {args[0]} failed: {last[-1] if last else result.returncode}")
        return result.stdout

    def failed(self) -> str | None:
        """The first child that exited with an error, described in one line, or None."""
        for name, proc in self.procs.items():
            if proc.poll() not in (None, 0):
                return f"{name} exited with status {proc.returncode}; see {self.run_dir / (name + '.log')}"
        return None

    def stop(self, *names: str) -> None:
        """SIGTERM to each named child's process group, then wait (SIGKILL after the timeout)."""
        for name in names:
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for name in names:
            proc = self.procs.get(name)
            if proc is None:
                continue
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def stop_all(self) -> None:
        # Producer first, then the consumers, so nothing new arrives while they shut down.
        self.stop("simulate")
        self.stop("command-center", "web", "worker", "sink")
        for log in self.logs.values():
            log.close()
