"""The one `gridflow` command: every service and tool of the pipeline behind one CLI.

Each package contributes its commands through a ``register(app)`` function, so this module stays a table of
contents. Any :class:`GridflowError` and any bad argument ends as one line on stderr and exit status 2.
"""

from __future__ import annotations

import sys

import click
import typer

# typer runs on its own copy of click: its usage errors are that copy's classes, not click's.
from typer._click.exceptions import UsageError as TyperUsageError

from gridflow.demo.cli import register as register_demo
from gridflow.errors import GridflowError
from producers.cli import register as register_producers
from sinks.cli import register as register_sinks
from streams.cli import register as register_streams

app = typer.Typer(
    name="gridflow",
    help="gridflow: grid reports and camera alarms → Kafka → faust → ClickHouse, for Bayannur.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
services_app = typer.Typer(help="Start, stop and inspect the local Kafka broker and clickhouse-server.")
app.add_typer(services_app, name="services")
register_producers(app)
register_streams(app)
register_sinks(app)
register_demo(app)


def _print(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line)


@services_app.command("up")
def services_up() -> None:
    """Start Kafka (KRaft) and clickhouse-server unless configured or already running."""
    from gridflow.services.manager import Services

    _print(Services().up())


@services_app.command("down")
def services_down() -> None:
    """Stop what `services up` started."""
    from gridflow.services.manager import Services

    _print(Services().down())


@services_app.command("status")
def services_status() -> None:
    """Say what runs where."""
    from gridflow.services.manager import Services

    _print(Services().status())


@services_app.command("fetch")
def services_fetch() -> None:
    """Resolve the Kafka broker's jars with Maven into the cache (done by `up` when needed)."""
    from gridflow.services.manager import Services

    _print(Services().fetch())


def main(argv: list[str] | None = None, app: typer.Typer = app) -> None:
    """Console-script entry point: run the CLI, turning known errors into one line and exit 2."""
    try:
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)  # without standalone mode, click returns a command's exit code instead of exiting
    except (click.exceptions.Abort, typer.Abort):
        typer.echo("gridflow: aborted", err=True)
        sys.exit(130)
    except (click.exceptions.UsageError, TyperUsageError) as exc:
        typer.echo(f"gridflow: {exc.format_message()}", err=True)
        sys.exit(2)
    except (click.exceptions.Exit, typer.Exit) as exc:
        sys.exit(exc.exit_code)
    except GridflowError as exc:
        typer.echo(f"gridflow: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
