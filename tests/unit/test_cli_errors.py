"""Bad CLI arguments end as one line naming the value and what was expected, exit status 2, no traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["bogus"], "No such command 'bogus'"),
        (["worker", "--workers", "0"], "--workers 0: expected a whole number >= 1"),
        (["worker", "--loglevel", "loud"], "--loglevel 'loud'"),
        (["simulate", "--rate", "-1"], "--rate -1.0: expected a number >= 0"),
        (["simulate", "--scenario", "flood_of_the_century"], "flood_of_the_century"),
    ],
)
def test_bad_argument_is_one_line(args: list[str], expected: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gridflow.cli", *args], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 2
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
