"""The offline what-if: policies as input, their differences, the KPIs of each, handlers that react."""

from __future__ import annotations

import dataclasses
import statistics
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gridflow.whatif.offline import Load, Outcome, Run, count_differing, run_one
from gridflow.whatif.policies import NamedPolicy, differences, parse_named, variant
from gridflow.whatif.table import differences_table, kpi_table, width
from infra.errors import ConfigError
from producers.handlers import load_handlers
from producers.recording import RecordingWriter
from producers.scenario import scenario
from producers.simulator import Simulator
from schemas.enums import Level
from schemas.errors import DataFileError
from schemas.policy import POLICY_FILE, policy
from streams.core.escalation import Engine

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fixed recording: six simulated hours of a normal day at half city scale, seed 1."""
    sim = Simulator(scenario("normal_day"), 1, duration=timedelta(hours=6), scale=0.5)
    path = tmp_path_factory.mktemp("whatif") / "day.jsonl"
    with RecordingWriter(path, sim.header) as writer:
        for record in sim:
            writer.write(record)
        writer.close(sim.summary)
    return path


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two simulated days at a tenth of city scale: long enough for village mediations to end."""
    sim = Simulator(scenario("normal_day"), 1, duration=timedelta(days=2), scale=0.1)
    path = tmp_path_factory.mktemp("whatif") / "two-days.jsonl"
    with RecordingWriter(path, sim.header) as writer:
        for record in sim:
            writer.write(record)
        writer.close(sim.summary)
    return path


@pytest.fixture(scope="module")
def base() -> NamedPolicy:
    return parse_named(f"base={POLICY_FILE}")


def grid_sla(base: NamedPolicy, hours: int, tmp: Path) -> NamedPolicy:
    return variant(base, "sla.grid", f"{hours}h", tmp)


def median(values: list[timedelta]) -> timedelta:
    return sorted(values)[len(values) // 2]


def run(load: Load, named: NamedPolicy, *, reactive: bool, engine: Engine | None = None) -> Outcome:
    handlers = load_handlers() if reactive else None
    return run_one(Run(named.name, named.policy, load, policy(), handlers, 1, engine))


def test_a_grid_sla_of_2h_breaches_more_at_grid_level_than_4h(
    recording: Path, base: NamedPolicy, tmp_path: Path
) -> None:
    load = Load(recording=recording)
    four = run(load, base, reactive=False)
    two = run(load, grid_sla(base, 2, tmp_path), reactive=False)

    assert two.sla_breaches[Level.GRID] > four.sla_breaches[Level.GRID]
    assert (two.kpis.sla_compliance[Level.GRID] or 0) < (four.kpis.sla_compliance[Level.GRID] or 0)
    # The exact counts of this offline run (deterministic: same recording, same policies).
    # 111 matters held a clock at grid level under both policies. Unverified alarms run the verification
    # task's own 2 h SLA (policy.verification_sla, issue 13) under both, so some of them breach at grid
    # level under the 4 h policy too. (Counts re-recorded after the simulator's calibration, issue 18.)
    assert (four.sla_breaches[Level.GRID], two.sla_breaches[Level.GRID]) == (9, 26)
    assert four.kpis.sla_compliance[Level.GRID] == pytest.approx(102 / 111)
    assert two.kpis.sla_compliance[Level.GRID] == pytest.approx(85 / 111)
    assert (four.kpis.real, two.kpis.real) == (291, 291)


def settled(outcome: Outcome, category: str) -> list[tuple[int, timedelta]]:
    return [
        (f.level, datetime.fromisoformat(f.resolved_at) - datetime.fromisoformat(f.opened_at))
        for f in outcome.final.values()
        if f.category == category and f.resolved_at is not None
    ]


def assert_settled_one_level_up(before: Outcome, after: Outcome, category: str) -> None:
    was, now = settled(before, category), settled(after, category)
    assert was and now
    assert statistics.mode(level for level, _ in was) == Level.GRID
    assert statistics.mode(level for level, _ in now) == Level.VILLAGE
    assert not any(level == Level.GRID for level, _ in now)  # no grid member settles them any more
    assert median([t for _, t in now]) > median([t for _, t in was])


def test_reactive_handlers_settle_where_the_policy_routes(
    two_days: Path, base: NamedPolicy, tmp_path: Path
) -> None:
    """A policy routing severity 1 (neighbour disputes among others) to the village, not the grid, changes
    which level's handler settles those matters, and how long that takes."""
    text = POLICY_FILE.read_text(encoding="utf-8")
    routed = 'severity = 1\nlevel = "grid"'
    assert routed in text
    path = tmp_path / "village-first.toml"
    path.write_text(text.replace(routed, 'severity = 1\nlevel = "village"'), encoding="utf-8")
    up = parse_named(f"up={path}")
    assert [key for key, _, _ in differences(base, up)] == ["severity_levels"]

    load = Load(recording=two_days)
    before, after = run(load, base, reactive=True), run(load, up, reactive=True)
    assert_settled_one_level_up(before, after, "neighbour")


def test_routing_one_category_up_leaves_the_others_with_the_same_handlers(
    two_days: Path, base: NamedPolicy
) -> None:
    """Only neighbour disputes start one level higher (their taxonomy severity + 1): they are settled at
    village level and later; most other matters end exactly as before (same handlers, same draws)."""
    load = Load(recording=two_days)
    bundled = Engine.bundled()
    neighbour = bundled.taxonomy.categories["neighbour"]
    higher = neighbour.model_copy(update={"base_severity": neighbour.base_severity + 1})
    categories = {**bundled.taxonomy.categories, "neighbour": higher}
    taxonomy = bundled.taxonomy.model_copy(update={"categories": categories})
    routed_up = dataclasses.replace(bundled, taxonomy=taxonomy)

    before = run(load, base, reactive=True)
    after = run(load, dataclasses.replace(base, name="up"), reactive=True, engine=routed_up)
    assert_settled_one_level_up(before, after, "neighbour")
    others = [k for k, f in before.final.items() if f.category != "neighbour"]
    same = sum(1 for k in others if before.final[k] == after.final.get(k))
    assert same > 0.9 * len(others)


def test_a_run_is_deterministic(recording: Path, base: NamedPolicy) -> None:
    load = Load(recording=recording)
    first, second = run(load, base, reactive=True), run(load, base, reactive=True)
    assert first.final == second.final and count_differing(first, second) == 0
    assert first.dispositions_sent == second.dispositions_sent > 0


def test_differences_name_key_old_and_new(base: NamedPolicy, tmp_path: Path) -> None:
    two = grid_sla(base, 2, tmp_path)
    rows = differences(base, two)
    assert ("default_sla.grid", "4h", "2h") in rows
    assert [key for key, _, _ in rows] == ["default_sla.grid", "version"]


def test_a_policy_equal_to_the_base_is_reported_as_such(base: NamedPolicy) -> None:
    same = parse_named(f"copy={POLICY_FILE}")
    assert differences(base, same) == []
    assert differences_table("base", "copy", []) == [
        "policy copy equals base: no key differs (the run goes ahead)"
    ]


def test_an_invalid_policy_names_key_value_and_expectation(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        POLICY_FILE.read_text(encoding="utf-8").replace("cluster_threshold = 5", "cluster_threshold = 1")
    )
    with pytest.raises(DataFileError) as info:
        parse_named(f"bad={path}")
    text = str(info.value)
    assert "cluster_threshold" in text and "got 1" in text and "greater than or equal to 2" in text


def test_a_sweep_key_that_does_not_exist_is_one_line(base: NamedPolicy, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sla\.hamlet: no such key"):
        variant(base, "sla.hamlet", "2h", tmp_path)


def test_kpi_table_aligns_chinese_labels_by_display_width(recording: Path, base: NamedPolicy) -> None:
    outcome = run(Load(recording=recording), base, reactive=False)
    lines = kpi_table([outcome, dataclasses.replace(outcome, name="copy")])
    assert width("小事不出村") == 10
    # Every row ends at the same column, whatever mix of Chinese and Latin its label has.
    widths = {width(line) for line in lines if not line.rstrip().endswith("—")}
    assert len(widths) == 1, lines
