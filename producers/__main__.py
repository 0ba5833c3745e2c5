"""``python -m producers simulate …`` / ``replay …``: the producers' commands without the rest of gridflow.

Errors end as one line on stderr and exit status 2, exactly as with the ``gridflow`` command.
"""

from __future__ import annotations

import sys

import click
import typer

from gridflow.errors import GridflowError
from producers.cli import register

# typer >= 0.20 vendors its own click: its usage errors are not click's classes, so catch both kinds.
_USAGE_ERRORS: tuple[type[Exception], ...] = (click.exceptions.UsageError,)
_EXITS: tuple[type[Exception], ...] = (click.exceptions.Exit, typer.Exit)
_ABORTS: tuple[type[BaseException], ...] = (click.exceptions.Abort, typer.Abort)
try:
    from typer._click.exceptions import UsageError as _VendoredUsageError

    _USAGE_ERRORS += (_VendoredUsageError,)
except ImportError:  # an older typer on the real click
    pass

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
    try:
        app(args=argv, prog_name="python -m producers", standalone_mode=False)
    except _ABORTS:
        typer.echo("producers: aborted", err=True)
        sys.exit(130)
    except _USAGE_ERRORS as exc:
        typer.echo(f"producers: {exc.format_message()}", err=True)  # type: ignore[attr-defined]
        sys.exit(2)
    except _EXITS as exc:
        sys.exit(exc.exit_code)  # type: ignore[attr-defined]
    except GridflowError as exc:
        typer.echo(f"producers: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
