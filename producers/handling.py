"""How handling units answer an incident: the planned chain of dispositions (处置反馈), drawn from a seed.

:func:`plan_chain` returns ``(time_ms, action, level)`` steps for one incident. The level says which unit
speaks (the grid's ancestor at that level). The simulator cannot know every decision the streams will take,
so it mirrors the policy's main ones: the incident starts at the level its severity routes to (1 grid …
5 city); a late answer comes after the SLA of that level has passed, so the unit one level up (where the SLA
breach moved the incident) resolves it; a handler request (request_escalation) hands it one level up; a
reopening follows a false closure. Some incidents never get a resolution, so their SLA clocks breach at
every level up to the city.

Delays are log-normal around a median per level (a grid member answers in minutes, a county office in an
hour or more); severity-5 incidents are acknowledged within the policy's 15 minutes.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from producers.scenario import Handling
from schemas.enums import DispositionAction as A
from schemas.enums import Level

MINUTE: Final = 60_000
HOUR: Final = 60 * MINUTE

# Median minutes until a unit at this level accepts a new matter.
_ACCEPT_MEDIAN_MIN: Final = {1: 12.0, 2: 25.0, 3: 40.0, 4: 60.0, 5: 20.0}
# Spread of the log-normal delays (sigma of the underlying normal).
_SIGMA: Final = 0.5


@dataclass(frozen=True, slots=True)
class Step:
    """One planned disposition: when, what, and the level of the unit that sends it."""

    at_ms: int
    action: A
    level: Level


def _lognormal_ms(rng: random.Random, median_min: float) -> int:
    return max(MINUTE // 2, int(median_min * math.exp(rng.gauss(0.0, _SIGMA)) * MINUTE))


def accept_delay_ms(rng: random.Random, level: int, severity: int) -> int:
    """Time until a unit at ``level`` accepts; severity 5 is acknowledged inside 15 minutes."""
    if severity >= 5:
        return rng.randint(2 * MINUTE, 13 * MINUTE)
    return _lognormal_ms(rng, _ACCEPT_MEDIAN_MIN[level])


def _up(level: int) -> Level:
    return Level(min(5, level + 1))


def plan_chain(
    rng: random.Random,
    t0_ms: int,
    severity: int,
    sla: dict[Level, timedelta],
    handling: Handling,
    *,
    urgent: bool = False,
) -> list[Step]:
    """The dispositions for an incident opened at ``t0_ms`` with ``severity``; ``sla`` per level.

    The outcome is one of normal, late, never, escalate or reopen, with the shares in ``handling``.
    ``urgent`` (a camera alarm a grid member confirms on site) is acknowledged as fast as a severity-5
    matter: the command centre sees the alarm and the report together, and the streams may lift it there.
    """
    level = Level(max(1, min(5, severity)))
    roll = rng.random()
    outcome = "normal"
    for name, share in (
        ("late", handling.late),
        ("never", handling.never),
        ("escalate", handling.escalate),
        ("reopen", handling.reopen),
    ):
        if roll < share:
            outcome = name
            break
        roll -= share
    # Assumptions (see producers/data/scenarios.toml): a county office settles what it holds rather than
    # refer it to the city (矛盾不上交), and a county- or city-level matter is always taken up, if late.
    if outcome == "escalate" and level >= Level.COUNTY:
        outcome = "normal"
    if outcome == "never" and level >= Level.COUNTY:
        outcome = "late"

    steps: list[Step] = []
    t = t0_ms + accept_delay_ms(rng, level, 5 if urgent else severity)
    level_start = t0_ms
    if outcome == "never":
        # Half of them are at least acknowledged; none is ever resolved, so every SLA breaches.
        if rng.random() < 0.5:
            steps.append(Step(t, A.ACCEPT, level))
        return steps
    steps.append(Step(t, A.ACCEPT, level))
    if rng.random() < 0.6:
        t += rng.randint(5 * MINUTE, 60 * MINUTE)
        steps.append(Step(t, A.DISPATCH, level))
    if outcome == "escalate" and level < Level.CITY:
        budget = sla[level].total_seconds() * 1000
        t += rng.randint(10 * MINUTE, max(10 * MINUTE + 1, int(0.4 * budget)))
        steps.append(Step(t, A.REQUEST_ESCALATION, level))
        level_start = t
        level = _up(level)
        t += accept_delay_ms(rng, level, severity)
        steps.append(Step(t, A.ACCEPT, level))

    sla_ms = int(sla[level].total_seconds() * 1000)
    due = level_start + sla_ms
    resolver = level
    if outcome == "late":
        # The SLA breach moves the incident one level up; that unit takes it over and settles it.
        resolver = _up(level)
        t_res = due + int(rng.uniform(0.05, 0.6) * sla_ms)
        takeover = due + accept_delay_ms(rng, resolver, severity)
        if resolver != level and takeover < t_res:
            steps.append(Step(takeover, A.ACCEPT, resolver))
    else:
        room = max(10 * MINUTE, due - t)
        t_res = t + int(rng.uniform(0.1, 0.85) * room)
    if rng.random() < 0.5:
        progress_at = (max(t, steps[-1].at_ms) + t_res) // 2
        steps.append(Step(progress_at, A.PROGRESS, resolver if progress_at >= due else level))
    steps.append(Step(t_res, A.RESOLVE, resolver))
    t = t_res

    if outcome == "reopen":
        # A false closure: the supervising unit's follow-up call finds the matter unsettled.
        t += rng.randint(2 * HOUR, 24 * HOUR)
        steps.append(Step(t, A.REOPEN, _up(resolver)))
        t += rng.randint(30 * MINUTE, 3 * HOUR)
        steps.append(Step(t, A.PROGRESS, resolver))
        t += rng.randint(HOUR, max(HOUR + 1, sla_ms // 2))
        steps.append(Step(t, A.RESOLVE, resolver))
    if outcome == "reopen" or rng.random() < 0.7:
        # 回访核实: the level above checks with the parties that the matter is settled.
        t += rng.randint(HOUR, 12 * HOUR)
        steps.append(Step(t, A.VERIFY, _up(resolver)))
    steps.sort(key=lambda s: s.at_ms)
    return steps
