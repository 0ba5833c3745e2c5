"""``gridflow scenarios``: each simulated scenario in words — what it is, how long, what surges, and when.

The text comes from the scenario file itself (``producers/data/scenarios.toml``): the description, the start
and duration, the base rates and each surge's stream, rate, window (hours from the start), place and mix. So
a user can see before running that, say, a surge begins at hour 6 and a shorter ``--duration`` misses it.
"""

from __future__ import annotations

from producers.scenario import Scenario, Surge, scenario, scenario_names
from schemas.geography import geography


def _hours(value: float) -> str:
    return f"{value:g} h"


def _where(surge: Surge) -> str:
    geo = geography()
    places = [geo.unit(code).name for code in (*surge.counties, *surge.townships)]
    kinds = "/".join(surge.township_kinds)
    where = "、".join(places) if places else "city-wide"
    return f"{where} ({kinds} only)" if kinds else where


def _mix(weights: dict[str, float]) -> str:
    total = sum(weights.values()) or 1.0
    parts = sorted(weights.items(), key=lambda item: -item[1])
    return ", ".join(f"{name} {weight / total:.0%}" for name, weight in parts)


def describe(sc: Scenario) -> list[str]:
    """Lines describing one scenario."""
    hours = sc.duration.total_seconds() / 3600
    lines = [
        f"{sc.name}: starts {sc.start.isoformat(timespec='minutes')}, lasts {_hours(hours)}",
        "  " + " ".join(sc.description.split()),
        f"  base load: {sc.reports_per_day:,.0f} grid reports and {sc.alarm_events_per_day:,.0f} camera "
        f"events a day (at --scale 1); handling late {sc.handling.late:.0%}, never {sc.handling.never:.0%}, "
        f"handler requests {sc.handling.escalate:.0%}, reopened {sc.handling.reopen:.0%}",
    ]
    if sc.mix_factors:
        lines.append(f"  more than usual: {', '.join(f'{k} x{v:g}' for k, v in sc.mix_factors.items())}")
    for surge in sc.surges:
        lines.append(
            f"  surge: +{surge.per_hour:g} {surge.stream}/h from hour {surge.from_hour:g} to "
            f"{surge.to_hour:g} after the start, {_where(surge)}: {_mix(dict(surge.mix))}"
        )
    if sc.surges:
        first = min(surge.from_hour for surge in sc.surges)
        if first > 0:
            lines.append(
                f"  note: nothing surges before hour {first:g}; use --duration over {first:g}h to see it"
            )
    return lines


def describe_all() -> list[str]:
    lines: list[str] = []
    for name in scenario_names():
        lines.extend(describe(scenario(name)))
        lines.append("")
    return lines[:-1]
