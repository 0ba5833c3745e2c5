"""The what-if report in headless Chromium: both policies' series render side by side, offline.

Two real offline runs (six simulated hours, the bundled policy and the same with a grid SLA of 2 h), a
report with a sweep of the grid SLA, a ``file://`` screenshot with networking off, and the PNG decoded by
tests/e2e/headless.py: the base policy's bars (blue) and the alternative's (orange) both show in the funnel
and SLA charts, and the sweep's charts draw their columns.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from headless import colour_counts, screenshot

from gridflow.demo.svg import PALETTE
from gridflow.whatif.cli import named_differences
from gridflow.whatif.offline import Load, Run, run_one
from gridflow.whatif.policies import parse_named, variant
from gridflow.whatif.report import write_whatif_report
from producers.handlers import load_handlers
from schemas.policy import POLICY_FILE

WIDTH, HEIGHT = 1280, 2400


def test_whatif_report_renders_both_policies_in_headless_chromium(tmp_path: Path) -> None:
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
    width, height, rows = screenshot(report, png, WIDTH, HEIGHT)
    assert (width, height) == (WIDTH, HEIGHT)
    counts = colour_counts(rows, width, list(PALETTE[:4]))
    # Blue: the base policy's series; orange: the first alternative's; green: the second's and a sweep chart.
    for colour in PALETTE[:3]:
        assert counts[colour] > 200, f"bars in {colour} missing: {counts}"
    (Path(tempfile.gettempdir()) / "gridflow-whatif-screenshot.png").write_bytes(png.read_bytes())
