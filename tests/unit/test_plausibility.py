"""A normal day looks like one under 矛盾不上交: the simulated normal_day, through the pure decision core.

The seeded simulator (half city scale, as the demo runs it) feeds the partition runners exactly as the
stream workers are fed (`gridflow.whatif.offline`, no servers). On a normal day at most 1 % of the matters
reach the city, and each level meets its SLA for at least 85 % of the matters it held. The calibration
behind these bounds (rates, facts, handling) is documented in producers/data/scenarios.toml.
"""

from __future__ import annotations

from functools import cache

from gridflow.whatif.offline import Load, Outcome, Run, run_one
from schemas.enums import Level
from schemas.policy import policy


@cache
def normal_day() -> Outcome:
    bundled = policy()
    return run_one(Run("normal_day", bundled, Load(scenario="normal_day", seed=1, scale=0.5), bundled))


def test_at_most_one_percent_of_matters_reach_the_city() -> None:
    outcome = normal_day()

    assert outcome.kpis.real > 5_000  # a whole day at half scale, not a trickle
    assert outcome.entered[Level.CITY] / outcome.kpis.real <= 0.01, outcome.entered


def test_every_level_meets_its_sla_for_85_percent_of_its_matters() -> None:
    compliance = normal_day().kpis.sla_compliance

    for level in Level:
        share = compliance[level]
        assert share is not None and share >= 0.85, (level, compliance)
