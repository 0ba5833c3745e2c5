"""Every analyst query returns the hand-computed answer for the known scenario, on both engines.

The scenario (tests/sinks_scenario.py) is loaded once per engine, including a redelivered tail, so each
answer also proves that duplicates do not leak into the KPIs. A query that only ran on one engine, or that
counted a redelivered row, fails here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from sinks_scenario import (
    CAMERA_ALERTS,
    DEAD_LETTERS,
    EXPECTED,
    INCIDENT_VERSIONS,
    INTAKE,
    REDELIVERED,
    TRANSITIONS,
)

from gridflow.demo.figures import read_figures, read_summary
from schemas.messages import MessageUnion
from sinks import (
    Writer,
    apply_migrations,
    blocks_of,
    connect,
    drop_database,
    load_queries,
    run_query,
    with_database,
)
from sinks.dimensions import load_dimensions

QUERIES = sorted(load_queries())


@pytest.fixture(scope="module", params=["server", "chdb"])
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Writer]:
    """One engine with the scenario loaded; built once per module because every query only reads it."""
    if request.param == "server":
        database = f"gfpack_{uuid.uuid4().hex[:10]}"
        url = with_database(request.getfixturevalue("clickhouse_url"), database)
    else:
        url = f"chdb://{tmp_path_factory.mktemp('chdb_pack')}"
    writer = connect(url)
    try:
        apply_migrations(writer)
        load_dimensions(writer)
        batches: list[Sequence[MessageUnion]] = [INTAKE, INCIDENT_VERSIONS, TRANSITIONS, DEAD_LETTERS]
        for batch in batches:
            for table, columns in blocks_of(batch, ingested_at=1_772_409_600).items():
                writer.insert_block(table, columns)
        for table, columns in blocks_of(REDELIVERED, ingested_at=1_772_413_200).items():
            writer.insert_block(table, columns)
        yield writer
    finally:
        if request.param == "server":
            drop_database(writer)
        writer.close()


def same(actual: Sequence[Sequence[object]], expected: Sequence[Sequence[object]]) -> bool:
    if len(actual) != len(expected):
        return False
    for got_row, want_row in zip(actual, expected, strict=True):
        if len(got_row) != len(want_row):
            return False
        for got, want in zip(got_row, want_row, strict=True):
            if isinstance(want, float):
                if not isinstance(got, int | float) or got != pytest.approx(want, abs=1e-9):
                    return False
            elif got != want:
                return False
    return True


def test_every_query_has_an_expected_answer() -> None:
    assert set(QUERIES) == set(EXPECTED)


@pytest.mark.parametrize("name", QUERIES)
def test_query_returns_the_hand_computed_answer(loaded: Writer, name: str) -> None:
    result = run_query(loaded, name)

    assert same(result.rows, EXPECTED[name]), f"{name}\n got  {result.rows}\n want {EXPECTED[name]}"
    assert len(set(result.columns)) == len(result.columns)


def test_query_pack_agrees_with_the_streams_reference_kpis(loaded: Writer) -> None:
    # streams/core/kpis.py computes the same KPIs in Python from the messages; the SQL must agree.
    kpis = pytest.importorskip("streams.core.kpis")
    reference = kpis.fengqiao_kpis(
        INCIDENT_VERSIONS, TRANSITIONS, camera_of={alert.event_id: alert.camera_id for alert in CAMERA_ALERTS}
    )

    def rows(name: str) -> list[dict[str, Any]]:
        return run_query(loaded, name).dicts()

    assert rows("share_settled_village")[0]["share"] == pytest.approx(reference.settled_at_village)
    assert rows("share_settled_township")[0]["share"] == pytest.approx(reference.settled_at_township)
    counties = rows("push_up_rate_by_county")
    matters = sum(row["incidents"] for row in counties)
    assert matters == reference.real
    assert sum(row["pushed_up"] for row in counties) / matters == pytest.approx(reference.push_up_rate)
    assert sum(row["at_county_or_city"] for row in counties) / matters == pytest.approx(
        reference.county_city_share
    )
    held: dict[int, list[int]] = {}
    for row in rows("sla_compliance_by_level_category"):
        totals = held.setdefault(row["level"], [0, 0])
        totals[0] += row["held"]
        totals[1] += row["breached_count"]
    for level, compliance in reference.sla_compliance.items():
        if compliance is None:
            assert int(level) not in held
        else:
            kept, breached = held[int(level)]
            assert (kept - breached) / kept == pytest.approx(compliance)
    assert rows("reopen_rate")[0]["reopen_rate"] == pytest.approx(reference.reopen_rate)
    precision = {row["camera_id"]: row["precision"] for row in rows("camera_precision_by_camera")}
    assert precision == pytest.approx(reference.camera_precision)
    hotspots = [
        (r["grid_code"], r["category"], r["repeat_escalations"]) for r in rows("repeat_dispute_hotspots")
    ]
    assert hotspots == reference.repeat_hotspots


def test_the_demo_summary_and_report_show_the_multi_party_figures(loaded: Writer) -> None:
    # 多元化解 in the analyst summary and the report's figures, from the same query pack.
    summary = read_summary(loaded)
    assert (summary.mediated, summary.litigated, summary.arbitrated, summary.mediation_share) == (
        1,
        1,
        0,
        0.5,
    )
    figures = read_figures(loaded)
    assert figures.settled_by_body_kind == [("court", 1.0), ("mediation_committee", 1.0)]
    # Sorted by name: 小额债务纠纷 small_debt (litigated) before 相邻关系纠纷 neighbour (mediated).
    assert [(m, lit) for _, m, lit in figures.settlement_by_category] == [(0, 1), (1, 0)]


# A code column and the name the dimension tables give it (units, categories, rules).
NAME_OF = {
    "county_code": "county_name",
    "category": "category_name",
    "body": "unit_name",
    "rule_id": "meaning",
}


@pytest.mark.parametrize("name", [q for q in QUERIES if q != "repeat_dispute_hotspots"])  # has a _named twin
def test_every_code_a_query_shows_comes_with_its_name(loaded: Writer, name: str) -> None:
    result = run_query(loaded, name)
    rows = result.dicts()

    for code, label in NAME_OF.items():
        if code in result.columns:
            assert label in result.columns, f"{name} shows {code} without {label}"
            assert rows and all(row[label] for row in rows), f"{name}: a {code} without its {label}"


def test_the_report_figures_read_names_distributions_and_the_backlog(loaded: Writer) -> None:
    figures = read_figures(loaded)

    # Settled: A grid 2 h, B village 10 h, G village 4 h, C township 30 h, D county 50 h (hours to resolve).
    assert figures.time_to_resolve == {
        1: [0, 1, 0, 0, 0, 0, 0],
        2: [0, 0, 2, 0, 0, 0, 0],
        3: [0, 0, 0, 1, 0, 0, 0],
        4: [0, 0, 0, 1, 0, 0, 0],
        5: [0, 0, 0, 0, 0, 0, 0],
    }
    # 临河区 settled A (grid), B (village), C (township); 五原县 G (village), D (county).
    assert figures.county_village_share == [("150802", "临河区", 0.6667, 3), ("150821", "五原县", 0.5, 2)]
    assert figures.hotspots == [("花园社区第1网格 · 车站街道 · 临河区 · 相邻关系纠纷", 1.0)]
    # Still open at the last event (J's overdue mark, hour 342): E in progress at county, J open at city.
    assert figures.backlog[4] == [0, 0, 0, 0, 1] and figures.backlog[5] == [0, 0, 0, 0, 1]
    assert sum(map(sum, figures.backlog.values())) == 2
