"""``gridflow demo``: a simulated day of Bayannur through the whole pipeline, watched live, with answers.

It starts the local services (unless configured), picks a fresh topic prefix (``demo-<stamp>.``) and a fresh
database (``demo_<stamp>``) so every run's figures are its own, runs ``gridflow init``, then the stream
worker, the sink, the command-centre feed and the simulator as subprocesses (logs in the run folder). While
they run it shows produced / processed / landed per second, the consumer lag of the workers and the sink, and
the open incidents by level. When the simulator is done and both lags are zero it stops the pipeline
(SIGTERM, wait), reads the KPIs from the store, prints them and writes the HTML report.

Every ClickHouse access happens in a subprocess until the sink has stopped, because an embedded (chdb) store
is owned by one process at a time. Ctrl-C stops every process started here; the sink commits offsets only
after its inserts, so the store stays consistent and a later run starts afresh anyway.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from gridflow.errors import ServiceError

GRIDFLOW = [sys.executable, "-m", "gridflow.cli"]
STOP_TIMEOUT_S = 20.0  # then SIGKILL: at-least-once with idempotent effects makes that safe
DRAIN_TIMEOUT_S = 300.0
STATUSES_DONE = ("resolved", "closed", "false_alarm", "merged")


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


@dataclass
class Rates:
    """Counters sampled once a second, and their per-second rates."""

    produced: int = 0
    processed: int = 0
    landed: int = 0
    stream_lag: int = 0
    sink_lag: int = 0
    per_second: dict[str, float] = field(default_factory=dict)
    open_by_level: dict[int, int] = field(default_factory=dict)
    simulated: datetime | None = None
    alerts: int = 0


class Pipeline:
    """The demo's child processes, their environment and log files."""

    def __init__(self, env: dict[str, str], run_dir: Path) -> None:
        self.env = env
        self.run_dir = run_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, IO[bytes]] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.run_dir / f"{name}.log").open("wb")
        # A session of its own: Ctrl-C in the terminal reaches only the demo, which stops children in order.
        proc = subprocess.Popen(
            [*GRIDFLOW, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs[name], self.logs[name] = proc, log
        return proc

    def run(self, *args: str) -> str:
        result = subprocess.run(
            [*GRIDFLOW, *args], env=self.env, capture_output=True, text=True, check=False, timeout=300
        )
        if result.returncode != 0:
            last = (result.stderr or result.stdout).strip().splitlines()
            raise ServiceError(f"gridflow {args[0]} failed: {last[-1] if last else result.returncode}")
        return result.stdout

    def failed(self) -> str | None:
        """The first child that exited with an error, described in one line, or None."""
        for name, proc in self.procs.items():
            if proc.poll() not in (None, 0):
                return f"{name} exited with status {proc.returncode}; see {self.run_dir / (name + '.log')}"
        return None

    def stop(self, *names: str) -> None:
        """SIGTERM to each named child's process group, then wait (SIGKILL after the timeout)."""
        for name in names:
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for name in names:
            proc = self.procs.get(name)
            if proc is None:
                continue
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def stop_all(self) -> None:
        # Producer first, then the consumers, so nothing new arrives while they shut down.
        self.stop("simulate")
        self.stop("command-center", "worker", "sink")
        for log in self.logs.values():
            log.close()


class Probe:
    """Reads offsets and the incidents topic to fill :class:`Rates` (Kafka only, no ClickHouse)."""

    def __init__(self, bootstrap: str, prefix: str, options: dict[str, Any], alerts: Path) -> None:
        from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

        from gridflow.lag import partitions_of
        from schemas.topics import topics
        from sinks.sink import sink_topics

        self.names = topics(prefix)
        self.prefix = prefix
        self.alerts = alerts
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap, **options)
        self.offsets = KafkaConsumer(bootstrap_servers=bootstrap, **options)
        self.intake = partitions_of(self.names.intake)
        self.sunk = partitions_of(sink_topics(prefix))
        self.incidents = KafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest", **options
        )
        spec = self.names.incidents
        self.incidents.assign([TopicPartition(spec.name, p) for p in range(spec.partitions)])
        self.state: dict[bytes, tuple[int, str]] = {}
        self.previous: tuple[float, int, int, int] | None = None
        self.simulated: datetime | None = None

    def _committed(self, group: str) -> dict[Any, int]:
        from kafka.errors import (
            CoordinatorLoadInProgressError,
            CoordinatorNotAvailableError,
            NotCoordinatorError,
        )

        try:
            found = self.admin.list_group_offsets(group).get(group, {})
        except (NotCoordinatorError, CoordinatorNotAvailableError, CoordinatorLoadInProgressError):
            return {}
        return {tp: meta.offset for tp, meta in found.items() if meta.offset >= 0}

    def _incidents(self) -> None:
        import orjson

        for records in self.incidents.poll(timeout_ms=50, max_records=20000).values():
            for record in records:
                if record.value is None or record.key is None:
                    continue
                data = orjson.loads(record.value)
                self.state[record.key] = (int(data["level"]), str(data["status"]))
                at = datetime.fromisoformat(data["updated_at"])
                if self.simulated is None or at > self.simulated:
                    self.simulated = at

    def sample(self) -> Rates:
        ends = self.offsets.end_offsets(self.sunk)
        streams = self._committed(f"{self.prefix}gridflow-streams")
        sink = self._committed(f"{self.prefix}gridflow-sink")
        produced = sum(ends[tp] for tp in self.intake)
        processed = sum(streams.get(tp, 0) for tp in self.intake)
        landed = sum(sink.get(tp, 0) for tp in self.sunk)
        self._incidents()
        now = time.monotonic()
        rates: dict[str, float] = {}
        if self.previous is not None:
            dt = max(1e-3, now - self.previous[0])
            rates = {
                "produced": (produced - self.previous[1]) / dt,
                "processed": (processed - self.previous[2]) / dt,
                "landed": (landed - self.previous[3]) / dt,
            }
        self.previous = (now, produced, processed, landed)
        open_by_level = dict.fromkeys(range(1, 6), 0)
        for level, status in self.state.values():
            if status not in STATUSES_DONE:
                open_by_level[level] = open_by_level.get(level, 0) + 1
        return Rates(
            produced=produced,
            processed=processed,
            landed=landed,
            stream_lag=produced - processed,
            sink_lag=sum(ends[tp] for tp in self.sunk) - landed,
            per_second=rates,
            open_by_level=open_by_level,
            simulated=self.simulated,
            alerts=sum(1 for _ in self.alerts.glob("*.xml")) if self.alerts.exists() else 0,
        )

    def close(self) -> None:
        self.incidents.close()
        self.offsets.close()
        self.admin.close()


def render_rates(rates: Rates, phase: str, elapsed: float) -> Any:
    """The live panel: throughput, lag and open incidents by level."""
    from rich.table import Table

    table = Table(title=f"gridflow demo — {phase} · {elapsed:.0f} s", show_header=True)
    table.add_column("")
    table.add_column("total", justify="right")
    table.add_column("per second", justify="right")
    per = rates.per_second
    table.add_row("produced (intake)", f"{rates.produced:,}", f"{per.get('produced', 0):,.0f}")
    table.add_row("processed (workers)", f"{rates.processed:,}", f"{per.get('processed', 0):,.0f}")
    table.add_row("landed (sink)", f"{rates.landed:,}", f"{per.get('landed', 0):,.0f}")
    table.add_row("consumer lag workers / sink", f"{rates.stream_lag:,} / {rates.sink_lag:,}", "")
    names = {1: "grid", 2: "village", 3: "township", 4: "county", 5: "city"}
    for lv, n in sorted(rates.open_by_level.items()):
        table.add_row(f"open incidents L{lv} {names[lv]}", f"{n:,}", "")
    table.add_row("CAP alerts (county/city)", f"{rates.alerts:,}", "")
    sim = rates.simulated.isoformat(timespec="minutes") if rates.simulated else "—"
    table.add_row("simulated time", sim, "")
    return table


@contextmanager
def _live(enabled: bool) -> Iterator[Any]:
    from rich.console import Console
    from rich.live import Live

    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield None
        return
    with Live(console=console, auto_refresh=False, transient=False) as live:
        yield live


def _stamp() -> str:
    return datetime.now().astimezone().strftime("%Y%m%d%H%M%S")


def _env(bootstrap: str, prefix: str, url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GRIDFLOW_KAFKA_BOOTSTRAP=bootstrap,
        GRIDFLOW_KAFKA_TOPIC_PREFIX=prefix,
        GRIDFLOW_CLICKHOUSE_URL=url,
        PYTHONUNBUFFERED="1",
    )
    return env


def run_demo(config: DemoConfig, echo: Any = print) -> int:
    """Run the demo; returns the exit status (0 done, 130 interrupted)."""
    from gridflow.demo.figures import format_summary, read_figures
    from gridflow.demo.report import write_report
    from gridflow.services.manager import Services
    from gridflow.settings import ClickHouseSettings, KafkaSettings, ServiceSettings, clickhouse_url, load
    from sinks.connection import connect
    from sinks.url import with_database

    started = time.monotonic()
    for line in Services().up():
        echo(line)
    services, kafka = load(ServiceSettings), load(KafkaSettings)
    stamp = _stamp()
    prefix = f"demo-{stamp}."
    database = config.database or f"demo_{stamp}"
    url = with_database(clickhouse_url(services, load(ClickHouseSettings)), database)
    run_dir = services.state / "demo" / stamp
    run_dir.mkdir(parents=True, exist_ok=True)
    alerts = run_dir / "cap"
    pipeline = Pipeline(_env(kafka.servers, prefix, url), run_dir)
    echo(f"demo {stamp}: topics {prefix}*, database {database}, logs in {run_dir}")
    echo(pipeline.run("init").strip())
    interrupted = False
    previous_sigterm = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        pipeline.start("sink", "sink", "--batch-seconds", "0.5")
        pipeline.start("worker", "worker", "--workers", str(config.workers))
        pipeline.start("command-center", "command-center", "--alerts", str(alerts), "--no-view")
        sim = ["simulate", "--scenario", config.scenario, "--seed", str(config.seed)]
        sim += ["--speed", str(config.speed), "--scale", str(config.scale)]
        if config.duration:
            sim += ["--duration", config.duration]
        pipeline.start("simulate", *sim)
        _watch(pipeline, Probe(kafka.servers, prefix, kafka.client_options(), alerts), config.live, echo)
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
    path = write_report(figures, out, note=f"demo {stamp}, scenario {config.scenario}, seed {config.seed}")
    echo(f"CAP alerts: {sum(1 for _ in alerts.glob('*.xml'))} in {alerts}")
    echo(f"report: {path}")
    echo("Kafka and ClickHouse keep running for the next run; `gridflow services down` stops them.")
    return 0


def _watch(pipeline: Pipeline, probe: Probe, live_view: bool, echo: Any) -> None:
    """Show progress until the simulator is done and workers and sink have caught up."""
    started = time.monotonic()
    drained_since: float | None = None
    done_at: float | None = None
    last_line = 0.0
    try:
        with _live(live_view) as live:
            while True:
                time.sleep(1.0)
                failure = pipeline.failed()
                if failure:
                    raise ServiceError(failure)
                rates = probe.sample()
                done = pipeline.procs["simulate"].poll() == 0
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
                    return
                done_at = (done_at or time.monotonic()) if done else None
                if done_at is not None and time.monotonic() - done_at > DRAIN_TIMEOUT_S:
                    # Stop anyway: the summary covers what landed, consistent since the sink commits last.
                    echo(
                        f"demo: still {rates.stream_lag:,} messages behind after {DRAIN_TIMEOUT_S:.0f} s of "
                        "draining; stopping now (try a smaller --scale or a lower --speed)"
                    )
                    return
    finally:
        probe.close()
