"""``python -m producers simulate …`` / ``replay …``: the producers' commands without the rest of gridflow.

Errors end as one line on stderr and exit status 2, exactly as with the ``gridflow`` command (`infra.cli`).
"""

from __future__ import annotations

import typer

from infra.cli import run
from producers.cli import register

app = typer.Typer(
    name="producers",
    help="gridflow producers: simulate Bayannur or replay a recording into Kafka.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
register(app)


def main(argv: list[str] | None = None) -> None:
    """Run the commands; a bad argument or any GridflowError becomes one line on stderr and exit 2."""
    run(app, argv, "producers", "python -m producers")


if __name__ == "__main__":
    main()
