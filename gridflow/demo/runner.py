"""``gridflow demo``: a simulated day of Bayannur through the whole pipeline, watched live, with answers.

It starts the local services (unless configured), picks a fresh topic prefix (``demo-<stamp>.``) and a fresh
database (``demo_<stamp>``) so every run's figures are its own, runs ``gridflow init``, then the stream
worker, the sink, the command-centre feed and the simulator as subprocesses (logs in the run folder). While
they run it shows produced / processed / landed per second, the consumer lag of the workers and the sink, and
the open incidents by level. When the simulator is done and both lags are zero it stops the pipeline
(SIGTERM, wait), reads the KPIs from the store, prints them and writes the HTML report.

Every ClickHouse access happens in a subprocess until the sink has stopped, because an embedded (chdb) store
is owned by one process at a time. Ctrl-C stops every process started here (`gridflow.demo.pipeline`); the
sink commits offsets only after its inserts, so the store stays consistent and a later run starts afresh.
The live figures come from `gridflow.demo.rates` and are drawn by `gridflow.demo.live`.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from gridflow.demo.live import live_view, render_rates
from gridflow.demo.pipeline import Pipeline, ensure_pii_key, pipeline_env
from gridflow.demo.rates import Probe, WorstLag
from gridflow.runs import where, write_record
from gridflow.services.kafka_secure import MECHANISM, SecureMaterial
from infra.errors import ServiceError
from infra.settings import KafkaSettings

DRAIN_TIMEOUT_S = 300.0


@dataclass(frozen=True, slots=True)
class DemoConfig:
    """What to run: the scenario, how fast, how big, and where the run's files go."""

    scenario: str = "normal_day"
    seed: int = 1
    speed: float = 720.0  # one simulated day in two minutes
    duration: str | None = None
    # Measured on the 2-core box under other load: at 0.5 the worker keeps up (lag drains within ~25 s after
    # the day) and every escalation path fires (clusters need the density; at 0.25 there are none).
    scale: float = 0.5
    workers: int = 1
    database: str | None = None
    out: Path | None = None
    live: bool = True
    policy_version: str = ""  # of the policy in GRIDFLOW_POLICY (or the bundled one): run metadata
    web_port: int = 8600  # the command centre's web page during the run; 0: none
    secure: bool = False  # run on the secured local broker, each process as its own principal


class Principals:
    """On the secured broker, each process connects as its own principal (infra/acls.py grants each only
    what it needs); on a plain broker they all share the demo's settings. Passwords go by environment."""

    def __init__(self, material: SecureMaterial | None) -> None:
        self.material = material

    def env(self, principal: str) -> dict[str, str]:
        return self.material.env(principal) if self.material is not None else {}

    def settings(self, principal: str, plain: KafkaSettings) -> KafkaSettings:
        """The demo's own Kafka settings (its probe of offsets and lag): ``principal``'s when secured."""
        if self.material is None:
            return plain
        env = self.material.env(principal)
        return KafkaSettings(
            bootstrap=env["GRIDFLOW_KAFKA_BOOTSTRAP"],
            security_protocol="SASL_SSL",
            sasl_mechanism=MECHANISM,
            sasl_username=principal,
            sasl_password=SecretStr(env["GRIDFLOW_KAFKA_SASL_PASSWORD"]),
            ssl_cafile=Path(env["GRIDFLOW_KAFKA_SSL_CAFILE"]),
        )


def _stamp() -> str:
    return datetime.now().astimezone().strftime("%Y%m%d%H%M%S")


def run_demo(config: DemoConfig, echo: Any = print) -> int:
    """Run the demo; returns the exit status (0 done, 130 interrupted)."""
    from gridflow.demo.figures import format_summary, read_figures
    from gridflow.demo.report import write_report
    from gridflow.services.kafka import KafkaService
    from gridflow.services.manager import Services
    from infra.errors import ConfigError
    from infra.probe import kafka_answers
    from infra.settings import (
        ClickHouseSettings,
        KafkaSettings,
        ServiceSettings,
        clickhouse_url,
        load,
        sink_url,
    )
    from sinks.connection import connect
    from sinks.url import with_database

    started = time.monotonic()
    services, kafka = load(ServiceSettings), load(KafkaSettings)
    if config.secure and kafka.bootstrap:
        raise ConfigError(
            f"--secure starts the local secured broker, but GRIDFLOW_KAFKA_BOOTSTRAP={kafka.bootstrap} is "
            "set: unset it, or drop --secure and pass that broker's GRIDFLOW_KAFKA_* settings"
        )
    manager = Services(secure=config.secure)
    for line in manager.up():
        echo(line)
    principal = Principals(manager.kafka.secure if isinstance(manager.kafka, KafkaService) else None)
    kafka = principal.settings("admin", kafka)
    if config.secure and not kafka_answers(kafka.servers, 5.0, kafka.client_options()):
        # `up` found a broker already running: the plain one, which does not take the admin's credentials.
        raise ConfigError(
            f"--secure: the broker at {kafka.servers} does not answer SASL_SSL; it is the plain one: "
            "stop it first (`gridflow services down`)"
        )
    stamp = _stamp()
    prefix = f"demo-{stamp}."
    database = config.database or f"demo_{stamp}"
    url = with_database(clickhouse_url(services, load(ClickHouseSettings)), database)
    if not url.startswith("chdb://"):
        # Reached before anything is created; chdb is left to the subprocesses, as one process owns it.
        connect(url).close()
    run_dir = services.state / "demo" / stamp
    run_dir.mkdir(parents=True, exist_ok=True)
    alerts = run_dir / "cap"
    metadata = {
        "scenario": config.scenario,
        "seed": config.seed,
        "scale": config.scale,
        "duration": config.duration,
        "policy_file": os.environ.get("GRIDFLOW_POLICY") or "bundled",
        "policy_version": config.policy_version,
        # Where the run's data is, for `gridflow runs` (list, --drop).
        "name": f"demo-{stamp}",
        "kind": "demo",
        "speed": config.speed,
        **where(run_dir, database, prefix, kafka.servers, url),
    }
    write_record(run_dir, metadata)
    env = pipeline_env(kafka.servers, prefix, url)
    ensure_pii_key(env, echo)  # demo mode: a one-off key when none is configured
    pipeline = Pipeline(env, run_dir)
    echo(
        f"demo {stamp}: topics {prefix}*, database {database}, logs in {run_dir}, "
        f"policy {metadata['policy_file']} version {config.policy_version}"
    )
    echo(pipeline.run("init", env=principal.env("admin")).strip())
    interrupted = False
    previous_sigterm = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        # The sink writes as gridflow_writer on the local server (inserts only); the URL goes by environment.
        sink_env = {
            "GRIDFLOW_CLICKHOUSE_URL": with_database(sink_url(services, load(ClickHouseSettings)), database)
        }
        pipeline.start("sink", "sink", "--batch-seconds", "0.5", env={**sink_env, **principal.env("sink")})
        pipeline.start("worker", "worker", "--workers", str(config.workers), env=principal.env("worker"))
        command = principal.env("command")
        pipeline.start("command-center", "command-center", "--alerts", str(alerts), "--no-view", env=command)
        if config.web_port:
            if _port_free(config.web_port):
                pipeline.start("web", "web", "--port", str(config.web_port), env=command)
                echo(f"command centre on the web: http://127.0.0.1:{config.web_port}/ (while the demo runs)")
            else:
                echo(f"demo: port {config.web_port} is in use; no web page (choose one with --web-port)")
        sim = ["simulate", "--scenario", config.scenario, "--seed", str(config.seed)]
        sim += ["--speed", str(config.speed), "--scale", str(config.scale)]
        # The simulator's ledger of acknowledged events: what a delivery check compares the store with.
        sim += ["--ledger", str(run_dir / "ledger.jsonl")]
        if config.duration:
            sim += ["--duration", config.duration]
        pipeline.start("simulate", *sim, env=principal.env("publisher"))
        worst = _watch(
            pipeline, Probe(kafka.servers, prefix, kafka.client_options(), alerts), config.live, echo
        )
        echo(
            f"workers' lag while the simulator ran: at most {worst.messages:,} messages, "
            f"{worst.seconds:.1f} s of input"
        )
    except KeyboardInterrupt:
        interrupted = True
        echo("demo: interrupted; stopping every process it started …")
    finally:
        # A second Ctrl-C must not cut the shutdown short and orphan the children.
        previous_sigint = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            pipeline.stop_all()
        finally:
            signal.signal(signal.SIGINT, previous_sigint)
            signal.signal(signal.SIGTERM, previous_sigterm)
    if interrupted:
        echo(f"demo: stopped. The sink commits only after its inserts, so database {database} is consistent.")
        return 130
    echo(f"pipeline stopped after {time.monotonic() - started:.0f} s; reading the store {database}")
    with connect(url) as writer:
        figures = read_figures(writer)
    for line in format_summary(figures.summary):
        echo(line)
    out = config.out or run_dir / "report.html"
    path = write_report(
        figures,
        out,
        note=f"demo {stamp}, scenario {config.scenario}, seed {config.seed}, policy {config.policy_version}",
    )
    echo(f"CAP alerts: {sum(1 for _ in alerts.glob('*.xml'))} in {alerts}")
    echo(f"report: {path}")
    echo(f'query this run: gridflow sql --database {database} "SELECT count() FROM {{db}}.incidents_latest"')
    echo(
        f"  (the local server also takes GRIDFLOW_CLICKHOUSE_DATABASE={database}); `gridflow runs` lists all,"
    )
    echo(f"  `gridflow runs --drop demo-{stamp}` deletes this one's topics, database and folder.")
    echo("Kafka and ClickHouse keep running for the next run; `gridflow services down` stops them.")
    return 0


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _watch(pipeline: Pipeline, probe: Probe, show: bool, echo: Any) -> WorstLag:
    """Show progress until the simulator is done and workers and sink have caught up.

    Returns the workers' largest lag while the simulator ran: whether the pipeline kept up with the input.
    """
    started = time.monotonic()
    worst = WorstLag()
    drained_since: float | None = None
    done_at: float | None = None
    last_line = 0.0
    try:
        with live_view(show) as live:
            while True:
                time.sleep(1.0)
                failure = pipeline.failed()
                if failure:
                    raise ServiceError(failure)
                rates = probe.sample()
                done = pipeline.procs["simulate"].poll() == 0
                if not done:
                    worst.note(rates)
                phase = "draining" if done else "running"
                elapsed = time.monotonic() - started
                if live is not None:
                    live.update(render_rates(rates, phase, elapsed), refresh=True)
                elif time.monotonic() - last_line >= 5:
                    last_line = time.monotonic()
                    echo(
                        f"demo {phase} {elapsed:.0f}s: produced {rates.produced:,} "
                        f"processed {rates.processed:,} "
                        f"landed {rates.landed:,} lag {rates.stream_lag:,}/{rates.sink_lag:,} "
                        f"open {sum(rates.open_by_level.values()):,} alerts {rates.alerts:,}"
                    )
                caught_up = done and rates.stream_lag == 0 and rates.sink_lag == 0
                # Stable for a few seconds: timers fired by the last ticks may still be on their way out.
                drained_since = (drained_since or time.monotonic()) if caught_up else None
                if drained_since is not None and time.monotonic() - drained_since >= 3:
                    return worst
                done_at = (done_at or time.monotonic()) if done else None
                if done_at is not None and time.monotonic() - done_at > DRAIN_TIMEOUT_S:
                    # Stop anyway: the summary covers what landed, consistent since the sink commits last.
                    echo(
                        f"demo: still {rates.stream_lag:,} messages behind after {DRAIN_TIMEOUT_S:.0f} s of "
                        "draining; stopping now (try a smaller --scale or a lower --speed)"
                    )
                    return worst
    finally:
        probe.close()
