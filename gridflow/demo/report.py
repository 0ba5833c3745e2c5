"""The analyst report: one self-contained HTML page with inline SVG charts (no JavaScript, no network).

Charts, in page order (tests and the screenshot check rely on it): incidents by county, by category, by
hour; the escalation funnel by level; SLA compliance by level; the shares settled at each level; 多元化解
(mediation vs court, per kind of body); camera precision per alarm type; then a county map coloured by the
share settled at grid/village, that share per county, the time to resolve per level (a distribution), the
open backlog by level and age, and the repeat-dispute hotspots by name. The KPI summary table above them
holds the same figures ``gridflow demo`` prints, with the simulated period and the KPI definitions.

    gridflow report --out report.html      # on the configured store (or --database NAME)
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from pathlib import Path

from gridflow.demo.county_map import county_map
from gridflow.demo.figures import AGE_BUCKETS, LEVEL_NAMES, RESOLVE_BUCKETS, Figures, summary_rows
from gridflow.demo.svg import (
    PALETTE,
    RAMP,
    Series,
    bar_chart,
    column_chart,
    grouped_bar_chart,
    stacked_bar_chart,
)

STYLE = """
body { font-family: 'Noto Sans CJK SC', 'WenQuanYi Zen Hei', sans-serif; margin: 24px; color: #1a202c;
       background: #ffffff; }
h1 { font-size: 24px; margin: 0 0 4px 0; }
p.meta { color: #4a5568; margin: 0 0 16px 0; }
table.kpis { border-collapse: collapse; margin-bottom: 16px; }
table.kpis td { border-bottom: 1px solid #e2e8f0; padding: 3px 12px 3px 0; font-size: 14px; }
table.kpis td.v { text-align: right; font-variant-numeric: tabular-nums; }
div.grid { display: flex; flex-wrap: wrap; gap: 16px; }
details.defs { margin: 0 0 16px 0; font-size: 13px; color: #2d3748; max-width: 900px; }
details.defs dt { font-weight: bold; margin-top: 6px; }
details.defs dd { margin: 0 0 0 16px; }
div.card { border: 1px solid #e2e8f0; border-radius: 6px; padding: 6px; }
"""


# What each KPI counts (the same definitions as streams/core/kpis.py and the query pack).
KPI_DEFINITIONS = (
    (
        "matters",
        "incidents except false alarms, incidents merged into another, and alarms awaiting verification",
    ),
    (
        "小事不出村 settled at grid/village",
        "of the settled matters (resolved or closed), the share settled at grid or village level",
    ),
    (
        "大事不出镇 settled at or below township",
        "of the settled matters, the share settled at grid, village or township level",
    ),
    (
        "上交率 pushed up to county/city",
        "of the matters, the share pushed to county or city after opening (an SLA breach, a handler "
        "request, a cluster or a severity upgrade); 'at county/city' counts every route",
    ),
    (
        "SLA compliance Ln",
        "of the matters that held a running clock at level n, the share that did not breach it there "
        "(sla_breach from that level, overdue at city); clocks still running count as compliant",
    ),
    ("reopen rate", "reopened matters over matters ever resolved (false closures)"),
    (
        "overdue",
        "unresolved past the deadline at city level, or a severity-5 matter not acknowledged in time",
    ),
    (
        "time to resolve",
        "from opening to the first resolution, of the matters resolved, by the level that settled them",
    ),
    (
        "open backlog",
        "matters open or in progress at the store's last event time, by their level and age then",
    ),
    (
        "矛盾反复 repeat-dispute hotspot",
        "a grid and category whose matters were escalated as repeats (policy.repeat_threshold matters "
        "within policy.repeat_window), most repeats first",
    ),
)


def charts(figures: Figures) -> list[str]:
    """The report's SVG charts, in page order."""
    s = figures.summary
    funnel_labels = [label for label, *_ in figures.funnel]
    return [
        bar_chart("按旗县区 Incidents by county", figures.by_county, color=PALETTE[0]),
        bar_chart("按类别 Incidents by category", figures.by_category, color=PALETTE[1]),
        column_chart("按小时 Incidents by hour opened (Asia/Shanghai)", figures.by_hour, color=PALETTE[5]),
        grouped_bar_chart(
            "五级联动 Escalation funnel by level",
            funnel_labels,
            [
                Series("entered", [float(e) for _, e, _, _ in figures.funnel], PALETTE[0]),
                Series("escalated onward", [float(x) for _, _, x, _ in figures.funnel], PALETTE[1]),
                Series("settled here", [float(x) for _, _, _, x in figures.funnel], PALETTE[2]),
            ],
        ),
        bar_chart(
            "SLA compliance by level",
            [(LEVEL_NAMES[lv], v or 0.0) for lv, v in s.sla_compliance.items()],
            percent=True,
            maximum=1.0,
            color=PALETTE[2],
        ),
        bar_chart(
            "枫桥经验 Shares settled at each level",
            [
                ("小事不出村 grid/village", s.settled_at_village or 0.0),
                ("大事不出镇 ≤ township", s.settled_at_township or 0.0),
                ("上交率 pushed up", s.push_up_rate or 0.0),
                ("at county/city", s.county_city_share or 0.0),
            ],
            percent=True,
            maximum=1.0,
            color=PALETTE[3],
            label_width=190,
        ),
        grouped_bar_chart(
            "多元化解 Disputes settled by mediation vs a court, per dispute type",
            [name for name, _, _ in figures.settlement_by_category],
            [
                Series("mediated 调解", [float(m) for _, m, _ in figures.settlement_by_category], PALETTE[2]),
                Series(
                    "litigated 诉讼", [float(x) for _, _, x in figures.settlement_by_category], PALETTE[1]
                ),
            ],
        ),
        bar_chart(
            "多元化解 Matters settled per kind of body", figures.settled_by_body_kind, color=PALETTE[4]
        ),
        bar_chart(
            "雪亮工程 Camera precision per alarm type (confirmed / decided)",
            figures.camera_precision,
            percent=True,
            maximum=1.0,
            color=PALETTE[5],
        ),
        county_map(
            "地图 小事不出村 Share settled at grid/village, per county",
            {code: share for code, _, share, _ in figures.county_village_share},
        ),
        bar_chart(
            "小事不出村 Share settled at grid/village, per county",
            [(f"{name} (n = {n:,})", share) for _, name, share, n in figures.county_village_share],
            percent=True,
            maximum=1.0,
            color=PALETTE[0],
        ),
        _per_level_chart(
            "Time to resolve, per level that settled the matter (share of its matters)",
            figures.time_to_resolve,
            RESOLVE_BUCKETS,
            shares=True,
        ),
        _per_level_chart(
            "Open backlog by level and age (matters open or in progress at the last event)",
            figures.backlog,
            AGE_BUCKETS,
            shares=False,
        ),
        bar_chart(
            "矛盾反复 Repeat-dispute hotspots: repeat escalations (grid · township · county · category)",
            figures.hotspots,
            color=PALETTE[4],
            width=900,  # the labels are four names long
        ),
    ]


def _per_level_chart(
    title: str, counts: dict[int, list[int]], buckets: tuple[tuple[str, float], ...], *, shares: bool
) -> str:
    """Levels as rows, one segment per bucket (fast → slow, young → old in the ramp's colours)."""
    levels = sorted(counts)
    ramp = RAMP if len(buckets) == len(RAMP) else RAMP[: len(buckets) - 1] + RAMP[-1:]
    series = [
        Series(label, [float(counts[lv][i]) for lv in levels], ramp[i])
        for i, (label, _) in enumerate(buckets)
    ]
    return stacked_bar_chart(title, [LEVEL_NAMES[lv] for lv in levels], series, shares=shares)


def render_report(
    figures: Figures, *, title: str = "gridflow — 巴彦淖尔市 analyst report", note: str = ""
) -> str:
    """The whole HTML page."""
    rows = "".join(
        f"<tr><td>{escape(label)}</td><td class='v'>{escape(value)}</td></tr>"
        for label, value in summary_rows(figures.summary)
    )
    cards = "".join(f"<div class='card'>{svg}</div>" for svg in charts(figures))
    meta = f"database {escape(figures.database)}" + (f" · {escape(note)}" if note else "")
    if figures.period is not None:
        first, last = figures.period
        meta = f"simulated {escape(first)} → {escape(last)} (Asia/Shanghai, event time) · " + meta
    definitions = "".join(f"<dt>{escape(term)}</dt><dd>{escape(text)}</dd>" for term, text in KPI_DEFINITIONS)
    return (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1><p class='meta'>{meta}</p>"
        f"<table class='kpis'>{rows}</table>"
        f"<details class='defs'><summary>KPI definitions</summary><dl>{definitions}</dl></details>"
        f"<div class='grid'>{cards}</div></body></html>\n"
    )


def write_report(figures: Figures, out: Path, *, note: str = "") -> Path:
    """Write the report to ``out`` (its folder must exist: the commands check it first) and return its
    absolute path."""
    stamp = note or f"generated {datetime.now().astimezone().isoformat(timespec='seconds')}"
    out.write_text(render_report(figures, note=stamp), encoding="utf-8")
    return out.resolve()
