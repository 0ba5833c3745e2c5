"""Offline and ``--via-kafka`` give identical KPIs for the same policy.

One recording (six simulated hours at half city scale) under the bundled policy and the same with a grid
SLA of 2 h: offline through the decision core, and through the real worker and sink into a ClickHouse
database per policy, whose KPIs are read back with the analysts' query pack. Both ways agree on every
KPI (the store rounds ratios to four places, as the query pack does); the two policies differ in the grid
SLA breaches both ways (the comparison is not between two equal things), and each database records the
policy it ran under.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from gridflow.demo.figures import Summary
from gridflow.runs import load_runs
from gridflow.whatif.offline import Load, Outcome, Run, run_one
from gridflow.whatif.policies import parse_named, variant
from gridflow.whatif.via_kafka import run_via_kafka
from producers.recording import RecordingWriter
from producers.scenario import scenario
from producers.simulator import Simulator
from schemas.enums import Level
from schemas.policy import POLICY_FILE
from sinks import with_database
from sinks.connection import connect

pytestmark = pytest.mark.slow


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def offline_summary(o: Outcome) -> dict[str, object]:
    k = o.kpis
    return {
        "incidents": k.real,
        "settled": k.settled,
        "settled_at_village": _r(k.settled_at_village),
        "settled_at_township": _r(k.settled_at_township),
        "push_up_rate": _r(k.push_up_rate),
        "county_city_share": _r(k.county_city_share),
        "reopen_rate": _r(k.reopen_rate),
        "sla_compliance": {int(lv): _r(v) for lv, v in k.sla_compliance.items()},
    }


def store_summary(s: Summary) -> dict[str, object]:
    return {
        "incidents": s.incidents,
        "settled": s.settled,
        "settled_at_village": s.settled_at_village,
        "settled_at_township": s.settled_at_township,
        "push_up_rate": s.push_up_rate,
        "county_city_share": s.county_city_share,
        "reopen_rate": s.reopen_rate,
        "sla_compliance": s.sla_compliance,
    }


def test_offline_and_via_kafka_give_identical_kpis(
    kafka_bootstrap: str, clickhouse_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in [k for k in os.environ if k.startswith("GRIDFLOW_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("GRIDFLOW_KAFKA_BOOTSTRAP", kafka_bootstrap)
    monkeypatch.setenv("GRIDFLOW_CLICKHOUSE_URL", clickhouse_url)
    monkeypatch.setenv("GRIDFLOW_STATE_DIR", str(tmp_path / "state"))
    sim = Simulator(scenario("normal_day"), 1, duration=timedelta(hours=6), scale=0.5)
    recording = tmp_path / "day.jsonl"
    with RecordingWriter(recording, sim.header) as writer:
        for record in sim:
            writer.write(record)
        writer.close(sim.summary)
    base = parse_named(f"base={POLICY_FILE}")
    alt = variant(base, "sla.grid", "2h", tmp_path)

    offline = [run_one(Run(p.name, p.policy, Load(recording=recording), base.policy)) for p in (base, alt)]
    stores = run_via_kafka([base, alt], recording, echo=lambda _: None)

    for o, s in zip(offline, stores, strict=True):
        assert store_summary(s.summary) == offline_summary(o), o.name
    # The two policies differ, both ways.
    assert offline[1].sla_breaches[Level.GRID] > offline[0].sla_breaches[Level.GRID]
    assert (stores[1].summary.sla_compliance[1] or 0) < (stores[0].summary.sla_compliance[1] or 0)
    # Each database says which policy it ran under.
    for s in stores:
        with connect(with_database(clickhouse_url, s.database)) as store:
            rows = store.query(f"SELECT policy, policy_version FROM {s.database}.whatif_run").rows
        assert [tuple(r) for r in rows] == [(s.name, s.version)]
    # `gridflow runs` lists both, with where their data is, so `--drop` can clean them up.
    listed = {run.database: run for run in load_runs(tmp_path / "state")}
    assert set(listed) == {s.database for s in stores}
    assert {(run.kind, run.policy_version) for run in listed.values()} == {
        ("whatif", s.version) for s in stores
    }
