"""``python -m sinks init|sink|sql …``: the ClickHouse commands without the rest of gridflow.

Errors end as one line on stderr and exit status 2, exactly as with the ``gridflow`` command (`infra.cli`).
"""

from __future__ import annotations

import typer

from infra.cli import run
from sinks.cli import register

app = typer.Typer(
    name="sinks",
    help="gridflow sinks: create the schema, run the Kafka → ClickHouse sink, query ClickHouse.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
register(app)


def main(argv: list[str] | None = None) -> None:
    """Run the commands with gridflow's error handling (one line, exit 2)."""
    run(app, argv, "sinks", "python -m sinks")


if __name__ == "__main__":
    main()
