"""The reactive handler model: who answers, when, with which body and outcome; plans lapse when moved on."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import orjson

from producers.handlers import Reactor, load_handlers
from schemas.geography import geography

T0 = datetime.fromisoformat("2026-03-02T10:00:00+08:00")


def incident(
    n: int, level: int, lead: str, *, status: str = "open", category: str = "neighbour"
) -> dict[str, Any]:
    grid = geography().grids()[0].code
    return {
        "incident_id": f"00000000-0000-4000-8000-{n:012d}",
        "level": level,
        "status": status,
        "reopen_count": 0,
        "updated_at": T0.isoformat(),
        "grid_code": grid,
        "township_code": grid[:9],
        "handling_unit": grid[: {1: 15, 2: 12, 3: 9, 4: 6}[level]],
        "category": category,
        "lead_body": lead,
    }


def answers(reactor: Reactor) -> list[dict[str, Any]]:
    return [orjson.loads(r.value) for r in reactor.due(T0 + timedelta(days=400))]


def test_a_village_mediation_committee_mediates_or_refers_to_court() -> None:
    reactor = Reactor(load_handlers(), seed=1)
    for n in range(200):
        inc = incident(n, 2, "")
        inc["lead_body"] = f"{inc['grid_code'][:12]}:mediation_committee"
        reactor.observe(inc, T0)
    resolutions = [a for a in answers(reactor) if a["action"] == "resolve"]
    outcomes = Counter(a["outcome"] for a in resolutions)
    # bodies.toml: neighbour mediation succeeds 92 % of the time; the rest go to the county's court.
    assert set(outcomes) == {"mediated", "litigated"} and outcomes["mediated"] > 0.8 * len(resolutions)
    assert all(a["body"].endswith(":court") for a in resolutions if a["outcome"] == "litigated")
    assert all(a["body"].endswith(":mediation_committee") for a in resolutions if a["outcome"] == "mediated")


def test_a_plan_lapses_when_the_matter_moves_up() -> None:
    reactor = Reactor(load_handlers(), seed=1)
    inc = incident(1, 1, "")
    reactor.observe(inc, T0)
    reactor.observe({**inc, "level": 2, "handling_unit": inc["grid_code"][:12]}, T0 + timedelta(minutes=1))
    sent = answers(reactor)
    assert sent and {a["unit_code"] for a in sent} == {inc["grid_code"][:12]}  # only the village answers


def test_the_same_matter_meets_the_same_handler() -> None:
    one, two = Reactor(load_handlers(), seed=7), Reactor(load_handlers(), seed=7)
    for n in range(20):
        one.observe(incident(n, 1, ""), T0)
    for n in reversed(range(20)):  # another order of observation
        two.observe(incident(n, 1, ""), T0)
    assert sorted(map(str, answers(one))) == sorted(map(str, answers(two)))
