"""The analyst's figures read from a ClickHouse store: the KPI summary and the breakdowns the report charts.

Ratios come from the query pack (``sinks/queries/*.sql``, which mirrors :mod:`streams.core.kpis`), so the
demo's summary, the HTML report and ``gridflow sql --file`` all agree. Breakdowns the pack does not hold
(incidents per county, category and hour) are small SELECTs over the same ``incidents_latest`` view,
restricted to matters (the pack's definition: no false alarms, merged-away incidents or alarms awaiting
verification).

    >>> with connect(url) as writer:
    ...     figures = read_figures(writer)
    >>> print("\\n".join(format_summary(figures.summary)))
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rich.cells import cell_len

from schemas.enums import Level
from schemas.geography import geography
from schemas.taxonomy import taxonomy
from sinks.queries import run_query
from sinks.writer import Value, Writer

LEVEL_NAMES: dict[int, str] = {
    1: "网格 grid",
    2: "村/社区 village",
    3: "乡镇 township",
    4: "旗县区 county",
    5: "市 city",
}
MATTERS = "status NOT IN ('merged', 'false_alarm', 'pending_verification')"
# The escalation paths of the policy (docs/policy.md); the summary counts the transitions of each.
ESCALATION_REASONS = ("sla_breach", "severity_upgrade", "repeat_dispute", "cluster", "handler_request")
# Time-to-resolve and backlog-age buckets: (label, upper bound in hours); the last bucket has no bound.
RESOLVE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("< 1 h", 1),
    ("1–4 h", 4),
    ("4–24 h", 24),
    ("1–3 d", 72),
    ("3–7 d", 168),
    ("7–14 d", 336),
    ("≥ 14 d", math.inf),
)
AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("< 4 h", 4),
    ("4–24 h", 24),
    ("1–3 d", 72),
    ("3–7 d", 168),
    ("≥ 7 d", math.inf),
)


@dataclass(frozen=True, slots=True)
class Summary:
    """The Fengqiao KPIs of one store; ratios are None when their denominator is empty."""

    intake_events: int
    incidents: int
    transitions: int
    settled: int
    settled_at_village: float | None
    settled_at_township: float | None
    push_up_rate: float | None
    county_city_share: float | None
    reopen_rate: float | None
    escalated_to_county: int
    escalated_to_city: int
    sla_compliance: dict[int, float | None] = field(default_factory=dict)
    escalation_reasons: dict[str, int] = field(default_factory=dict)
    # 多元化解 (司法一元 → 社会多元): disputes settled by mediation, a court after referral, arbitration.
    mediated: int = 0
    litigated: int = 0
    arbitrated: int = 0
    mediation_share: float | None = None
    verification_overdue: int = 0  # alarms whose verification task ran out at grid and at the village


@dataclass(frozen=True, slots=True)
class Figures:
    """Everything the report shows: the summary plus (label, value) breakdowns."""

    summary: Summary
    by_county: list[tuple[str, float]]
    by_category: list[tuple[str, float]]
    by_hour: list[tuple[str, float]]
    funnel: list[tuple[str, int, int, int]]  # level label, entered, escalated onward, settled here
    database: str
    # 多元化解: per dispute type (mediated, litigated), and the matters settled per kind of body.
    settlement_by_category: list[tuple[str, int, int]] = field(default_factory=list)
    settled_by_body_kind: list[tuple[str, float]] = field(default_factory=list)
    # Camera precision per alarm type: confirmed / (confirmed + false alarms), decided incidents only.
    camera_precision: list[tuple[str, float]] = field(default_factory=list)
    # The simulated (event-time) period the matters were opened in, as ISO minutes in Asia/Shanghai.
    period: tuple[str, str] | None = None
    # Settled matters per level they were settled at, counted per RESOLVE_BUCKETS of hours to resolve.
    time_to_resolve: dict[int, list[int]] = field(default_factory=dict)
    # Per county (code, name): the share of its settled matters settled at grid or village, and how many.
    county_village_share: list[tuple[str, str, float, int]] = field(default_factory=list)
    # 矛盾反复 hotspots, most repeats first: (grid · township · county · category names, repeat escalations).
    hotspots: list[tuple[str, float]] = field(default_factory=list)
    # Open matters (open, in progress) per level, counted per AGE_BUCKETS of age at the store's last event.
    backlog: dict[int, list[int]] = field(default_factory=dict)


def _int(value: Value) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _ratio(value: Value) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _share(part: int, whole: int) -> float | None:
    # Rounded as the query pack rounds, so the summary's figures equal the SQL's.
    return None if whole == 0 else round(part / whole, 4)


def read_summary(writer: Writer) -> Summary:
    """The KPI summary of the writer's database."""
    db = writer.database
    village = run_query(writer, "share_settled_village").dicts()[0]
    township = run_query(writer, "share_settled_township").dicts()[0]
    counties = run_query(writer, "push_up_rate_by_county").dicts()
    matters = sum(_int(r["incidents"]) for r in counties)
    pushed = sum(_int(r["pushed_up"]) for r in counties)
    high = sum(_int(r["at_county_or_city"]) for r in counties)
    reopen = run_query(writer, "reopen_rate").dicts()[0]
    held: dict[int, int] = {}
    breached: dict[int, int] = {}
    for row in run_query(writer, "sla_compliance_by_level_category").dicts():
        level = _int(row["level"])
        held[level] = held.get(level, 0) + _int(row["held"])
        breached[level] = breached.get(level, 0) + _int(row["breached_count"])
    sla = {lv: (None if lv not in held else round(1 - breached[lv] / held[lv], 4)) for lv in range(1, 6)}
    escalations = writer.query(
        f"SELECT countIf(toUInt8(to_level) = 4), countIf(toUInt8(to_level) = 5) "
        f"FROM {db}.transitions_distinct WHERE from_level IS NOT NULL "
        f"AND toUInt8(to_level) > toUInt8(assumeNotNull(from_level))"
    ).rows[0]
    reasons = dict.fromkeys(ESCALATION_REASONS, 0)
    for reason, count in writer.query(
        f"SELECT CAST(reason AS String) AS r, count() FROM {db}.transitions_distinct GROUP BY r"
    ).rows:
        if reason in reasons:
            reasons[str(reason)] = _int(count)
    settlements = run_query(writer, "settled_by_mediation_vs_litigation").dicts()
    mediated = sum(_int(r["mediated"]) for r in settlements)
    litigated = sum(_int(r["litigated"]) for r in settlements)
    arbitrated = sum(_int(r["arbitrated"]) for r in settlements)
    overdue = sum(_int(r["overdue"]) for r in run_query(writer, "overdue_verifications").dicts())
    return Summary(
        verification_overdue=overdue,
        mediated=mediated,
        litigated=litigated,
        arbitrated=arbitrated,
        mediation_share=_share(mediated, mediated + litigated + arbitrated),
        escalation_reasons=reasons,
        intake_events=_int(writer.query(f"SELECT count() FROM {db}.events_distinct").scalar()),
        incidents=matters,
        transitions=_int(writer.query(f"SELECT count() FROM {db}.transitions_distinct").scalar()),
        settled=_int(village["settled"]),
        settled_at_village=_ratio(village["share"]),
        settled_at_township=_ratio(township["share"]),
        push_up_rate=_share(pushed, matters),
        county_city_share=_share(high, matters),
        reopen_rate=_ratio(reopen["reopen_rate"]),
        escalated_to_county=_int(escalations[0]),
        escalated_to_city=_int(escalations[1]),
        sla_compliance=sla,
    )


def read_figures(writer: Writer) -> Figures:
    """The summary and every breakdown the report charts."""
    db = writer.database
    geo, tax = geography(), taxonomy()
    counties = writer.query(
        f"SELECT CAST(county_code AS String), count() FROM {db}.incidents_latest WHERE {MATTERS} "
        f"GROUP BY county_code ORDER BY county_code"
    ).rows
    categories = writer.query(
        f"SELECT CAST(category AS String) AS c, count() AS n FROM {db}.incidents_latest WHERE {MATTERS} "
        f"GROUP BY c ORDER BY n DESC, c"
    ).rows
    hours: dict[int, int] = {
        _int(h): _int(n)
        for h, n in writer.query(
            f"SELECT toHour(opened_at) AS h, count() FROM {db}.incidents_latest WHERE {MATTERS} GROUP BY h"
        ).rows
    }
    funnel = [
        (
            LEVEL_NAMES[_int(r["level"])],
            _int(r["entered"]),
            _int(r["escalated_onward"]),
            _int(r["settled_here"]),
        )
        for r in run_query(writer, "escalation_funnel").dicts()
    ]

    def category_name(code: str) -> str:
        known = tax.categories.get(code)
        return f"{known.name_zh} {code}" if known else code

    by_category: dict[str, list[int]] = {}
    for row in run_query(writer, "settled_by_mediation_vs_litigation").dicts():
        counts = by_category.setdefault(category_name(str(row["category"])), [0, 0])
        counts[0] += _int(row["mediated"])
        counts[1] += _int(row["litigated"])
    kinds: dict[str, int] = {}
    for row in run_query(writer, "body_load_and_time_to_resolve").dicts():
        kinds[str(row["kind"])] = kinds.get(str(row["kind"]), 0) + _int(row["settled"])
    return Figures(
        settlement_by_category=[(name, m, lit) for name, (m, lit) in sorted(by_category.items())],
        settled_by_body_kind=[
            (k, float(n)) for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])) if n
        ],
        summary=read_summary(writer),
        by_county=[(f"{geo.unit(str(code)).name} {code}", float(_int(n))) for code, n in counties],
        by_category=[(category_name(str(code)), float(_int(n))) for code, n in categories],
        by_hour=[(f"{h:02d}", float(hours.get(h, 0))) for h in range(24)],
        funnel=funnel,
        database=db,
        period=_period(writer),
        camera_precision=[
            (str(r["alert_type"]), float(str(r["precision"])))
            for r in run_query(writer, "camera_precision_by_alert_type").dicts()
            if r["precision"] is not None
        ],
        time_to_resolve=_time_to_resolve(writer),
        county_village_share=_county_village_share(writer),
        hotspots=_hotspots(writer),
        backlog=_backlog(writer),
    )


def _bucket_sql(hours: str, buckets: tuple[tuple[str, float], ...]) -> str:
    """A multiIf giving the index of the bucket ``hours`` falls in."""
    bounds = [bound for _, bound in buckets if math.isfinite(bound)]
    arms = ", ".join(f"{hours} < {bound:g}, {i}" for i, bound in enumerate(bounds))
    return f"multiIf({arms}, {len(bounds)})"


def _per_level(rows: list[tuple[Value, ...]], buckets: int) -> dict[int, list[int]]:
    counts = {level: [0] * buckets for level in range(1, 6)}
    for level, bucket, n in rows:
        counts[_int(level)][_int(bucket)] += _int(n)
    return counts


def _time_to_resolve(writer: Writer) -> dict[int, list[int]]:
    # The level is the one the matter had when it was settled (levels never go down), as in the query pack.
    hours = "dateDiff('second', opened_at, assumeNotNull(resolved_at)) / 3600"
    rows = writer.query(
        f"SELECT toUInt8(level) AS lv, {_bucket_sql(hours, RESOLVE_BUCKETS)} AS b, count() "
        f"FROM {writer.database}.incidents_latest WHERE {MATTERS} AND resolved_at IS NOT NULL GROUP BY lv, b"
    ).rows
    return _per_level(rows, len(RESOLVE_BUCKETS))


def _county_village_share(writer: Writer) -> list[tuple[str, str, float, int]]:
    # Settled as in share_settled_village.sql: latest status resolved or closed.
    rows = writer.query(
        f"SELECT CAST(county_code AS String) AS c, count(), countIf(toUInt8(level) <= 2) "
        f"FROM {writer.database}.incidents_latest WHERE status IN ('resolved', 'closed') "
        "GROUP BY c ORDER BY c"
    ).rows
    geo = geography()
    return [
        (str(code), geo.unit(str(code)).name, round(_int(low) / _int(n), 4), _int(n))
        for code, n, low in rows
        if _int(n)
    ]


def _hotspots(writer: Writer, top: int = 10) -> list[tuple[str, float]]:
    geo, out = geography(), []
    for row in run_query(writer, "repeat_dispute_hotspots_named").dicts()[:top]:
        grid = geo.unit(str(row["grid_code"])).name
        label = f"{grid} · {row['township_name']} · {row['county_name']} · {row['category_name']}"
        out.append((label, float(_int(row["repeat_escalations"]))))
    return out


def _backlog(writer: Writer) -> dict[int, list[int]]:
    # Ages are taken at the store's last event time (never the wall clock), so a finished run reads the same.
    db = writer.database
    end = _int(writer.query(f"SELECT toUInt32(max(at)) FROM {db}.transitions_distinct").scalar())
    hours = f"({end} - toUInt32(opened_at)) / 3600"
    rows = writer.query(
        f"SELECT toUInt8(level) AS lv, {_bucket_sql(hours, AGE_BUCKETS)} AS b, count() "
        f"FROM {db}.incidents_latest WHERE status IN ('open', 'in_progress') GROUP BY lv, b"
    ).rows
    return _per_level(rows, len(AGE_BUCKETS))


def _period(writer: Writer) -> tuple[str, str] | None:
    first, last = writer.query(
        f"SELECT toString(min(opened_at)), toString(max(opened_at)), count() "
        f"FROM {writer.database}.incidents_latest"
    ).rows[0][:2]
    if not first or str(first).startswith("1970") or str(first).startswith("0000"):
        return None
    return str(first)[:16], str(last)[:16]


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.2f}%"


def summary_rows(summary: Summary) -> list[tuple[str, str]]:
    """The summary as (label, value) pairs, in the order they are printed and shown in the report."""
    rows = [
        ("intake events", f"{summary.intake_events:,}"),
        ("incidents (matters)", f"{summary.incidents:,}"),
        ("transitions", f"{summary.transitions:,}"),
        ("settled", f"{summary.settled:,}"),
        ("小事不出村 settled at grid/village", _pct(summary.settled_at_village)),
        ("大事不出镇 settled at or below township", _pct(summary.settled_at_township)),
        ("上交率 pushed up to county/city", _pct(summary.push_up_rate)),
        ("at county/city (any route)", _pct(summary.county_city_share)),
        ("escalations to county (L4)", f"{summary.escalated_to_county:,}"),
        ("escalations to city (L5)", f"{summary.escalated_to_city:,}"),
        ("reopen rate", _pct(summary.reopen_rate)),
        ("verification tasks overdue", f"{summary.verification_overdue:,}"),
        ("多元化解 disputes settled by mediation", f"{summary.mediated:,}"),
        ("disputes judged by a court (诉调对接)", f"{summary.litigated:,}"),
        ("disputes settled by arbitration", f"{summary.arbitrated:,}"),
        ("mediation share (司法一元 → 社会多元)", _pct(summary.mediation_share)),
    ]
    rows += [(f"transitions for {reason}", f"{n:,}") for reason, n in summary.escalation_reasons.items()]
    rows += [
        (f"SLA compliance L{lv} {Level(lv).name.lower()}", _pct(v))
        for lv, v in summary.sla_compliance.items()
    ]
    return rows


def format_summary(summary: Summary) -> list[str]:
    """The analyst summary as aligned text lines, the way ``gridflow demo`` prints it."""
    rows = summary_rows(summary)
    # Pad by display width, not by characters: a Chinese character takes two terminal cells.
    return ["analyst summary (Fengqiao KPIs, from the store)"] + [
        f"  {label}{' ' * max(0, 40 - cell_len(label))}  {value}" for label, value in rows
    ]
