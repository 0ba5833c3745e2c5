"""Every analyst query returns the hand-computed answer for the known scenario, on both engines.

The scenario (tests/sinks_scenario.py) is loaded once per engine, including a redelivered tail, so each
answer also proves that duplicates do not leak into the KPIs. A query that only ran on one engine, or that
counted a redelivered row, fails here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence

import pytest
from sinks_scenario import DEAD_LETTERS, EXPECTED, INCIDENT_VERSIONS, INTAKE, REDELIVERED, TRANSITIONS

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
