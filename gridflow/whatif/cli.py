"""``gridflow whatif``: one load under several policies, the Fengqiao KPIs side by side.

    gridflow whatif --recording day.jsonl.gz --policy base=schemas/data/policy.toml --policy alt=my.toml
    gridflow whatif --scenario normal_day --duration 1d --seed 1 --scale 0.5 --policy alt=my.toml \\
        --sweep sla.grid=2h,4h,8h --out whatif.html

The first ``--policy`` is the base (the bundled policy when none is given); the input is generated under
it. By default handlers react to what each policy does (`producers.handlers`); ``--handlers scripted``
replays the recording's own dispositions instead (history as it happened).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from infra.errors import ConfigError

if TYPE_CHECKING:
    from gridflow.whatif.offline import Load
    from gridflow.whatif.policies import NamedPolicy
    from schemas.policy import Policy

HANDLERS = ("reactive", "scripted")


def whatif(
    recording: Annotated[
        Path | None, typer.Option(help="A recording (`gridflow simulate --out`); else --scenario.")
    ] = None,
    scenario_name: Annotated[str, typer.Option("--scenario", help="Simulated scenario.")] = "normal_day",
    duration: Annotated[str | None, typer.Option(help="Simulated period: 6h, 1d, 30d.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the simulation and of the handlers.")] = 1,
    scale: Annotated[float, typer.Option(help="Multiply every arrival rate (1 = city scale).")] = 1.0,
    policies: Annotated[
        list[str] | None,
        typer.Option("--policy", help="NAME=FILE, repeated; the first is the base (default: the bundled)."),
    ] = None,
    sweep: Annotated[
        str | None, typer.Option(help="KEY=V1,V2,...: one policy per value, e.g. sla.grid=2h,4h,8h.")
    ] = None,
    handlers: Annotated[str, typer.Option(help="reactive (default) or scripted dispositions.")] = "reactive",
    handler_model: Annotated[
        Path | None, typer.Option(help="Handler model file (default: the bundled one).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the HTML report here.")] = None,
    via_kafka: Annotated[
        bool,
        typer.Option(
            "--via-kafka",
            help="Also run each policy through the real worker and sink (own topics and database each); "
            "scripted handlers.",
        ),
    ] = False,
    processes: Annotated[
        int | None, typer.Option(help="Processes (default: one per policy, up to the cores).")
    ] = None,
) -> None:
    """Run one load under several escalation policies, offline, and compare the Fengqiao KPIs."""
    from gridflow.whatif.offline import Load, Run, count_differing, run_all
    from gridflow.whatif.policies import differences, parse_named, parse_sweep, variant
    from gridflow.whatif.table import differences_table, kpi_table
    from producers.handlers import load_handlers
    from producers.scenario import parse_duration, scenario
    from schemas.policy import POLICY_FILE

    if handlers not in HANDLERS:
        raise ConfigError(f"--handlers {handlers!r}: expected one of {', '.join(HANDLERS)}")
    if via_kafka and handlers != "scripted":
        raise ConfigError("--via-kafka: replays the recording's dispositions; expected --handlers scripted")
    if not scale > 0:
        raise ConfigError(f"--scale {scale}: expected a number > 0")
    if processes is not None and processes < 1:
        raise ConfigError(f"--processes {processes}: expected a whole number >= 1")
    if recording is not None and not recording.is_file():
        raise ConfigError(f"--recording {str(recording)!r}: no such file; expected a recording")
    scenario(scenario_name)  # an unknown scenario ends here, as one line
    named = [parse_named(text) for text in policies or [f"base={POLICY_FILE}"]]
    names = [p.name for p in named]
    if len(set(names)) != len(names):
        raise ConfigError(f"--policy: names {names} repeat; expected one name per policy")
    with tempfile.TemporaryDirectory(prefix="gridflow-whatif-") as tmp:
        if sweep is not None:
            key, values = parse_sweep(sweep)
            named = [named[0], *(variant(named[0], key, value, Path(tmp)) for value in values)]
        base = named[0]
        for other in named[1:]:
            for line in differences_table(base.name, other.name, differences(base, other)):
                typer.echo(line)
        load = Load(
            recording=recording,
            scenario=scenario_name,
            duration=parse_duration(duration) if duration else None,
            seed=seed,
            scale=scale,
        )
        model = load_handlers(handler_model) if handlers == "reactive" else None
        runs = [Run(p.name, p.policy, load, base.policy, model, seed) for p in named]
        typer.echo(
            f"whatif: {load.describe()}, {len(runs)} policies, {handlers} handlers, "
            f"offline (one process per policy)",
            err=True,
        )
        outcomes = run_all(runs, processes)
    for line in kpi_table(outcomes):
        typer.echo(line)
    for outcome in outcomes[1:]:
        typer.echo(
            f"incidents whose outcome differs, {outcome.name} vs {base.name}: "
            f"{count_differing(outcomes[0], outcome):,}"
        )
    for outcome in outcomes:
        typer.echo(
            f"{outcome.name}: {outcome.records:,} records in {outcome.seconds:.1f} s "
            f"({outcome.rate:,.0f} records/s)",
            err=True,
        )
    if out is not None:
        from gridflow.whatif.report import write_whatif_report

        note = f"{load.describe()}, {handlers} handlers"
        path = write_whatif_report(outcomes, named_differences(named), out, sweep, note)
        typer.echo(f"report: {path}")
    if via_kafka:
        _via_kafka(named, load, base.policy)


def _via_kafka(named: list[NamedPolicy], load: Load, base: Policy) -> None:
    from gridflow.demo.figures import summary_rows
    from gridflow.whatif.table import store_table
    from gridflow.whatif.via_kafka import run_via_kafka
    from producers.recording import RecordingWriter
    from producers.simulator import Simulator

    with tempfile.TemporaryDirectory(prefix="gridflow-whatif-") as tmp:
        recording = load.recording
        if recording is None:  # the same records the offline runs simulated, written once
            recording = Path(tmp) / "load.jsonl"
            from producers.scenario import scenario

            sim = Simulator(
                scenario(load.scenario), load.seed, duration=load.duration, scale=load.scale, policy=base
            )
            with RecordingWriter(recording, sim.header) as writer:
                for record in sim:
                    writer.write(record)
                writer.close(sim.summary)
        about: dict[str, object] = {"seed": load.seed, "scale": load.scale}
        if load.recording is None:  # else the recording is named, and its own header says the rest
            about |= {"scenario": load.scenario, "duration": str(load.duration or "")}
        runs = run_via_kafka(named, recording, lambda line: typer.echo(line, err=True), about)
    for line in store_table(
        [f"{r.name} ({r.database})" for r in runs], [summary_rows(r.summary) for r in runs]
    ):
        typer.echo(line)


def named_differences(named: list[NamedPolicy]) -> dict[str, list[tuple[str, str, str]]]:
    from gridflow.whatif.policies import differences

    return {p.name: differences(named[0], p) for p in named[1:]}


def register(app: typer.Typer) -> None:
    app.command("whatif")(whatif)
