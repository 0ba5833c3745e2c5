"""Pacing: when each record may leave, from a simulated-time speed factor and a target rate.

``speed`` maps simulated time to wall time (speed=60 sends one simulated minute per wall second; 0 means
no time-based pacing) and ``rate`` caps messages per second (None or 0: no cap). With both, a record
waits for the later of the two deadlines. Deadlines are absolute offsets from the first record, so
sleep overshoot never accumulates: a late send is followed by sends without waiting until the schedule
is met again, which is what keeps the achieved rate within a fraction of a percent of the target.

The clock and sleep are injected so the schedule can be tested without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

# Waits shorter than this are skipped: sleeping costs more than it saves and the schedule catches up.
_MIN_SLEEP_S = 0.0005


class Pacer:
    """Blocks in :meth:`wait` until the next record is due."""

    def __init__(
        self,
        speed: float = 0.0,
        rate: float | None = None,
        clock: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if speed < 0:
            raise ValueError(f"speed must be >= 0, got {speed}")
        if rate is not None and rate < 0:
            raise ValueError(f"rate must be >= 0, got {rate}")
        self.speed = speed
        self.rate = rate or None
        self._clock = clock
        self._sleep = sleep
        self._wall0: float | None = None
        self._sim0: datetime | None = None
        self._sent = 0

    @property
    def unpaced(self) -> bool:
        return self.speed == 0 and self.rate is None

    def due(self, emit_at: datetime) -> float:
        """The wall-clock deadline (``clock()`` units) of the next record, which is sent at ``emit_at``."""
        if self._wall0 is None or self._sim0 is None:
            self._wall0, self._sim0 = self._clock(), emit_at
        deadline = self._wall0
        if self.speed > 0:
            # Records an overlay held back may be earlier than the first one; they are simply not delayed.
            deadline = max(deadline, self._wall0 + (emit_at - self._sim0).total_seconds() / self.speed)
        if self.rate is not None:
            deadline = max(deadline, self._wall0 + self._sent / self.rate)
        self._sent += 1
        return deadline

    def wait(self, emit_at: datetime) -> None:
        """Sleep until the record with ``emit_at`` may be sent."""
        if self.unpaced:
            return
        delay = self.due(emit_at) - self._clock()
        if delay > _MIN_SLEEP_S:
            self._sleep(delay)
