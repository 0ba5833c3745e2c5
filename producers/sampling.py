"""Seeded sampling helpers: weighted choice and time-varying Poisson arrivals.

Arrivals are a non-homogeneous Poisson process drawn by thinning (Lewis–Shedler): candidates at the peak
rate, each kept with probability rate(t)/peak. Times are integer milliseconds from the simulation start, so
ordering and ties never depend on float rounding. Everything draws from the ``random.Random`` passed in.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")

MS_PER_HOUR = 3_600_000


class WeightedChoice(Generic[T]):
    """Pick items with probability proportional to their weight (O(log n) per pick, by bisection)."""

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        pairs = [(item, w) for item, w in zip(items, weights, strict=True) if w > 0]
        if not pairs:
            raise ValueError("WeightedChoice needs at least one positive weight")
        self.items: tuple[T, ...] = tuple(item for item, _ in pairs)
        self._cumulative = list(itertools.accumulate(w for _, w in pairs))
        self.total = self._cumulative[-1]

    def pick(self, rng: random.Random) -> T:
        index = bisect.bisect_right(self._cumulative, rng.random() * self.total)
        return self.items[min(index, len(self.items) - 1)]

    def share(self, item: T) -> float:
        """The probability of ``item`` (0 if absent)."""
        previous = 0.0
        total = 0.0
        for candidate, cumulative in zip(self.items, self._cumulative, strict=True):
            if candidate == item:
                total += cumulative - previous
            previous = cumulative
        return total / self.total


def arrivals(
    rng: random.Random,
    per_hour_peak: float,
    intensity: Callable[[int], float],
    begin_ms: int,
    end_ms: int,
) -> Iterator[int]:
    """Arrival times in ``[begin_ms, end_ms)`` at ``per_hour_peak × intensity(t)`` per hour.

    ``intensity`` must stay within 0..1 (it is the thinning acceptance probability).
    """
    if per_hour_peak <= 0 or end_ms <= begin_ms:
        return
    mean_gap_ms = MS_PER_HOUR / per_hour_peak
    t = float(begin_ms)
    while True:
        # expovariate with the mean gap; 1 - random() avoids log(0).
        t += -math.log(1.0 - rng.random()) * mean_gap_ms
        if t >= end_ms:
            return
        at = int(t)
        if rng.random() < intensity(at):
            yield at
