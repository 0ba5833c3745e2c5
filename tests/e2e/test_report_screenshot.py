"""The HTML report in headless Chromium (Debian's ``chromium``): every chart renders, offline.

The report is rendered from known figures (the demo test covers figures read from a real store), opened as a
``file://`` page with networking off, screenshotted, and the PNG decoded (tests/e2e/headless.py). Each
chart draws its bars in its own colour, so the check is per chart: enough pixels of that colour, inside the
area below the KPI table where the charts sit; the county map's darkest county shows in the map's shade.
"""

from __future__ import annotations

import re
from pathlib import Path

from headless import colour_counts, dump_dom, screenshot

from gridflow.demo.county_map import shade
from gridflow.demo.figures import Figures, Summary
from gridflow.demo.report import write_report
from gridflow.demo.svg import PALETTE, RAMP

CATEGORY_LABELS = [
    "婚姻家庭纠纷 Marriage and family dispute",
    "群体性信访 Collective petition",
    "相邻关系纠纷 Neighbour dispute",
    *(f"category {i}" for i in range(9)),
]
COUNTY_CODES = ["150802", "150821", "150822", "150823", "150824", "150825", "150826"]
# The longest names the geography has, so the hotspot labels are as long as a real store's.
HOTSPOT_LABELS = [
    "乌力吉嘎查第10网格 · 额尔登布拉格苏木 · 乌拉特中旗 · 土地承包经营纠纷",
    "花园社区第1网格 · 车站街道 · 临河区 · 相邻关系纠纷",
    *(f"幸福村第{i}网格 · 西小召镇 · 乌拉特前旗 · 土地承包经营纠纷" for i in range(1, 9)),
]
# Appended to a copy of the report: every <text>'s box against its <svg>'s viewBox, written into the page.
BBOX_SCRIPT = """<script>
const out = []; let checked = 0;
document.querySelectorAll('svg').forEach((svg, i) => {
  const v = svg.viewBox.baseVal;
  svg.querySelectorAll('text').forEach(t => {
    checked += 1;
    const b = t.getBBox();
    if (b.width <= 0 || b.x < v.x - 0.5 || b.x + b.width > v.x + v.width + 0.5
        || b.y < v.y - 0.5 || b.y + b.height > v.y + v.height + 0.5) {
      out.push(i + ' ' + t.textContent + ' ' + [b.x, b.y, b.width].map(n => n.toFixed(1)).join(','));
    }
  });
});
const pre = document.createElement('pre');
pre.textContent = 'CHECKED ' + checked + ' CLIPPED[' + out.join(' | ') + ']';
document.body.appendChild(pre);
</script>"""
WIDTH, HEIGHT = 1280, 3400


def _figures() -> Figures:
    summary = Summary(
        intake_events=80_000,
        incidents=16_000,
        transitions=40_000,
        settled=9_000,
        settled_at_village=0.81,
        settled_at_township=0.93,
        push_up_rate=0.07,
        county_city_share=0.15,
        reopen_rate=0.03,
        escalated_to_county=600,
        escalated_to_city=300,
        sla_compliance={1: 0.97, 2: 0.95, 3: 0.9, 4: 0.85, 5: 0.4},
    )
    counties = ["临河区", "五原县", "磴口县", "乌拉特前旗", "乌拉特中旗", "乌拉特后旗", "杭锦后旗"]
    return Figures(
        summary=summary,
        by_county=[(name, float(100 + 40 * i)) for i, name in enumerate(counties)],
        # Long Chinese labels: the issue saw 婚姻家庭纠纷 drawn as 姻家庭纠纷 (cut at the left edge).
        by_category=[(label, float(300 - 20 * i)) for i, label in enumerate(CATEGORY_LABELS)],
        by_hour=[(f"{h:02d}", float(50 + (h * 37) % 200)) for h in range(24)],
        funnel=[
            ("grid", 9000, 900, 5000),
            ("village", 5000, 500, 2300),
            ("township", 2000, 300, 1100),
            ("county", 900, 150, 500),
            ("city", 300, 0, 100),
        ],
        database="screenshot",
        camera_precision=[("fight", 0.62), ("crowd_gathering", 0.91), ("fire_smoke", 0.4)],
        time_to_resolve={
            1: [900, 3100, 800, 120, 10, 0, 0],
            2: [200, 900, 1300, 300, 40, 5, 0],
            3: [20, 150, 600, 400, 80, 10, 2],
            4: [0, 10, 90, 200, 150, 40, 8],
            5: [0, 0, 5, 20, 40, 30, 12],
        },
        county_village_share=[
            (code, name, share, 900 + 300 * i)
            for i, (code, name, share) in enumerate(
                zip(COUNTY_CODES, counties, (0.91, 0.84, 0.78, 0.88, 0.72, 0.69, 0.86), strict=True)
            )
        ],
        backlog={
            1: [120, 80, 10, 0, 0],
            2: [60, 70, 30, 4, 0],
            3: [10, 30, 40, 12, 2],
            4: [2, 8, 20, 25, 9],
            5: [0, 1, 3, 6, 5],
        },
        hotspots=[(label, float(10 - i)) for i, label in enumerate(HOTSPOT_LABELS)],
    )


def test_report_charts_render_in_headless_chromium(tmp_path: Path) -> None:
    report = write_report(_figures(), tmp_path / "report.html", note="screenshot test")
    png = tmp_path / "report.png"

    width, height, rows = screenshot(report, png, WIDTH, HEIGHT)

    assert (width, height) == (WIDTH, HEIGHT)
    # The KPI table takes the top ~480 px; the charts sit below it, two columns wide.
    chart_rows = rows[480:]
    map_dark = shade(0.91, 0.69, 0.91)
    colours = [*PALETTE[:6], RAMP[1], RAMP[5], map_dark]
    counts = colour_counts(chart_rows, width, colours)
    non_white_left = non_white_right = 0
    for row in chart_rows[::2]:
        for x in range(0, width * 3, 6):
            if (row[x], row[x + 1], row[x + 2]) != (255, 255, 255):
                if x < width * 3 // 2:
                    non_white_left += 1
                else:
                    non_white_right += 1
    # County (blue), category (orange), SLA (green), shares (purple), hours (teal) and the funnel's series;
    # hotspots (pink); time to resolve and backlog (the ramp); the map's darkest county (临河区, 91 %).
    for colour in (*PALETTE[:6], RAMP[1], RAMP[5]):
        assert counts[colour] > 200, f"chart bars in {colour} missing: {counts}"
    assert counts[map_dark] > 100, f"the map's darkest county is missing: {counts}"
    assert non_white_left > 5000 and non_white_right > 5000, (non_white_left, non_white_right)
    (tmp_path.parent / "gridflow-report-screenshot.png").write_bytes(png.read_bytes())  # to look at


def test_no_label_is_clipped_text_boxes_lie_inside_their_svg(tmp_path: Path) -> None:
    report = write_report(_figures(), tmp_path / "report.html", note="bbox test")
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text(encoding="utf-8").replace("</body>", BBOX_SCRIPT + "</body>"), "utf-8")

    result = dump_dom(probe, tmp_path / "profile")
    found = re.search(r"CHECKED (\d+) CLIPPED\[(.*?)\]", result.stdout, re.S)

    assert found is not None, result.stderr[-2000:]
    assert int(found.group(1)) > 150  # every chart's labels and values were measured, the new ones too
    assert found.group(2) == "", found.group(2)
