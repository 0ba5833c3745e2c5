"""Retrying ClickHouse calls through an outage: capped exponential backoff that a stop request interrupts.

Only :class:`~sinks.errors.ClickHouseUnavailable` is retried; a refusal
(:class:`~sinks.errors.ClickHouseRejected`) propagates at once, since retrying cannot change the answer.
While a call is being retried the sink neither polls Kafka nor commits, so the offsets stay where the last
successful insert left them and nothing is lost however long the outage lasts.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sinks.errors import ClickHouseUnavailable, SinkError


class Stopped(SinkError):
    """Stop requested while ClickHouse was unavailable: the batch is abandoned, its offsets not committed."""


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays between attempts: ``first`` seconds, doubling up to ``cap``; ``wake`` cuts a wait short."""

    first: float = 0.2
    cap: float = 5.0
    wake: threading.Event | None = None

    def delays(self) -> Callable[[int], float]:
        return lambda attempt: min(self.cap, self.first * (2 ** min(attempt, 30)))

    def wait(self, seconds: float) -> None:
        if self.wake is not None:
            self.wake.wait(seconds)
        else:
            threading.Event().wait(seconds)


def retry_unavailable(call: Callable[[], object], backoff: Backoff, should_stop: Callable[[], bool]) -> int:
    """Run ``call`` until it does not raise ClickHouseUnavailable; returns how many attempts failed.

    Raises :class:`Stopped` when ``should_stop()`` turns true between attempts.
    """
    delay = backoff.delays()
    failures = 0
    while True:
        try:
            call()
            return failures
        except ClickHouseUnavailable as e:
            if should_stop():
                raise Stopped(f"stopped while ClickHouse was unavailable ({e}); offsets not committed") from e
            wait = delay(failures)
            if failures == 0 or wait >= backoff.cap:
                # One line at the start of an outage and then at every capped retry, not a line per attempt.
                print(f"gridflow sink: {e}; retrying in {wait:.1f} s", file=sys.stderr, flush=True)
            failures += 1
            backoff.wait(wait)
            if should_stop():
                raise Stopped(f"stopped while ClickHouse was unavailable ({e}); offsets not committed") from e
