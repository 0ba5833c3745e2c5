"""The what-if's terminal output: policy differences and the KPIs side by side, aligned by display width.

Chinese characters take two terminal columns, so padding by ``len`` would skew every column after a label
such as 小事不出村; `width` counts East Asian wide and full-width characters as two.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import timedelta

from gridflow.whatif.offline import Outcome
from schemas.enums import Level

_LEVELS = {
    Level.GRID: "grid 网格",
    Level.VILLAGE: "village 村",
    Level.TOWNSHIP: "township 镇",
    Level.COUNTY: "county 县",
    Level.CITY: "city 市",
}


def width(text: str) -> int:
    """Terminal columns ``text`` takes: wide and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, columns: int, right: bool = False) -> str:
    gap = " " * max(0, columns - width(text))
    return gap + text if right else text + gap


def render(rows: Sequence[Sequence[str]], right_from: int = 1) -> list[str]:
    """Rows as aligned lines; columns from ``right_from`` on are right-aligned."""
    widths = [max(width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(pad(cell, widths[i], right=i >= right_from) for i, cell in enumerate(row)).rstrip()
        for row in rows
    ]


def differences_table(base: str, other: str, rows: Sequence[tuple[str, str, str]]) -> list[str]:
    if not rows:
        return [f"policy {other} equals {base}: no key differs (the run goes ahead)"]
    return [f"policy {other} differs from {base} in {len(rows)} key(s):"] + [
        "  " + line for line in render([("key", base, other), *rows], right_from=99)
    ]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f} %"


def _pp(a: float | None, b: float | None) -> str:
    return "" if a is None or b is None else f"{100 * (b - a):+.2f} pp"


def _dur(value: timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m"


def _ddur(a: timedelta | None, b: timedelta | None) -> str:
    if a is None or b is None:
        return ""
    delta = int((b - a).total_seconds() // 60)
    sign = "-" if delta < 0 else "+"
    return f"{sign}{abs(delta) // 60}h{abs(delta) % 60:02d}m"


def _int(value: int) -> str:
    return f"{value:,}"


def _dint(a: int, b: int) -> str:
    return f"{b - a:+,}"


def kpi_rows(outcomes: Sequence[Outcome]) -> list[tuple[str, list[object]]]:
    """(label, value per outcome) for every KPI the what-if compares."""
    rows: list[tuple[str, list[object]]] = [
        ("incidents", [o.kpis.incidents for o in outcomes]),
        ("real matters", [o.kpis.real for o in outcomes]),
        ("settled", [o.kpis.settled for o in outcomes]),
        ("小事不出村 settled at grid/village", [o.kpis.settled_at_village for o in outcomes]),
        ("大事不出镇 settled at or below township", [o.kpis.settled_at_township for o in outcomes]),
        ("上交率 pushed up to county/city", [o.kpis.push_up_rate for o in outcomes]),
    ]
    for level, name in _LEVELS.items():
        rows.append((f"SLA compliance {name}", [o.kpis.sla_compliance[level] for o in outcomes]))
    for level, name in _LEVELS.items():
        rows.append((f"sla_breach from {name}", [o.sla_breaches[level] for o in outcomes]))
    rows.append(("reopen rate", [o.kpis.reopen_rate for o in outcomes]))
    reasons = sorted({r for o in outcomes for r in o.escalations})
    for reason in reasons:
        rows.append((f"escalations: {reason}", [o.escalations.get(reason, 0) for o in outcomes]))
    rows.append(("time to resolve p50", [o.kpis.resolve_p50 for o in outcomes]))
    rows.append(("time to resolve p90", [o.kpis.resolve_p90 for o in outcomes]))
    for level, name in _LEVELS.items():
        rows.append((f"settled by {name}", [o.settled_by[level] for o in outcomes]))
        rows.append(("  time to resolve p50 there", [o.resolve_p50_by[level] for o in outcomes]))
    rows.append(("dead letters", [o.dead_letters for o in outcomes]))
    return rows


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return _pct(value)
    if isinstance(value, timedelta):
        return _dur(value)
    if isinstance(value, int):
        return _int(value)
    return str(value)


def _delta(a: object, b: object) -> str:
    if isinstance(a, float) or isinstance(b, float):
        return _pp(a if isinstance(a, float) else None, b if isinstance(b, float) else None)
    if isinstance(a, timedelta) or isinstance(b, timedelta):
        return _ddur(a if isinstance(a, timedelta) else None, b if isinstance(b, timedelta) else None)
    if isinstance(a, int) and isinstance(b, int):
        return _dint(a, b)
    return ""


def kpi_table(outcomes: Sequence[Outcome]) -> list[str]:
    """The KPIs of every policy side by side; a difference column per policy after the first."""
    head = ["KPI", *(f"{o.name} ({o.version})" for o in outcomes)]
    head += [f"{o.name} − {outcomes[0].name}" for o in outcomes[1:]]
    rows = [head]
    for label, values in kpi_rows(outcomes):
        rows.append([label, *(_cell(v) for v in values), *(_delta(values[0], v) for v in values[1:])])
    return render(rows)


def store_table(names: Sequence[str], rows_per_run: Sequence[Sequence[tuple[str, str]]]) -> list[str]:
    """The store's KPI summaries (``gridflow.demo.figures.summary_rows``) of several runs side by side."""
    head = ["KPI (from the store)", *names]
    rows = [head]
    for i, (label, _) in enumerate(rows_per_run[0]):
        rows.append([label, *(run[i][1] for run in rows_per_run)])
    return render(rows)
