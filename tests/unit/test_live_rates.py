"""The live panel's per-second rates follow totals that rise in steps (offsets committed every few s)."""

from __future__ import annotations

from collections import deque

from gridflow.demo.rates import Sample, window_rates


def test_a_total_committed_every_three_seconds_has_a_steady_rate() -> None:
    history: deque[Sample] = deque()
    rates = []
    for second in range(30):
        processed = (second // 3) * 300  # +300 every third second, flat in between
        history.append((float(second), second * 100, processed, processed))
        rates.append(window_rates(history))

    later = [r["processed"] for r in rates[12:]]
    assert all(80 <= rate <= 120 for rate in later), later
    assert rates[-1]["produced"] == 100
    assert len(history) <= 12  # older samples are dropped


def test_one_sample_has_no_rate() -> None:
    assert window_rates(deque([(5.0, 10, 10, 10)])) == {}
