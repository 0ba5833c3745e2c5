"""The what-if report in headless Chromium: both policies' series render side by side, offline.

Two real offline runs (six simulated hours, the bundled policy and the same with a grid SLA of 2 h), a
report with a sweep of the grid SLA, a ``file://`` screenshot with networking off, and the PNG decoded with
the report test's decoder: the base policy's bars (blue) and the alternative's (orange) both show in the
funnel and SLA charts, and the sweep's charts draw their columns.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from test_report_screenshot import CHROMIUM, _png_rgb, _rgb

from gridflow.demo.svg import PALETTE
from gridflow.whatif.cli import named_differences
from gridflow.whatif.offline import Load, Run, run_one
from gridflow.whatif.policies import parse_named, variant
from gridflow.whatif.report import write_whatif_report
from producers.handlers import load_handlers
from schemas.policy import POLICY_FILE

WIDTH, HEIGHT = 1280, 2400


def test_whatif_report_renders_both_policies_in_headless_chromium(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail("chromium is not installed: `apt-get install chromium` (.ci/run installs it)")
    base = parse_named(f"base={POLICY_FILE}")
    with tempfile.TemporaryDirectory() as tmp:
        named = [base, *(variant(base, "sla.grid", v, Path(tmp)) for v in ("2h", "8h"))]
    load = Load(scenario="normal_day", duration=timedelta(hours=6), seed=1, scale=0.5)
    outcomes = [run_one(Run(p.name, p.policy, load, base.policy, load_handlers(), 1)) for p in named]
    report = write_whatif_report(
        outcomes, named_differences(named), tmp_path / "whatif.html", "sla.grid=2h,8h", "screenshot test"
    )
    html = report.read_text(encoding="utf-8")
    assert "Incidents whose outcome differs" in html and "E-SLA-001" in html

    png = tmp_path / "whatif.png"
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
    counts = dict.fromkeys(PALETTE[:4], 0)
    targets = {colour: _rgb(colour) for colour in counts}
    for row in rows[::2]:
        for x in range(0, width * 3, 6):
            pixel = (row[x], row[x + 1], row[x + 2])
            for colour, target in targets.items():
                if all(abs(pixel[i] - target[i]) <= 6 for i in range(3)):
                    counts[colour] += 1
    # Blue: the base policy's series; orange: the first alternative's; green: the second's and a sweep chart.
    for colour in PALETTE[:3]:
        assert counts[colour] > 200, f"bars in {colour} missing: {counts}"
    (Path(tempfile.gettempdir()) / "gridflow-whatif-screenshot.png").write_bytes(png.read_bytes())
