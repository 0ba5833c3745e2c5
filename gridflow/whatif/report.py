"""The what-if's HTML report: the same family as ``gridflow report`` (inline SVG, no JavaScript).

In page order: what differs between the policies; the KPIs side by side; the escalation funnel and SLA
compliance per level, one series per policy; with a sweep, each KPI against the swept value; and up to 50
incidents whose outcome differs, each with the rule ids that decided it on each side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from html import escape
from pathlib import Path

from gridflow.demo.report import STYLE
from gridflow.demo.svg import PALETTE, Series, column_chart, grouped_bar_chart
from gridflow.whatif.offline import Final, Outcome, differing
from gridflow.whatif.table import _LEVELS, _cell, _delta, kpi_rows
from schemas.enums import Level

_EXTRA_STYLE = """
table.diff { border-collapse: collapse; margin-bottom: 16px; font-size: 13px; }
table.diff td, table.diff th { border-bottom: 1px solid #e2e8f0; padding: 3px 10px 3px 0; text-align: left; }
table.diff td.v { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: 12px; }
"""

# KPIs plotted against a swept value: (label, value of an outcome).
_SWEEP_KPIS: tuple[tuple[str, Callable[[Outcome], float | None]], ...] = (
    ("小事不出村 settled at grid/village", lambda o: o.kpis.settled_at_village),
    ("大事不出镇 settled at or below township", lambda o: o.kpis.settled_at_township),
    ("上交率 pushed up to county/city", lambda o: o.kpis.push_up_rate),
    ("SLA compliance grid 网格", lambda o: o.kpis.sla_compliance[Level.GRID]),
    ("SLA compliance village 村", lambda o: o.kpis.sla_compliance[Level.VILLAGE]),
    ("reopen rate", lambda o: o.kpis.reopen_rate),
)


def charts(outcomes: Sequence[Outcome]) -> list[str]:
    """The funnel and SLA compliance per level, one series per policy."""
    labels = list(_LEVELS.values())
    color = [PALETTE[i % len(PALETTE)] for i in range(len(outcomes))]
    return [
        grouped_bar_chart(
            "五级联动 Escalation funnel: matters held at each level",
            labels,
            [
                Series(o.name, [float(o.entered[lv]) for lv in Level], color[i])
                for i, o in enumerate(outcomes)
            ],
        ),
        grouped_bar_chart(
            "SLA compliance by level (%)",
            labels,
            [
                Series(o.name, [round(100 * (o.kpis.sla_compliance[lv] or 0.0), 1) for lv in Level], color[i])
                for i, o in enumerate(outcomes)
            ],
        ),
        grouped_bar_chart(
            "Settled by level",
            labels,
            [
                Series(o.name, [float(o.settled_by[lv]) for lv in Level], color[i])
                for i, o in enumerate(outcomes)
            ],
        ),
    ]


def sweep_charts(outcomes: Sequence[Outcome], key: str) -> list[str]:
    """Each KPI against the swept value (one column per policy of the sweep, the base left out)."""
    swept = outcomes[1:]
    values = [o.name.partition("=")[2] or o.name for o in swept]
    return [
        column_chart(
            f"{label} (%) against {key}",
            [(v, round(100 * (get(o) or 0.0), 2)) for v, o in zip(values, swept, strict=True)],
            color=PALETTE[i % len(PALETTE)],
            width=520,
            height=220,
        )
        for i, (label, get) in enumerate(_SWEEP_KPIS)
    ]


def _kpi_table(outcomes: Sequence[Outcome]) -> str:
    head = "".join(f"<th>{escape(o.name)} ({escape(o.version)})</th>" for o in outcomes)
    head += "".join(f"<th>{escape(o.name)} − {escape(outcomes[0].name)}</th>" for o in outcomes[1:])
    rows = []
    for label, values in kpi_rows(outcomes):
        cells = "".join(f"<td class='v'>{escape(_cell(v))}</td>" for v in values)
        cells += "".join(f"<td class='v'>{escape(_delta(values[0], v))}</td>" for v in values[1:])
        rows.append(f"<tr><td>{escape(label)}</td>{cells}</tr>")
    return f"<table class='diff kpis'><tr><th>KPI</th>{head}</tr>{''.join(rows)}</table>"


def _side(state: Final | None) -> str:
    if state is None:
        return "<td>—</td><td></td>"
    return (
        f"<td>{escape(state.status)} at {escape(_LEVELS[Level(state.level)])}</td>"
        f"<td><code>{escape(' '.join(state.rules))}</code></td>"
    )


def _differing_table(base: Outcome, other: Outcome) -> str:
    rows = differing(base, other, 50)
    if not rows:
        return f"<p>No incident ends differently under {escape(other.name)}.</p>"
    body = "".join(f"<tr><td><code>{escape(key)}</code></td>{_side(a)}{_side(b)}</tr>" for key, a, b in rows)
    return (
        f"<h2>Incidents whose outcome differs: {escape(base.name)} vs {escape(other.name)} "
        f"(first {len(rows)})</h2><table class='diff incidents'><tr><th>incident</th>"
        f"<th>{escape(base.name)}</th><th>rule ids</th><th>{escape(other.name)}</th><th>rule ids</th></tr>"
        f"{body}</table>"
    )


def render_whatif(
    outcomes: Sequence[Outcome],
    policy_differences: Mapping[str, Sequence[tuple[str, str, str]]],
    *,
    note: str = "",
    sweep: str | None = None,
) -> str:
    base = outcomes[0]
    parts = [f"<h1>gridflow what-if — {escape(' vs '.join(o.name for o in outcomes))}</h1>"]
    parts.append(f"<p class='meta'>{escape(note)}</p>")
    for name, rows in policy_differences.items():
        if not rows:
            parts.append(f"<p>Policy {escape(name)} equals {escape(base.name)}.</p>")
            continue
        body = "".join(
            f"<tr><td><code>{escape(k)}</code></td><td>{escape(a)}</td><td>{escape(b)}</td></tr>"
            for k, a, b in rows
        )
        parts.append(
            f"<h2>{escape(name)} differs from {escape(base.name)}</h2><table class='diff policy'>"
            f"<tr><th>key</th><th>{escape(base.name)}</th><th>{escape(name)}</th></tr>{body}</table>"
        )
    parts.append(_kpi_table(outcomes))
    cards = charts(outcomes)
    if sweep is not None:
        cards += sweep_charts(outcomes, sweep.partition("=")[0])
    parts.append("<div class='grid'>" + "".join(f"<div class='card'>{svg}</div>" for svg in cards) + "</div>")
    for other in outcomes[1:]:
        parts.append(_differing_table(base, other))
    title = "gridflow what-if"
    return (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>{title}</title><style>{STYLE}{_EXTRA_STYLE}</style></head><body>"
        + "".join(parts)
        + "</body></html>\n"
    )


def write_whatif_report(
    outcomes: Sequence[Outcome],
    policy_differences: Mapping[str, Sequence[tuple[str, str, str]]],
    out: Path,
    sweep: str | None = None,
    note: str = "",
) -> Path:
    """Write the report to ``out`` (parents created) and return its absolute path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_whatif(outcomes, policy_differences, note=note, sweep=sweep), encoding="utf-8")
    return out.resolve()
