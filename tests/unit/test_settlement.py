"""多元化解 in the simulator: dispositions name their body; mediation succeeds at its dispute type's rate and
a failed mediation is referred to the county's people's court (诉调对接), which settles by judgment."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime

import orjson
import pytest

from producers.events import EventFactory
from schemas.bodies import bodies
from schemas.enums import DispositionAction, Level
from schemas.geography import geography

GEO = geography()
GRID = GEO.grids()[0].code
FACTORY = EventFactory(GEO, datetime(2026, 3, 2, tzinfo=UTC))
A = DispositionAction
GEO_ID = uuid.UUID(int=7)  # the incident the dispositions answer


def resolutions(category: str, level: Level, n: int = 2000) -> Counter[tuple[str, str | None]]:
    out: Counter[tuple[str, str | None]] = Counter()
    for seed in range(n):
        message = orjson.loads(FACTORY.disposition(seed, 0, GEO_ID, GRID, A.RESOLVE, level, category).value)
        out[(message["body"], message["outcome"])] += 1
    return out


@pytest.mark.parametrize("category", ["neighbour", "labour", "medical"])
def test_mediation_succeeds_at_the_dispute_types_rate_else_the_court_judges(category: str) -> None:
    got = resolutions(category, Level.TOWNSHIP if category == "neighbour" else Level.GRID)
    mediated = sum(c for (_, outcome), c in got.items() if outcome == "mediated")
    litigated = {body for (body, outcome) in got if outcome == "litigated"}
    rate = bodies().mediation[category].success
    assert abs(mediated / 2000 - rate) < 0.04
    assert litigated == {f"{GRID[:6]}:court"}
    assert set(o for _, o in got) == {"mediated", "litigated"}


def test_other_actions_name_the_lead_body_without_an_outcome() -> None:
    message = orjson.loads(FACTORY.disposition(1, 0, GEO_ID, GRID, A.ACCEPT, Level.GRID, "neighbour").value)
    assert (message["body"], message["outcome"]) == (f"{GRID[:12]}:mediation_committee", None)


def test_non_disputes_are_handled_by_their_lead_body() -> None:
    fire = resolutions("fire", Level.COUNTY, 50)
    assert set(fire) == {(f"{GRID[:6]}:fire_rescue", "handled")}
