"""Running a typer app with gridflow's error handling, for ``gridflow`` and each ``python -m`` package.

Any :class:`~infra.errors.GridflowError` and any bad argument ends as one line on stderr and exit status 2;
an abort as exit 130. Each package's ``__main__`` runs its own commands through `run`, and `gridflow.cli`
runs all of them, so a package never needs the command that assembles the others.
"""

from __future__ import annotations

import logging
import sys

import click
import typer

# typer runs on its own copy of click: its usage errors are that copy's classes, not click's.
from typer._click.exceptions import UsageError as TyperUsageError

from infra.errors import GridflowError


def run(
    app: typer.Typer, argv: list[str] | None = None, name: str = "gridflow", prog_name: str | None = None
) -> None:
    """Run ``app`` on ``argv`` (the process's arguments when None), turning known errors into one line
    that starts with ``name``; ``prog_name`` is what usage messages call the command."""
    prog = name
    # clickhouse-driver logs each failed connect with a traceback; gridflow reports the failure in one line.
    logging.getLogger("clickhouse_driver").setLevel(logging.CRITICAL)
    try:
        code = app(args=argv, prog_name=prog_name, standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)  # without standalone mode, click returns a command's exit code instead of exiting
    except (click.exceptions.Abort, typer.Abort):
        typer.echo(f"{prog}: aborted", err=True)
        sys.exit(130)
    except (click.exceptions.UsageError, TyperUsageError) as exc:
        typer.echo(f"{prog}: {exc.format_message()}", err=True)
        sys.exit(2)
    except (click.exceptions.Exit, typer.Exit) as exc:
        sys.exit(exc.exit_code)
    except GridflowError as exc:
        typer.echo(f"{prog}: {exc}", err=True)
        sys.exit(2)
