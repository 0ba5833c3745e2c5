"""The ClickHouse commands: ``gridflow init``, ``gridflow sink`` and ``gridflow sql``.

- ``init`` creates the Kafka topics (with ``GRIDFLOW_KAFKA_TOPIC_PREFIX``) and applies the schema migrations;
  both steps are idempotent and it prints what it did;
- ``sink [--batch-rows N] [--batch-seconds S] [--instance NAME]`` runs the Kafka → ClickHouse sink until
  SIGINT/SIGTERM (:mod:`sinks.sink`); any number of sinks share one prefix's partitions; ``--no-dedup``
  is the fault tests' negative control, never for real data;
- ``sql "SELECT …"`` / ``sql --file F`` / ``… | sql -`` runs queries and prints them
  (``--format table|csv|tsv|json|markdown``, ``--limit N`` rows shown with the total said,
  ``--database NAME``).

ClickHouse is the one of :func:`infra.settings.clickhouse_url` (``GRIDFLOW_CLICKHOUSE_URL``, else the
local server, else embedded chdb); the sink reaches the local server as ``gridflow_writer``
(:func:`infra.settings.sink_url`). Also runnable alone: ``python -m sinks sink``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from infra.errors import ConfigError


def _url() -> str:
    from infra.settings import ClickHouseSettings, ServiceSettings, clickhouse_url, load

    return clickhouse_url(load(ServiceSettings), load(ClickHouseSettings))


def init() -> None:
    """Create the Kafka topics and apply the ClickHouse schema migrations (idempotent)."""
    from infra.probe import check_kafka
    from infra.settings import ClickHouseSettings, KafkaSettings, load
    from infra.topics_admin import ensure_topics
    from schemas.topics import topics
    from sinks.connection import connect
    from sinks.ddl import apply_migrations, migrations
    from sinks.dimensions import load_dimensions
    from sinks.roles import apply_roles

    kafka = load(KafkaSettings)
    # Both servers are reached before either is changed: a failure leaves no topic and no database behind.
    with connect(_url()) as writer:
        check_kafka(kafka.servers, 5.0, kafka.client_options())
        created = ensure_topics(kafka.servers, list(topics(kafka.topic_prefix)), kafka.client_options())
        typer.echo(
            f"kafka {kafka.servers}: created {len(created)} topics"
            + (f" ({', '.join(created)})" if created else " (all present)")
        )
        if kafka.sasl_mechanism:  # a secured broker: each principal gets this namespace's grants (infra.acls)
            from infra.acls import apply_grants, pipeline_grants

            namespace = topics(kafka.topic_prefix)
            by_role = {role: getattr(namespace, role).name for role in namespace._fields}
            grants = pipeline_grants(kafka.topic_prefix, by_role, [spec.name for spec in namespace.intake])
            typer.echo(f"kafka: {apply_grants(kafka.servers, kafka.client_options(), grants)} ACLs granted")
        cluster = load(ClickHouseSettings).cluster
        if cluster:  # the warehouse on every shard of the cluster, behind Distributed tables
            from sinks.shards import apply_sharded, local_database

            shards = apply_sharded(_url(), cluster)
            typer.echo(
                f"clickhouse {writer.url}: database {writer.database} is Distributed over {len(shards)} "
                f"shards of cluster {cluster} (rows in {local_database(writer.database)}), schema up to date"
            )
            return
        applied = apply_migrations(writer)
        loaded = load_dimensions(writer)
        names = {m.version: f"{m.version:04d}_{m.name}" for m in migrations()}
        done = ", ".join(names[v] for v in applied) if applied else "none (schema up to date)"
        typer.echo(
            f"clickhouse {writer.url} (ClickHouse {writer.dialect.version_text}), "
            f"database {writer.database}: applied {done}"
        )
        if any(loaded.values()):
            typer.echo(
                f"  names loaded: {loaded['units']:,} units, {loaded['categories']:,} categories, "
                f"{loaded['rules']:,} rules, {loaded['policy_parameters']:,} policy parameters"
            )
        # The role users of the local server (users.xml) are bound to GRIDFLOW_CLICKHOUSE_DATABASE's role
        # databases; other databases (a demo's, a test's) get none.
        roles = apply_roles(writer) if writer.database == load(ClickHouseSettings).database else []
        if roles:
            typer.echo(f"clickhouse: role databases {roles[0]} and {len(roles) - 1} county databases ready")


def sink(
    batch_rows: Annotated[
        int, typer.Option("--batch-rows", help="Insert when this many rows are waiting.")
    ] = 50_000,
    batch_seconds: Annotated[
        float, typer.Option("--batch-seconds", help="Insert at least this often (seconds).")
    ] = 1.0,
    no_dedup: Annotated[
        bool,
        typer.Option(
            "--no-dedup",
            help="NEGATIVE CONTROL FOR TESTS ONLY: write to plain MergeTree copies with no deduplication.",
        ),
    ] = False,
    instance: Annotated[
        str | None,
        typer.Option(
            "--instance",
            help="A stable, unique name for this sink in its group: restarted under it, it resumes at once.",
        ),
    ] = None,
) -> None:
    """Land intake events, incidents, transitions and dead letters in ClickHouse until stopped."""
    from infra.probe import check_kafka
    from infra.settings import (
        ClickHouseSettings,
        KafkaSettings,
        PrivacySettings,
        ServiceSettings,
        load,
        sink_url,
    )
    from schemas.personal import Tokeniser
    from sinks.connection import connect
    from sinks.sink import SinkConfig, run_sink

    if batch_rows < 1:
        raise ConfigError(f"--batch-rows {batch_rows}: expected a whole number >= 1")
    if not batch_seconds > 0:
        raise ConfigError(f"--batch-seconds {batch_seconds}: expected a number of seconds > 0")
    privacy = load(PrivacySettings)
    if privacy.tokenise and privacy.key is None:
        raise ConfigError(
            "GRIDFLOW_PII_KEY is not set: the sink tokenises reporters' phone numbers and ids with this key "
            "(16 characters or more, kept secret); `gridflow demo` makes a one-off key per run"
        )
    kafka = load(KafkaSettings)
    url = sink_url(load(ServiceSettings), load(ClickHouseSettings))  # the local server: as gridflow_writer
    check_kafka(kafka.servers, 5.0, kafka.client_options())
    connect(url).close()  # reachable now, or one line now; the sink itself retries later outages
    config = SinkConfig(
        bootstrap=kafka.servers,
        url=url,
        prefix=kafka.topic_prefix,
        batch_rows=batch_rows,
        batch_seconds=batch_seconds,
        dedup=not no_dedup,
        instance=instance or None,
        kafka_options=kafka.client_options(),
        personal=Tokeniser(privacy.key_bytes(), enabled=privacy.tokenise),
    )
    raise typer.Exit(run_sink(config))


def sql(
    query: Annotated[
        str | None,
        typer.Argument(help="SQL to run; `{db}` is replaced by the database; `-` reads standard input."),
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Run the statements of this file (`-`: stdin).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv, tsv, json or markdown.")] = "table",
    limit: Annotated[
        int | None,
        typer.Option(help="Show at most this many rows (0: all; default 100 for table/markdown, else all)."),
    ] = None,
    database: Annotated[
        str | None, typer.Option(help="Database for `{db}` (default: GRIDFLOW_CLICKHOUSE_DATABASE's).")
    ] = None,
) -> None:
    """Run SQL against ClickHouse and print each result (the total row count is always shown)."""
    import sys

    from sinks.connection import connect
    from sinks.sqltext import FORMATS, render_result, statements
    from sinks.url import with_database

    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if limit is not None and limit < 0:
        raise ConfigError(f"--limit {limit}: expected a whole number >= 0 (0: all rows)")
    if database is not None and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", database):
        raise ConfigError(f"--database {database!r}: expected a ClickHouse name (letters, digits, _)")
    if query is None and file is None and not sys.stdin.isatty():
        query = "-"
    if (query is None) == (file is None):
        raise ConfigError(
            'gridflow sql: give either a query ("SELECT …"), --file F or `-`, not both or neither'
        )
    if file is not None and str(file) != "-":
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--file {str(file)!r}: cannot read ({exc.strerror or exc})") from None
    elif query == "-" or file is not None:
        text = sys.stdin.read()
    else:
        text = query or ""
    if not statements(text, "db"):
        raise ConfigError("gridflow sql: the query is empty")
    shown = limit if limit is not None else (100 if fmt in ("table", "markdown") else 0)
    url = _url()
    with connect(with_database(url, database) if database else url) as writer:
        for statement in statements(text, writer.database):
            render_result(writer, statement, fmt, shown)  # type: ignore[arg-type]


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("sink")(sink)
    app.command("sql")(sql)
