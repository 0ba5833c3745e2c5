"""The one `gridflow` command: every service and tool of the pipeline behind one CLI.

Each package contributes its commands through a ``register(app)`` function, so this module stays a table of
contents. Any :class:`GridflowError` and any bad argument ends as one line on stderr and exit status 2
(`infra.cli`).
"""

from __future__ import annotations

from typing import Annotated

import typer

from gridflow.demo.cli import register as register_demo
from gridflow.web.cli import register as register_web
from gridflow.whatif.cli import register as register_whatif
from infra.cli import run
from infra.errors import ConfigError
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
register_whatif(app)
register_web(app)


def _print(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line)


@app.command("runs")
def runs(
    drop: Annotated[
        str | None, typer.Option("--drop", help="Delete this run's topics, database and folder.")
    ] = None,
) -> None:
    """List the recorded demo and what-if runs (scenario, seed, policy, when, where), or drop one."""
    from gridflow.runs import drop_run, find_run, format_runs, load_runs
    from infra.probe import check_kafka
    from infra.settings import ClickHouseSettings, KafkaSettings, ServiceSettings, clickhouse_url, load

    services = load(ServiceSettings)
    if drop is None:
        _print(format_runs(load_runs(services.state)))
        return
    run = find_run(services.state, drop)
    kafka = load(KafkaSettings)
    check_kafka(run.kafka, 5.0, kafka.client_options())
    _print(drop_run(run, clickhouse_url(services, load(ClickHouseSettings)), kafka.client_options()))


@app.command("scenarios")
def scenarios() -> None:
    """Describe each simulated scenario: what it is, how long, what surges and when."""
    from producers.describe import describe_all

    _print(describe_all())


@services_app.command("up")
def services_up(
    brokers: Annotated[
        int | None,
        typer.Option(
            "--brokers", help="Kafka nodes: 3 runs a local KRaft cluster (replication 3, min ISR 2)."
        ),
    ] = None,
    secure: Annotated[
        bool,
        typer.Option(
            "--secure",
            help="Kafka with SASL_SSL (SCRAM-SHA-512) over TLS and ACLs per principal; "
            "each principal's GRIDFLOW_KAFKA_* settings in <state>/kafka/secure/<principal>.env.",
        ),
    ] = False,
    shards: Annotated[
        int | None,
        typer.Option(
            "--shards",
            help="clickhouse-servers: 2 runs two local shards as cluster gridflow_shards "
            "(then GRIDFLOW_CLICKHOUSE_CLUSTER=gridflow_shards gridflow init).",
        ),
    ] = None,
) -> None:
    """Start Kafka (KRaft) and clickhouse-server unless configured or already running."""
    from gridflow.services.manager import Services

    if brokers is not None and brokers < 1:
        raise ConfigError(f"--brokers {brokers}: expected a whole number >= 1")
    if secure and brokers not in (None, 1):
        raise ConfigError(f"--secure --brokers {brokers}: the secured broker runs one node; drop one option")
    if shards is not None and shards < 1:
        raise ConfigError(f"--shards {shards}: expected a whole number >= 1")
    _print(Services(brokers=brokers, secure=secure, shards=shards).up())


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
    run(app, argv)


if __name__ == "__main__":
    main()
