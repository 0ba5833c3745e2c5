"""The streams' command: ``gridflow worker``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from infra.errors import ConfigError

LOGLEVELS = ("debug", "info", "warning", "error")


def worker(
    workers: Annotated[int, typer.Option("--workers", help="worker processes in the consumer group")] = 1,
    loglevel: Annotated[str, typer.Option("--loglevel", help="debug, info, warning or error")] = "warning",
    policy_file: Annotated[
        Path | None,
        typer.Option(
            "--policy", help="Escalation policy file (default: GRIDFLOW_POLICY, else the bundled one)."
        ),
    ] = None,
    kafka_wait: Annotated[
        float | None,
        typer.Option(
            "--kafka-wait",
            help="Seconds to wait for a broker that does not answer at start-up (default: until it does; "
            "0: fail at once).",
        ),
    ] = None,
) -> None:
    """Run the classification/merge/escalation workers (faust) until stopped."""
    from schemas.policy import policy_at
    from streams.runtime.worker import run_workers

    if workers < 1:
        raise ConfigError(f"--workers {workers}: expected a whole number >= 1")
    if loglevel not in LOGLEVELS:
        raise ConfigError(f"--loglevel {loglevel!r}: expected one of {', '.join(LOGLEVELS)}")
    if kafka_wait is not None and kafka_wait < 0:
        raise ConfigError(f"--kafka-wait {kafka_wait:g}: expected seconds >= 0")
    if policy_file is not None:
        policy_at(policy_file)  # a bad file ends here, as one line
        os.environ["GRIDFLOW_POLICY"] = str(policy_file.resolve())  # worker processes inherit it
    raise typer.Exit(run_workers(workers, loglevel, kafka_wait))


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
