"""The streams' command: ``gridflow worker``."""

from __future__ import annotations

from typing import Annotated

import typer

from infra.errors import ConfigError

LOGLEVELS = ("debug", "info", "warning", "error")


def worker(
    workers: Annotated[int, typer.Option("--workers", help="worker processes in the consumer group")] = 1,
    loglevel: Annotated[str, typer.Option("--loglevel", help="debug, info, warning or error")] = "warning",
) -> None:
    """Run the classification/merge/escalation workers (faust) until stopped."""
    from streams.runtime.worker import run_workers

    if workers < 1:
        raise ConfigError(f"--workers {workers}: expected a whole number >= 1")
    if loglevel not in LOGLEVELS:
        raise ConfigError(f"--loglevel {loglevel!r}: expected one of {', '.join(LOGLEVELS)}")
    raise typer.Exit(run_workers(workers, loglevel))


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
