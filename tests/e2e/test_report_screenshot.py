"""The HTML report in headless Chromium (Debian's ``chromium``): every chart renders, offline.

The report is rendered from known figures (the demo test covers figures read from a real store), opened as a
``file://`` page with networking off, screenshotted, and the PNG decoded here with zlib (no imaging
library needed). Each chart draws its bars in its own colour, so the check is per chart: enough pixels of
that colour, inside the area below the KPI table where the charts sit.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from gridflow.demo.figures import Figures, Summary
from gridflow.demo.report import write_report
from gridflow.demo.svg import PALETTE

CHROMIUM = "/usr/bin/chromium"
CATEGORY_LABELS = [
    "婚姻家庭纠纷 Marriage and family dispute",
    "群体性信访 Collective petition",
    "相邻关系纠纷 Neighbour dispute",
    *(f"category {i}" for i in range(9)),
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
WIDTH, HEIGHT = 1280, 2000


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
    )


def _png_rgb(data: bytes) -> tuple[int, int, list[bytes]]:
    """Rows of RGB(A) bytes from an 8-bit truecolour PNG: chunks, inflate, then undo the row filters."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6), f"unexpected PNG format depth {depth} colour {colour}"
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, rows = zlib.decompress(idat), width * channels, []
    prior = bytearray(stride)
    for y in range(height):
        filt, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        if filt == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 0xFF
        elif filt == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prior, strict=True))
        elif filt == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + prior[i]) >> 1)) & 0xFF
        elif filt == 4:
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b, c = prior[i], prior[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line) if channels == 3 else bytes(v for i, v in enumerate(line) if i % 4 != 3))
        prior = line
    return width, height, rows


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


def test_report_charts_render_in_headless_chromium(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail("chromium is not installed: `apt-get install chromium` (.ci/run installs it)")
    report = write_report(_figures(), tmp_path / "report.html", note="screenshot test")
    png = tmp_path / "report.png"
    command = [
        CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium")),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={png}",
        f"--window-size={WIDTH},{HEIGHT}",
        report.as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert png.exists(), f"no screenshot (exit {result.returncode}): {result.stderr[-2000:]}"
    width, height, rows = _png_rgb(png.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)

    # The KPI table takes the top ~480 px; the charts sit below it, two columns wide.
    chart_rows = rows[480:]
    counts = dict.fromkeys(PALETTE[:6], 0)
    targets = {colour: _rgb(colour) for colour in counts}
    non_white_left = non_white_right = 0
    for row in chart_rows[::2]:
        for x in range(0, width * 3, 6):
            pixel = (row[x], row[x + 1], row[x + 2])
            if pixel != (255, 255, 255):
                if x < width * 3 // 2:
                    non_white_left += 1
                else:
                    non_white_right += 1
            for colour, target in targets.items():
                if all(abs(pixel[i] - target[i]) <= 6 for i in range(3)):
                    counts[colour] += 1
    # County (blue), category (orange), SLA (green), shares (purple), hours (teal) and the funnel's series.
    for colour in (PALETTE[0], PALETTE[1], PALETTE[2], PALETTE[3], PALETTE[5]):
        assert counts[colour] > 200, f"chart bars in {colour} missing: {counts}"
    assert non_white_left > 5000 and non_white_right > 5000, (non_white_left, non_white_right)


def test_no_label_is_clipped_text_boxes_lie_inside_their_svg(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail("chromium is not installed: `apt-get install chromium` (.ci/run installs it)")
    report = write_report(_figures(), tmp_path / "report.html", note="bbox test")
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text(encoding="utf-8").replace("</body>", BBOX_SCRIPT + "</body>"), "utf-8")
    command = [
        CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium")),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--dump-dom",
        probe.as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    found = re.search(r"CHECKED (\d+) CLIPPED\[(.*?)\]", result.stdout, re.S)

    assert found is not None, result.stderr[-2000:]
    assert int(found.group(1)) > 50  # every chart's labels and values were measured
    assert found.group(2) == "", found.group(2)
