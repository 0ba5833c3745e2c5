"""The producers' commands: ``gridflow simulate`` and ``gridflow replay`` (also ``python -m producers``).

``simulate`` generates a scenario (optionally with a data-quality overlay), records it to JSONL with
``--out``, and publishes it unless ``--dry-run``; ``replay`` re-sends a recording with the same keys and
tick partitions. Both pace by ``--speed`` (simulated seconds per wall second; 0 = no time pacing) and
``--rate`` (messages per second), show progress on stderr, write the delivery ledger with ``--ledger`` and
print a summary on stdout. Bad arguments raise ConfigError: one line naming the value and what was
expected, exit status 2.

Examples::

    gridflow simulate --scenario ice_jam_flood --seed 7 --duration 6h --speed 3600 --ledger acked.jsonl
    gridflow simulate --scenario normal_day --overlay data_quality --out day.jsonl.gz --dry-run
    gridflow replay day.jsonl.gz --speed 0 --rate 5000
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from infra.errors import ConfigError
from infra.paths import output_file
from producers.scenario import overlay, overlay_names, parse_duration, parse_start, scenario, scenario_names

# The gridflow CLI imports this module for every command, so the heavy modules load only when used.
if TYPE_CHECKING:
    from producers.pacing import Pacer
    from producers.progress import PublishProgress
    from producers.publisher import Publisher, PublishStats
    from producers.record import Record, Summary
    from producers.recording import RecordingWriter
    from schemas.policy import Policy


def _non_negative(name: str, value: float | None, meaning: str) -> None:
    if value is not None and (not math.isfinite(value) or value < 0):
        raise ConfigError(f"{name} {value}: expected a number >= 0 ({meaning})")


def _number(name: str, meaning: str) -> Callable[[str], float]:
    """A typer parser: a finite number >= 0, else a one-line ConfigError naming the option and value.

    Parsing here (not by typer) keeps a bad value to one line whatever click flavour typer ships.
    """

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ConfigError(f"{name} {text!r}: expected a number >= 0 ({meaning})") from None
        _non_negative(name, value, meaning)
        return value

    return parse


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"--seed {text!r}: expected an integer") from None


def _outputs(out: Path | None, ledger: Path | None) -> None:
    """Check the files this run will write before any work (one line, no traceback, nothing created)."""
    if out is not None:
        output_file("--out", out)
    if ledger is not None:
        output_file("--ledger", ledger)


def _counts(counter: dict[str, int]) -> str:
    return ", ".join(f"{name} {count:,}" for name, count in sorted(counter.items())) or "none"


def _describe(summary: Summary) -> list[str]:
    lines = [f"  records {summary.total:,}: {_counts(summary.kinds)}"]
    if summary.labels:
        labels = {name: sum(c.values()) for name, c in summary.labels.items()}
        lines.append(f"  injected by the overlay: {_counts(labels)}")
    return lines


def use_policy(path: Path | None) -> Policy:
    """The policy a run decides under: ``path`` (checked, and handed to child processes through
    ``GRIDFLOW_POLICY``), else ``GRIDFLOW_POLICY``, else the bundled one. A bad file ends as one line."""
    from infra.settings import PolicySettings, load
    from schemas.policy import policy_at

    if path is None:
        return policy_at(load(PolicySettings).policy)
    chosen = policy_at(path)
    os.environ["GRIDFLOW_POLICY"] = str(path.resolve())
    return chosen


PolicyOption = Annotated[
    Path | None,
    typer.Option("--policy", help="Escalation policy file (default: GRIDFLOW_POLICY, else the bundled one)."),
]


def _counted(records: Iterable[Record], summary: Summary) -> Iterator[Record]:
    for record in records:
        summary.add(record)
        yield record


def _incidents(prefix: str) -> Callable[[], list[bytes]]:
    """A reader of the incidents topic from its start: each call returns what arrived since the last."""
    from kafka import KafkaConsumer, TopicPartition

    from infra.settings import KafkaSettings, load
    from schemas.topics import topics

    kafka = load(KafkaSettings)
    spec = topics(prefix).incidents
    consumer = KafkaConsumer(
        bootstrap_servers=kafka.servers,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **kafka.client_options(),
    )
    consumer.assign([TopicPartition(spec.name, p) for p in range(spec.partitions)])

    def read() -> list[bytes]:
        batches = consumer.poll(timeout_ms=0, max_records=10_000)
        return [r.value for records in batches.values() for r in records if r.value is not None]

    return read


def _tee(records: Iterable[Record], writer: RecordingWriter | None) -> Iterator[Record]:
    for record in records:
        if writer is not None:
            writer.write(record)
        yield record


def _publisher(prefix: str | None, ledger: Path | None, compression: str | None) -> Publisher:
    from infra.settings import KafkaSettings, load
    from producers.ledger import Ledger
    from producers.publisher import Publisher

    kafka = load(KafkaSettings)
    return Publisher.from_settings(
        kafka,
        topic_prefix=kafka.topic_prefix if prefix is None else prefix,
        ledger=Ledger(ledger) if ledger is not None else None,
        compression=compression,
    )


def _run(
    records: Iterable[Record], publisher: Publisher, pacer: Pacer, progress: PublishProgress
) -> PublishStats:
    from producers.publisher import publish

    with progress:
        return publish(records, publisher, pacer, on_progress=progress.update)


def _report(stats: PublishStats, publisher: Publisher) -> None:
    typer.echo(
        f"  published {stats.sent:,} to {publisher.prefix or '(no prefix)'} "
        f"({publisher.compression}) in {stats.elapsed:.1f} s, {stats.rate:,.0f} msg/s: "
        f"acknowledged {stats.acked:,}, errors {stats.errors:,}"
    )
    if publisher.ledger is not None:
        typer.echo(f"  ledger {publisher.ledger.path}: {publisher.ledger.count:,} acknowledged events")
    if stats.errors or stats.acked != stats.sent:
        from producers.publisher import PublishError

        raise PublishError(
            f"{stats.sent - stats.acked:,} of {stats.sent:,} records not acknowledged "
            f"(first error: {stats.first_error or 'none reported'})"
        )


_SPEED_MEANING = "0 = as fast as the rate allows"
_RATE_MEANING = "messages per second; omit for no limit"
SpeedOption = Annotated[
    float,
    typer.Option(
        help="Simulated seconds per wall second (60: a minute per second); 0 = no time pacing.",
        parser=_number("--speed", _SPEED_MEANING),
    ),
]
RateOption = Annotated[
    float | None,
    typer.Option(help="At most this many messages per second.", parser=_number("--rate", _RATE_MEANING)),
]
LedgerOption = Annotated[
    Path | None, typer.Option(help="Write one JSON line per acknowledged event (the delivery oracle).")
]
PrefixOption = Annotated[str | None, typer.Option(help="Topic prefix (default GRIDFLOW_KAFKA_TOPIC_PREFIX).")]
CompressionOption = Annotated[
    str | None, typer.Option(help="lz4 (default where installed), gzip, zstd, snappy or none.")
]


def simulate(
    scenario_name: Annotated[
        str,
        typer.Option(
            "--scenario",
            help=f"One of: {', '.join(scenario_names())} (`gridflow scenarios`: what surges, and when).",
        ),
    ] = "normal_day",
    seed: Annotated[
        int, typer.Option(help="Seed: the same seed gives the same stream.", parser=_integer)
    ] = 1,
    start: Annotated[
        str | None, typer.Option(help="ISO start, Asia/Shanghai (default: the scenario's).")
    ] = None,
    duration: Annotated[
        str | None, typer.Option(help="Simulated period: 90m, 6h, 2d (default: the scenario's).")
    ] = None,
    speed: SpeedOption = 0.0,
    rate: RateOption = None,
    scale: Annotated[
        float,
        typer.Option(
            help="Multiply every arrival rate (1 = city scale).",
            parser=_number("--scale", "a multiplier of the scenario's rates"),
        ),
    ] = 1.0,
    overlay_name: Annotated[
        str | None, typer.Option("--overlay", help=f"Data-quality overlay: {', '.join(overlay_names())}.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Record the stream to JSONL (.gz to compress).")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Generate (and record) without publishing.")
    ] = False,
    ledger: LedgerOption = None,
    topic_prefix: PrefixOption = None,
    compression: CompressionOption = None,
    policy_file: PolicyOption = None,
    handlers: Annotated[
        str,
        typer.Option(
            help="scripted: the simulator's planned dispositions; reactive: the handler model answers the "
            "incidents the running workers produce (closed loop)."
        ),
    ] = "scripted",
) -> None:
    """Simulate Bayannur: grid reports, camera alarms, dispositions and clock ticks, published to Kafka."""
    from producers.pacing import Pacer
    from producers.progress import PublishProgress
    from producers.recording import RecordingWriter
    from producers.simulator import Simulator

    _non_negative("--speed", speed, _SPEED_MEANING)
    _non_negative("--rate", rate, _RATE_MEANING)
    _non_negative("--scale", scale, "a multiplier of the scenario's rates")
    if handlers not in ("scripted", "reactive"):
        raise ConfigError(f"--handlers {handlers!r}: expected scripted or reactive")
    if handlers == "reactive" and dry_run:
        raise ConfigError("--handlers reactive: needs running workers to react to; expected no --dry-run")
    sc = scenario(scenario_name)
    chosen_overlay = overlay(overlay_name) if overlay_name else None
    chosen_policy = use_policy(policy_file)
    begin = parse_start(start) if start else None
    period = parse_duration(duration) if duration else None
    _outputs(out, ledger)
    sim = Simulator(
        sc, seed, start=begin, duration=period, scale=scale, overlay=chosen_overlay, policy=chosen_policy
    )
    # Connect first: an unreachable broker fails in seconds, before anything is generated or written.
    publisher = None if dry_run else _publisher(topic_prefix, ledger, compression)
    writer = RecordingWriter(out, sim.header) if out is not None else None
    typer.echo(
        f"simulate {sc.name} seed {seed} {sim.start.isoformat()} → {sim.end.isoformat()}"
        + (f" overlay {chosen_overlay.name}" if chosen_overlay else "")
        + f" policy {chosen_policy.label}"
    )
    summary = sim.summary
    records = _tee(sim, writer)
    loop = None
    if handlers == "reactive":
        from producers.closed_loop import ClosedLoop
        from producers.handlers import Reactor, load_handlers
        from producers.record import Summary

        assert publisher is not None
        loop = ClosedLoop(sim, Reactor(load_handlers(), seed), _incidents(publisher.prefix), sim.start)
        summary = Summary()
        records = _tee(_counted(loop, summary), writer)
    try:
        if publisher is None:
            for _ in records:
                pass
        else:
            with publisher:
                progress = PublishProgress("simulate", sim.start, sim.end)
                stats = _run(records, publisher, Pacer(speed, rate), progress)
    finally:
        if writer is not None:
            writer.close(summary if loop is not None else sim.summary)
    for line in _describe(summary if loop is not None else sim.summary):
        typer.echo(line)
    if loop is not None:
        typer.echo(
            f"  reactive handlers: {loop.seen:,} incident snapshots seen, "
            f"{loop.reactor.sent:,} dispositions sent"
        )
    if writer is not None:
        typer.echo(f"  recorded to {out}")
    if publisher is not None:
        _report(stats, publisher)


def replay(
    file: Annotated[Path, typer.Argument(help="A recording written by `gridflow simulate --out`.")],
    speed: SpeedOption = 0.0,
    rate: RateOption = None,
    ledger: LedgerOption = None,
    topic_prefix: PrefixOption = None,
    compression: CompressionOption = None,
) -> None:
    """Re-send a recording with the same keys and tick partitions, at any speed."""
    from producers.pacing import Pacer
    from producers.progress import PublishProgress
    from producers.recording import RecordingReader

    _non_negative("--speed", speed, _SPEED_MEANING)
    _non_negative("--rate", rate, _RATE_MEANING)
    _outputs(None, ledger)
    reader = RecordingReader(file)
    header = reader.header or {}
    publisher = _publisher(topic_prefix, ledger, compression)
    typer.echo(
        f"replay {file}: {header.get('scenario')} seed {header.get('seed')} "
        f"{header.get('start')} → {header.get('end')}"
    )
    with publisher:
        start, end = header.get("start"), header.get("end")
        progress = PublishProgress(
            "replay",
            parse_start(start) if isinstance(start, str) else None,
            parse_start(end) if isinstance(end, str) else None,
        )
        stats = _run(reader, publisher, Pacer(speed, rate), progress)
    for line in _describe(reader.read):
        typer.echo(line)
    typer.echo(
        f"  malformed payloads sent {reader.read.kinds['malformed']:,}; bad lines {reader.bad_lines:,}"
    )
    for problem in reader.problems:
        typer.echo(f"  bad line: {problem}", err=True)
    for problem in reader.consistency():
        typer.echo(f"  warning: {problem}", err=True)
    _report(stats, publisher)


def register(app: typer.Typer) -> None:
    """Add ``simulate`` and ``replay`` to a Typer app (the gridflow CLI or ``python -m producers``)."""
    app.command("simulate")(simulate)
    app.command("replay")(replay)
