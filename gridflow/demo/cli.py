"""The demo commands: ``gridflow demo``, ``gridflow command-center`` and ``gridflow report``.

gridflow demo [--scenario normal_day] [--speed 720] [--duration 24h] [--seed 1] [--scale 1]
gridflow command-center [--alerts DIR] [--view/--no-view]
gridflow report --out report.html [--database NAME]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from infra.errors import ConfigError
from infra.paths import output_file, output_folder
from producers.cli import PolicyOption

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _database_name(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ConfigError(f"--database {name!r}: expected a ClickHouse name (letters, digits, _)")
    return name


def demo(
    scenario: Annotated[
        str, typer.Option(help="The simulated scenario (see `gridflow simulate --help`).")
    ] = ("normal_day"),
    speed: Annotated[
        float, typer.Option(help="Simulated seconds per wall second (720: a day in 2 min).")
    ] = 720.0,
    duration: Annotated[
        str | None, typer.Option(help="Simulated period: 2h, 1d (default: the scenario's).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same day.")] = 1,
    scale: Annotated[
        float,
        typer.Option(help="Multiply every arrival rate (1 = city scale, ~470 messages/s at --speed 720)."),
    ] = 0.5,
    workers: Annotated[int, typer.Option("--workers", help="Stream worker processes.")] = 1,
    database: Annotated[
        str | None, typer.Option(help="ClickHouse database for this run (default: a fresh demo_<stamp>).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Where to write the HTML report.")] = None,
    live: Annotated[bool, typer.Option("--live/--no-live", help="Live display (on a terminal).")] = True,
    policy_file: PolicyOption = None,
    web_port: Annotated[
        int, typer.Option("--web-port", help="Port of the command centre's web page (0: none).")
    ] = 8600,
    secure: Annotated[
        bool,
        typer.Option(
            "--secure",
            help="Run on the secured local broker (SASL_SSL, SCRAM, ACLs), each process as its principal.",
        ),
    ] = False,
) -> None:
    """Run a simulated day end to end, watch it live, then print the KPIs and write the HTML report."""
    from gridflow.demo.runner import DemoConfig, run_demo
    from producers.cli import use_policy
    from producers.scenario import parse_duration, scenario_names

    if scenario not in scenario_names():
        raise ConfigError(f"--scenario {scenario!r}: expected one of {', '.join(scenario_names())}")
    if not speed > 0:
        raise ConfigError(f"--speed {speed}: expected a number > 0 (simulated seconds per wall second)")
    if not scale > 0:
        raise ConfigError(f"--scale {scale}: expected a number > 0")
    if not 0 <= web_port < 65536:
        raise ConfigError(f"--web-port {web_port}: expected a port number 1-65535, or 0 for none")
    if workers < 1:
        raise ConfigError(f"--workers {workers}: expected a whole number >= 1")
    if duration is not None:
        parse_duration(duration)
    if database is not None:
        _database_name(database)
    if out is not None:
        output_file("--out", out)
    chosen = use_policy(policy_file)  # the simulator and the workers inherit it through GRIDFLOW_POLICY
    config = DemoConfig(
        scenario=scenario,
        seed=seed,
        speed=speed,
        duration=duration,
        scale=scale,
        workers=workers,
        database=database,
        out=out,
        live=live,
        policy_version=chosen.label,
        web_port=web_port,
        secure=secure,
    )
    status = run_demo(config, echo=typer.echo)
    if status:
        # SystemExit, not typer.Exit: with standalone_mode=False click swallows the Exit code.
        sys.exit(status)


def command_center(
    alerts: Annotated[Path, typer.Option(help="Folder for the CAP 1.2 alert files.")] = Path("cap-alerts"),
    view: Annotated[
        bool, typer.Option("--view/--no-view", help="Live terminal view (else one line per alert).")
    ] = (True),
) -> None:
    """Watch escalations to county and city level live and write a CAP 1.2 alert for each."""
    from gridflow.demo.command_center import run_command_center
    from infra.probe import check_kafka
    from infra.settings import KafkaSettings, load

    output_folder("--alerts", alerts)
    kafka = load(KafkaSettings)
    check_kafka(kafka.servers, 5.0, kafka.client_options())
    status = run_command_center(
        kafka.servers, kafka.topic_prefix, alerts, kafka.client_options(), view and sys.stdout.isatty()
    )
    if status:
        sys.exit(status)


def report(
    out: Annotated[Path, typer.Option(help="The HTML file to write.")] = Path("report.html"),
    database: Annotated[
        str | None, typer.Option(help="Database to report on (default: the configured).")
    ] = None,
) -> None:
    """Write the analyst report (KPIs and inline SVG charts) of an existing store as one HTML file."""
    from gridflow.demo.figures import format_summary, read_figures
    from gridflow.demo.report import write_report
    from infra.settings import ClickHouseSettings, ServiceSettings, clickhouse_url, load
    from sinks.connection import connect
    from sinks.url import with_database

    if database is not None:
        _database_name(database)
    output_file("--out", out)
    url = clickhouse_url(load(ServiceSettings), load(ClickHouseSettings))
    with connect(with_database(url, database) if database else url) as writer:
        figures = read_figures(writer)
    for line in format_summary(figures.summary):
        typer.echo(line)
    typer.echo(f"report: {write_report(figures, out)}")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
    app.command("command-center")(command_center)
    app.command("report")(report)
