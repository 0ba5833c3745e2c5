"""Bad CLI arguments end as one line naming the value and what was expected, exit status 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["bogus"], "No such command 'bogus'"),
        (["worker", "--workers", "0"], "--workers 0: expected a whole number >= 1"),
        (["worker", "--loglevel", "loud"], "--loglevel 'loud'"),
        (["simulate", "--rate", "-1"], "--rate -1.0: expected a number >= 0"),
        (["simulate", "--scenario", "flood_of_the_century"], "flood_of_the_century"),
        (["simulate", "--policy", "/nonexistent/policy.toml"], "cannot read"),
        (["worker", "--policy", "/nonexistent/policy.toml"], "cannot read"),
        (["whatif", "--policy", "alt"], "cannot read"),
        (["whatif", "--handlers", "psychic"], "--handlers 'psychic': expected one of reactive, scripted"),
        (["whatif", "--sweep", "sla.grid"], "--sweep 'sla.grid': expected KEY=V1,V2"),
    ],
)
def test_bad_argument_is_one_line(args: list[str], expected: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gridflow.cli", *args], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 2
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_an_invalid_policy_file_is_one_line_naming_key_value_and_expectation(tmp_path: Path) -> None:
    from schemas.policy import POLICY_FILE

    bad = tmp_path / "bad.toml"
    text = POLICY_FILE.read_text(encoding="utf-8").replace(
        "camera_verify_below = 0.6", "camera_verify_below = 1.6"
    )
    bad.write_text(text, encoding="utf-8")
    for args in (["simulate", "--dry-run", "--duration", "1m"], ["whatif", "--duration", "1m"]):
        flag = ["--policy", str(bad)] if args[0] == "simulate" else ["--policy", f"alt={bad}"]
        result = subprocess.run(
            [sys.executable, "-m", "gridflow.cli", *args, *flag],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2
        line = result.stderr.strip()
        assert len(line.splitlines()) == 1, line
        assert "camera_verify_below" in line and "1.6" in line and "less than or equal to 1" in line, line
