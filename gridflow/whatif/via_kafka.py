"""The what-if through the real pipeline: one recording, each policy in its own topics and database.

For every policy: a topic prefix ``whatif-<stamp>-<name>.`` and a database ``whatif_<stamp>_<name>``,
``gridflow init``, a sink, ``gridflow worker --policy FILE``, then ``gridflow replay`` of the recording; once
the workers and the sink have drained, they stop and the Fengqiao KPIs are read from the store with the
analysts' query pack (`gridflow.demo.figures.read_summary`). Policies run one after the other, so each gets
the machine to itself. The recording's own dispositions are replayed (scripted handlers): a closed loop
through Kafka depends on how far the workers lag, so only the offline run gives reactive handlers
deterministically.

Each database also gets a ``whatif_run`` table naming the policy, its version and the load, so two result
databases can be told apart. The query pack's comparisons (``sinks/queries/whatif/*.sql``, with ``{base}``
and ``{alt}`` for the two databases) run on them with `compare`; ``whatif --via-kafka`` prints them.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from gridflow.demo.figures import Summary, read_summary
from gridflow.demo.pipeline import Pipeline, ensure_pii_key, pipeline_env
from gridflow.demo.rates import Probe
from gridflow.whatif.policies import NamedPolicy
from infra.errors import ServiceError

DRAIN_TIMEOUT_S = 600.0
STABLE_S = 3.0


@dataclass(frozen=True)
class StoreRun:
    """One policy's run through the pipeline: where it landed and the KPIs read back from there."""

    name: str
    version: str
    prefix: str
    database: str
    summary: Summary


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)[:40]


def run_via_kafka(
    named: list[NamedPolicy],
    recording: Path,
    echo: Callable[[str], None] = print,
    about: dict[str, object] | None = None,
) -> list[StoreRun]:
    """Run each policy through worker and sink over ``recording``; return what each store holds.

    ``about`` (scenario, seed, scale, duration) goes into each run's record for ``gridflow runs``.
    """
    from gridflow.runs import where, write_record
    from gridflow.services.manager import Services
    from infra.settings import ClickHouseSettings, KafkaSettings, ServiceSettings, clickhouse_url, load
    from sinks.connection import connect
    from sinks.url import with_database

    for line in Services().up():
        echo(line)
    services, kafka = load(ServiceSettings), load(KafkaSettings)
    stamp = datetime.now().astimezone().strftime("%Y%m%d%H%M%S")
    # One key for every policy's run, so the stores' tokens compare across policies.
    keyed: dict[str, str] = {"GRIDFLOW_PII_KEY": os.environ.get("GRIDFLOW_PII_KEY", "")}
    ensure_pii_key(keyed, echo)
    runs = []
    for policy in named:
        prefix = f"whatif-{stamp}-{_safe(policy.name)}."
        database = f"whatif_{stamp}_{_safe(policy.name)}"
        url = with_database(clickhouse_url(services, load(ClickHouseSettings)), database)
        run_dir = services.state / "whatif" / stamp / _safe(policy.name)
        record = {"scenario": f"recording {recording.name}", "seed": 0, "scale": 1.0, **(about or {})}
        write_record(  # before any work, so `gridflow runs --drop` finds a run that stopped half-way
            run_dir,
            record
            | {
                "name": f"whatif-{stamp}-{_safe(policy.name)}",
                "kind": "whatif",
                "policy": policy.name,
                "policy_file": str(policy.source),
                "policy_version": policy.policy.label,
                "recording": str(recording),
            }
            | where(run_dir, database, prefix, kafka.servers, url),
        )
        env = pipeline_env(kafka.servers, prefix, url)
        env["GRIDFLOW_POLICY"] = str(Path(policy.source).resolve())
        env["GRIDFLOW_PII_KEY"] = keyed["GRIDFLOW_PII_KEY"]
        pipeline = Pipeline(env, run_dir)
        echo(
            f"whatif via Kafka: {policy.name} ({policy.policy.label}) → topics {prefix}*, database {database}"
        )
        pipeline.run("init")
        try:
            pipeline.start("sink", "sink", "--batch-seconds", "0.5")
            pipeline.start("worker", "worker")
            pipeline.run("replay", str(recording), "--speed", "0")
            probe = Probe(kafka.servers, prefix, kafka.client_options(), run_dir / "cap")
            try:
                _drain(pipeline, probe)
            finally:
                probe.close()
        finally:
            pipeline.stop("worker", "sink")
            for log in pipeline.logs.values():
                log.close()
        with connect(url) as writer:
            writer.execute(
                f"CREATE TABLE IF NOT EXISTS {database}.whatif_run (policy String, policy_version String, "
                f"recording String, stamp String) ENGINE = TinyLog"
            )
            writer.execute(
                # INSERT … SELECT: an INSERT … VALUES would make the native client wait for a data block.
                f"INSERT INTO {database}.whatif_run SELECT "
                f"{_quote(policy.name)}, {_quote(policy.policy.label)}, {_quote(str(recording))}, "
                f"{_quote(stamp)}"
            )
            runs.append(StoreRun(policy.name, policy.policy.label, prefix, database, read_summary(writer)))
    return runs


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _drain(pipeline: Pipeline, probe: Probe) -> None:
    """Wait until workers and sink have caught up, and stayed so for a few seconds."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    since: float | None = None
    while time.monotonic() < deadline:
        failure = pipeline.failed()
        if failure:
            raise ServiceError(failure)
        rates = probe.sample()
        caught_up = rates.produced > 0 and rates.stream_lag == 0 and rates.sink_lag == 0
        since = (since or time.monotonic()) if caught_up else None
        # Stable for a few seconds: outputs of the last ticks may still be on their way to the sink.
        if since is not None and time.monotonic() - since >= STABLE_S:
            return
        time.sleep(0.5)
    raise ServiceError(f"the pipeline did not drain within {DRAIN_TIMEOUT_S:.0f} s; see {pipeline.run_dir}")
