"""The live panel's per-second rates follow totals that rise in steps (offsets committed every few s)."""

from __future__ import annotations

from collections import deque

from gridflow.demo.rates import Rates, Sample, WorstLag, seconds_behind, window_rates


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


def test_lag_is_told_in_seconds_of_input() -> None:
    assert seconds_behind(Rates(stream_lag=1_500, per_second={"produced": 500.0})) == 3.0
    # No input arriving: a count of messages has no duration.
    assert seconds_behind(Rates(stream_lag=1_500, per_second={"produced": 0.0})) is None
    assert seconds_behind(Rates(stream_lag=1_500)) is None


def test_the_worst_lag_keeps_the_largest_of_each_and_ignores_samples_without_input() -> None:
    worst = WorstLag()
    worst.note(Rates(stream_lag=900, per_second={"produced": 300.0}))  # 3 s
    worst.note(Rates(stream_lag=1_000, per_second={"produced": 1_000.0}))  # 1 s, more messages
    worst.note(Rates(stream_lag=50_000))  # draining: no rate, not counted
    assert (worst.messages, worst.seconds) == (1_000, 3.0)
